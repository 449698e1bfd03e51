#include "io/udp_send_queue.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "io/sockaddr.hpp"

namespace ivs::io {

UdpSendQueue::UdpSendQueue(std::size_t capacity, std::size_t slot_bytes, bool ipv6_socket)
    : capacity_(std::max<std::size_t>(capacity, 1)),
      slot_bytes_(slot_bytes),
      ipv6_socket_(ipv6_socket),
      slot_pages_(capacity_ * sizeof(Slot)),
      payload_pages_(capacity_ * slot_bytes) {
  static_assert(std::is_trivially_copyable_v<Slot> && std::is_trivially_destructible_v<Slot>);
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
  return MutableByteSpan(payload((head_ + size_) % capacity_), slot_bytes_);
}

UdpSendQueue::PushResult UdpSendQueue::commit(const SocketAddress& destination, std::size_t size) {
  if (size > slot_bytes_) {
    return PushResult::kTooLarge;
  }
  if (size_ == capacity_) {
    return PushResult::kFull;
  }
  const std::size_t index = (head_ + size_) % capacity_;
  Slot& target = slot(index);
  target.destination_length = to_sockaddr(destination, ipv6_socket_, target.destination);
  if (target.destination_length == 0) {
    return PushResult::kUnsupportedAddress;
  }
  target.payload.iov_base = payload(index);
  target.payload.iov_len = size;
  ++size_;
  touched_ = std::max(touched_, index + 1);
  window_depth_ = std::max(window_depth_, index + 1);
  return PushResult::kQueued;
}

std::size_t UdpSendQueue::fill(std::span<mmsghdr> messages) {
  const std::size_t count = std::min(size_, messages.size());
  for (std::size_t i = 0; i < count; ++i) {
    Slot& queued = slot((head_ + i) % capacity_);
    msghdr& header = messages[i].msg_hdr;
    header = msghdr{};
    header.msg_name = &queued.destination;
    header.msg_namelen = queued.destination_length;
    header.msg_iov = &queued.payload;
    header.msg_iovlen = 1;
    messages[i].msg_len = 0;
  }
  return count;
}

std::size_t UdpSendQueue::pop(std::size_t count) {
  count = std::min(count, size_);
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < count; ++i) {
    bytes += slot((head_ + i) % capacity_).payload.iov_len;
  }
  head_ = (head_ + count) % capacity_;
  size_ -= count;
  if (size_ == 0 && count > 0) {
    on_drained();
  }
  return bytes;
}

void UdpSendQueue::on_drained() {
  // Start over at slot 0, so steady traffic keeps reusing the same few resident pages.
  head_ = 0;
  if (++window_drains_ < kReleaseWindow) {
    return;
  }
  if (touched_ > window_depth_ + kReleaseSlack) {
    slot_pages_.release_from(window_depth_ * sizeof(Slot));
    payload_pages_.release_from(window_depth_ * slot_bytes_);
    touched_ = window_depth_;
  }
  window_drains_ = 0;
  window_depth_ = 0;
}

}  // namespace ivs::io
