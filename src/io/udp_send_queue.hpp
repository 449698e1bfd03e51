// The UDP port's outgoing datagram queue: a fixed ring of preallocated slots that sendmmsg(2)
// reads straight from.
//
// Why a ring of fixed slots: the media path sends every packet to many destinations, so a
// send must not allocate. Each slot owns its payload bytes, its destination sockaddr and the
// iovec pointing at them, all set up once; push() is two memcpys, and fill() only points the
// mmsghdr array at slots that are already complete.
//
// Memory: the slots come from a pool (udp_send_slot_pool.hpp) that every port of a thread can
// share: a media worker passes its pool to each egress port, so the resident slot pages follow
// what the worker has queued at once, not each port's deepest recent burst. A port given no pool
// gets a private one of its own capacity. The queue itself is a ring of 4-byte slot numbers in
// anonymous pages; it restarts at position 0 whenever it drains, so a port flushed every turn
// touches only the first page of it. A datagram holds its slot from commit() until pop().
//
// Overflow policy: drop-new. When the queue or the pool is full, push() refuses the datagram and
// the caller counts it. The queued datagrams are older and already committed (a DTLS flight, the
// start of a keyframe the receiver is assembling); dropping from the tail loses the same amount of
// data as dropping the head but keeps what was queued in order, and matches what the kernel itself
// does when a socket buffer is full.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "io/anonymous_pages.hpp"
#include "io/udp_send_slot_pool.hpp"
#include "proto/bytes.hpp"
#include "proto/socket_address.hpp"

namespace ivs::io {

class UdpSendQueue {
 public:
  enum class PushResult { kQueued, kFull, kTooLarge, kUnsupportedAddress };

  // At most `capacity` datagrams of at most `slot_bytes` each (less when `pool`'s slots are
  // smaller), their slots taken from `pool`, or from a private pool of `capacity` slots when it
  // is null; `ipv6_socket` selects how destinations are encoded (IPv4 destinations become
  // IPv4-mapped on an IPv6 socket).
  UdpSendQueue(std::size_t capacity, std::size_t slot_bytes, bool ipv6_socket,
               std::shared_ptr<UdpSendSlotPool> pool = nullptr);
  ~UdpSendQueue();
  UdpSendQueue(const UdpSendQueue&) = delete;
  UdpSendQueue& operator=(const UdpSendQueue&) = delete;

  PushResult push(const SocketAddress& destination, ByteSpan bytes);

  // push() without the copy, for a caller that can write the datagram in place (the fan-out
  // path encrypts straight into the slot): next_slot() is the writable payload of the slot the
  // next datagram goes to (slot_bytes() long; empty when the queue or the pool is full), and
  // commit() queues
  // the first `size` bytes written there. Nothing is queued until commit().
  MutableByteSpan next_slot();
  PushResult commit(const SocketAddress& destination, std::size_t size);

  // Points messages[0..n) at the oldest n queued datagrams (n = min(size, messages.size()))
  // and returns n. The slots stay queued until pop().
  std::size_t fill(std::span<mmsghdr> messages);

  // The UDP GSO form of fill (UDP_SEGMENT, Linux 4.18; see udp_segmentation.hpp): consecutive
  // queued datagrams to the same destination whose sizes are equal, the last of a run possibly
  // shorter, share one message of up to `max_segments` segments and 65,000 bytes. Each message's
  // iovecs, control block and segment count go in `scratch`; returns the number of messages.
  struct SegmentScratch {
    std::vector<iovec> iovecs;            // all messages' segments, in queue order
    std::vector<std::uint8_t> control;    // one CMSG_SPACE(uint16_t) block per message
    std::vector<std::uint16_t> segments;  // datagrams per message
  };
  std::size_t fill_segmented(std::span<mmsghdr> messages, std::size_t max_segments,
                             SegmentScratch& scratch);

  // Removes the oldest `count` datagrams and returns how many payload bytes they held.
  std::size_t pop(std::size_t count);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t capacity() const { return capacity_; }
  std::size_t slot_bytes() const { return slot_bytes_; }

 private:
  using Slot = UdpSendSlotPool::Slot;
  // The pool slot of the datagram at queue position `position` (0 = the oldest).
  std::uint32_t& queued(std::size_t position) {
    return reinterpret_cast<std::uint32_t*>(order_.data())[(head_ + position) % capacity_];
  }
  Slot& slot_at(std::size_t position) { return pool_->slot(queued(position)); }

  std::size_t capacity_;
  std::size_t slot_bytes_;
  bool ipv6_socket_;
  std::shared_ptr<UdpSendSlotPool> pool_;
  AnonymousPages order_;  // capacity_ slot numbers, a ring from head_
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  // The slot next_slot() handed out, kept until commit() queues it.
  std::uint32_t pending_ = UdpSendSlotPool::kNone;
};

}  // namespace ivs::io
