#include "io/udp_send_queue.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "io/sockaddr.hpp"

namespace ivs::io {

UdpSendQueue::UdpSendQueue(std::size_t capacity, std::size_t slot_bytes, bool ipv6_socket,
                           std::shared_ptr<UdpSendSlotPool> pool)
    : capacity_(std::max<std::size_t>(capacity, 1)),
      slot_bytes_(pool ? std::min(slot_bytes, pool->slot_bytes()) : slot_bytes),
      ipv6_socket_(ipv6_socket),
      pool_(pool ? std::move(pool) : UdpSendSlotPool::create(capacity_, slot_bytes)),
      order_(capacity_ * sizeof(std::uint32_t)) {}

UdpSendQueue::~UdpSendQueue() {
  pop(size_);
  if (pending_ != UdpSendSlotPool::kNone) {
    pool_->release(pending_);
  }
}

UdpSendQueue::PushResult UdpSendQueue::push(const SocketAddress& destination, ByteSpan bytes) {
  if (bytes.size() > slot_bytes_) {
    return PushResult::kTooLarge;
  }
  const MutableByteSpan target = next_slot();
  if (target.empty()) {
    return PushResult::kFull;
  }
  if (!bytes.empty()) {
    std::memcpy(target.data(), bytes.data(), bytes.size());
  }
  return commit(destination, bytes.size());
}

MutableByteSpan UdpSendQueue::next_slot() {
  if (size_ == capacity_) {
    return {};
  }
  if (pending_ == UdpSendSlotPool::kNone) {
    pending_ = pool_->acquire();
    if (pending_ == UdpSendSlotPool::kNone) {
      return {};
    }
  }
  return MutableByteSpan(pool_->payload(pending_), slot_bytes_);
}

UdpSendQueue::PushResult UdpSendQueue::commit(const SocketAddress& destination, std::size_t size) {
  if (size > slot_bytes_) {
    return PushResult::kTooLarge;
  }
  if (size_ == capacity_ || pending_ == UdpSendSlotPool::kNone) {
    return PushResult::kFull;
  }
  Slot& target = pool_->slot(pending_);
  target.destination_length = to_sockaddr(destination, ipv6_socket_, target.destination);
  if (target.destination_length == 0) {
    return PushResult::kUnsupportedAddress;
  }
  target.payload.iov_base = pool_->payload(pending_);
  target.payload.iov_len = size;
  queued(size_) = pending_;
  pending_ = UdpSendSlotPool::kNone;
  ++size_;
  return PushResult::kQueued;
}

std::size_t UdpSendQueue::fill(std::span<mmsghdr> messages) {
  const std::size_t count = std::min(size_, messages.size());
  for (std::size_t i = 0; i < count; ++i) {
    Slot& datagram = slot_at(i);
    msghdr& header = messages[i].msg_hdr;
    header = msghdr{};
    header.msg_name = &datagram.destination;
    header.msg_namelen = datagram.destination_length;
    header.msg_iov = &datagram.payload;
    header.msg_iovlen = 1;
    messages[i].msg_len = 0;
  }
  return count;
}

std::size_t UdpSendQueue::pop(std::size_t count) {
  count = std::min(count, size_);
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint32_t index = queued(i);
    bytes += pool_->slot(index).payload.iov_len;
    pool_->release(index);
  }
  head_ = (head_ + count) % capacity_;
  size_ -= count;
  if (size_ == 0) {
    head_ = 0;  // start over, so the ring of slot numbers stays on its first page
  }
  return bytes;
}

}  // namespace ivs::io
