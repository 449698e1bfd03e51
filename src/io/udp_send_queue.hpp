// The UDP port's outgoing datagram queue: a fixed ring of preallocated slots that sendmmsg(2)
// reads straight from.
//
// Why a ring of fixed slots: the media path sends every packet to many destinations, so a
// send must not allocate. Each slot owns its payload bytes, its destination sockaddr and the
// iovec pointing at them, all set up once; push() is two memcpys, and fill() only points the
// mmsghdr array at slots that are already complete.
//
// Memory: the slots live in anonymous pages (anonymous_pages.hpp) that only become resident when
// written. The ring restarts at slot 0 whenever it drains, so a port that is flushed every turn
// touches only its first few slots; a burst (a GOP replayed to a new stage) touches more. Every
// kReleaseWindow drains the queue compares how deep it was touched with the deepest it got in
// that window, and gives the pages beyond back when the difference exceeds kReleaseSlack slots:
// after a burst the ring shrinks to what steady traffic uses, while traffic whose depth merely
// varies costs at most one madvise(2) per window, never one per flush. Capacity is then a cap on
// a burst, not a cost per port.
//
// Overflow policy: drop-new. When the ring is full, push() refuses the datagram and the caller
// counts it. The queued datagrams are older and already committed (a DTLS flight, the start of
// a keyframe the receiver is assembling); dropping from the tail loses the same amount of data
// as dropping the head but keeps what was queued in order, and matches what the kernel itself
// does when a socket buffer is full.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "io/anonymous_pages.hpp"
#include "proto/bytes.hpp"
#include "proto/socket_address.hpp"

namespace ivs::io {

class UdpSendQueue {
 public:
  enum class PushResult { kQueued, kFull, kTooLarge, kUnsupportedAddress };

  // `capacity` slots of `slot_bytes` each; `ipv6_socket` selects how destinations are encoded
  // (IPv4 destinations become IPv4-mapped on an IPv6 socket).
  UdpSendQueue(std::size_t capacity, std::size_t slot_bytes, bool ipv6_socket);

  PushResult push(const SocketAddress& destination, ByteSpan bytes);

  // push() without the copy, for a caller that can write the datagram in place (the fan-out
  // path encrypts straight into the slot): next_slot() is the writable payload of the slot the
  // next datagram goes to (slot_bytes() long; empty when the ring is full), and commit() queues
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
  // Slots written since the pages were last given back (at most capacity()).
  std::size_t touched_slots() const { return touched_; }

  static constexpr std::size_t kReleaseWindow = 64;  // drains
  static constexpr std::size_t kReleaseSlack = 8;    // slots

 private:
  // Zero bytes are a valid empty slot, so the untouched pages of the mapping need no
  // construction.
  struct Slot {
    sockaddr_storage destination;
    socklen_t destination_length;
    iovec payload;
  };
  Slot& slot(std::size_t index) { return reinterpret_cast<Slot*>(slot_pages_.data())[index]; }
  std::uint8_t* payload(std::size_t index) { return payload_pages_.data() + index * slot_bytes_; }
  void on_drained();

  std::size_t capacity_;
  std::size_t slot_bytes_;
  bool ipv6_socket_;
  AnonymousPages slot_pages_;
  AnonymousPages payload_pages_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  std::size_t touched_ = 0;       // slots [0, touched_) may be resident
  std::size_t window_depth_ = 0;  // the deepest slot written in this release window, + 1
  std::size_t window_drains_ = 0;
};

}  // namespace ivs::io
