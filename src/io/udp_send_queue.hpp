// The UDP port's outgoing datagram queue: a fixed ring of preallocated slots that sendmmsg(2)
// reads straight from.
//
// Why a ring of fixed slots: the media path sends every packet to many destinations, so a
// send must not allocate. Each slot owns its payload bytes, its destination sockaddr and the
// iovec pointing at them, all set up once; push() is two memcpys, and fill() only points the
// mmsghdr array at slots that are already complete.
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

  // Points messages[0..n) at the oldest n queued datagrams (n = min(size, messages.size()))
  // and returns n. The slots stay queued until pop().
  std::size_t fill(std::span<mmsghdr> messages);

  // Removes the oldest `count` datagrams and returns how many payload bytes they held.
  std::size_t pop(std::size_t count);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t capacity() const { return slots_.size(); }
  std::size_t slot_bytes() const { return slot_bytes_; }

 private:
  struct Slot {
    sockaddr_storage destination{};
    socklen_t destination_length = 0;
    iovec payload{};
  };

  std::size_t slot_bytes_;
  bool ipv6_socket_;
  Bytes storage_;
  std::vector<Slot> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace ivs::io
