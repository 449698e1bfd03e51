#include "io/udp_send_queue.hpp"

#include <algorithm>
#include <cstring>

#include "io/sockaddr.hpp"

namespace ivs::io {

UdpSendQueue::UdpSendQueue(std::size_t capacity, std::size_t slot_bytes, bool ipv6_socket)
    : slot_bytes_(slot_bytes),
      ipv6_socket_(ipv6_socket),
      storage_(std::max<std::size_t>(capacity, 1) * slot_bytes),
      slots_(std::max<std::size_t>(capacity, 1)) {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].payload.iov_base = storage_.data() + i * slot_bytes_;
  }
}

UdpSendQueue::PushResult UdpSendQueue::push(const SocketAddress& destination, ByteSpan bytes) {
  if (bytes.size() > slot_bytes_) {
    return PushResult::kTooLarge;
  }
  if (size_ == slots_.size()) {
    return PushResult::kFull;
  }
  Slot& slot = slots_[(head_ + size_) % slots_.size()];
  slot.destination_length = to_sockaddr(destination, ipv6_socket_, slot.destination);
  if (slot.destination_length == 0) {
    return PushResult::kUnsupportedAddress;
  }
  if (!bytes.empty()) {
    std::memcpy(slot.payload.iov_base, bytes.data(), bytes.size());
  }
  slot.payload.iov_len = bytes.size();
  ++size_;
  return PushResult::kQueued;
}

std::size_t UdpSendQueue::fill(std::span<mmsghdr> messages) {
  const std::size_t count = std::min(size_, messages.size());
  for (std::size_t i = 0; i < count; ++i) {
    Slot& slot = slots_[(head_ + i) % slots_.size()];
    msghdr& header = messages[i].msg_hdr;
    header = msghdr{};
    header.msg_name = &slot.destination;
    header.msg_namelen = slot.destination_length;
    header.msg_iov = &slot.payload;
    header.msg_iovlen = 1;
    messages[i].msg_len = 0;
  }
  return count;
}

std::size_t UdpSendQueue::pop(std::size_t count) {
  count = std::min(count, size_);
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < count; ++i) {
    bytes += slots_[(head_ + i) % slots_.size()].payload.iov_len;
  }
  head_ = (head_ + count) % slots_.size();
  size_ -= count;
  return bytes;
}

}  // namespace ivs::io
