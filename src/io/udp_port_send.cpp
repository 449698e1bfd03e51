// UdpPort, send half: the queue (send, send_slot/commit_send), flush with sendmmsg(2) and UDP
// GSO, and the writability wait. Socket set-up and the receive half are udp_port.cpp.
#include <algorithm>
#include <cerrno>

#include "io/udp_port.hpp"
#include "io/udp_port_impl.hpp"

namespace ivs::io {

using boost::system::error_code;

namespace {

// Counts a refused push by its reason; true when the datagram was queued.
bool count_push(UdpSendQueue::PushResult result, UdpPortCounters& counters) {
  switch (result) {
    case UdpSendQueue::PushResult::kQueued:
      return true;
    case UdpSendQueue::PushResult::kFull:
      ++counters.queue_full_drops;
      return false;
    case UdpSendQueue::PushResult::kTooLarge:
      ++counters.oversize_drops;
      return false;
    case UdpSendQueue::PushResult::kUnsupportedAddress:
      ++counters.unsupported_address_drops;
      return false;
  }
  return false;
}

}  // namespace

bool UdpPort::send(const SocketAddress& destination, ByteSpan bytes) {
  if (!is_open()) {
    ++counters_.send_errors;
    return false;
  }
  return count_push(impl_->send_queue.push(destination, bytes), counters_);
}

MutableByteSpan UdpPort::send_slot() {
  if (!is_open()) {
    return {};
  }
  return impl_->send_queue.next_slot();
}

bool UdpPort::commit_send(const SocketAddress& destination, std::size_t size) {
  if (!is_open()) {
    ++counters_.send_errors;
    return false;
  }
  return count_push(impl_->send_queue.commit(destination, size), counters_);
}

namespace {
// The kernel's UDP_MAX_SEGMENTS is 64 before Linux 6.8 (128 after); 64 works on both.
constexpr std::size_t kMaxSegmentsPerMessage = 64;
}  // namespace

void UdpPort::flush() {
  auto& queue = impl_->send_queue;
  // While a writability wait is pending the kernel buffer is full; that wait flushes.
  if (!is_open() || writable_wait_pending_) {
    return;
  }
  auto& scratch = impl_->segment_scratch;
  bool retried_head = false;
  while (!queue.empty()) {
    const bool segmented = impl_->options.segmentation_offload && !impl_->segmentation_refused;
    const std::size_t count =
        segmented ? queue.fill_segmented(impl_->send_messages, kMaxSegmentsPerMessage, scratch)
                  : queue.fill(impl_->send_messages);
    const int sent = impl_->sendmmsg_for_test
                         ? impl_->sendmmsg_for_test(impl_->fd(), impl_->send_messages.data(),
                                                    static_cast<unsigned>(count), MSG_DONTWAIT)
                         : ::sendmmsg(impl_->fd(), impl_->send_messages.data(),
                                      static_cast<unsigned>(count), MSG_DONTWAIT);
    ++counters_.send_syscalls;
    if (sent > 0) {
      account_sent(static_cast<std::size_t>(sent), segmented);
      retried_head = false;
      continue;
    }
    const int error = sent < 0 ? errno : EAGAIN;
    if (error == EAGAIN || error == EWOULDBLOCK) {
      ++counters_.send_would_block;
      wait_writable();
      return;
    }
    if (error == EINTR) {
      continue;
    }
    if (is_icmp_report(error) && !retried_head) {
      // Most likely the pending report of an earlier datagram's ICMP error, consumed by this
      // call instead of sending: read it and try the same datagram once more.
      drain_error_queue();
      retried_head = true;
      continue;
    }
    if (segmented && scratch.segments[0] > 1) {
      // The kernel refused the GSO message itself (EIO: the device cannot checksum; EINVAL or
      // ENOPROTOOPT: no UDP_SEGMENT): send plainly from now on instead of dropping the run.
      impl_->segmentation_refused = true;
      ++counters_.segmentation_fallbacks;
      retried_head = false;
      continue;
    }
    // The head datagram itself cannot be sent (no route, too large, ...): drop it, go on.
    queue.pop(1);
    ++counters_.send_errors;
    retried_head = false;
  }
}

void UdpPort::account_sent(std::size_t messages, bool segmented) {
  std::size_t datagrams = messages;
  if (segmented) {
    const auto& segments = impl_->segment_scratch.segments;
    datagrams = 0;
    for (std::size_t i = 0; i < messages; ++i) {
      datagrams += segments[i];
      counters_.segmented_messages += segments[i] > 1;
    }
  }
  counters_.datagrams_sent += datagrams;
  counters_.bytes_sent += impl_->send_queue.pop(datagrams);
  counters_.send_batches.record(datagrams);
}

UdpPort::BatchedSend UdpPort::begin_batched_send(std::size_t max_messages) {
  auto& queue = impl_->send_queue;
  if (!is_open() || writable_wait_pending_ || queue.empty() || max_messages == 0) {
    return {};
  }
  const bool segmented = impl_->options.segmentation_offload && !impl_->segmentation_refused;
  impl_->batch_segmented = segmented;
  const std::span<mmsghdr> messages(impl_->send_messages.data(),
                                    std::min(max_messages, impl_->send_messages.size()));
  const std::size_t count =
      segmented ? queue.fill_segmented(messages, kMaxSegmentsPerMessage, impl_->segment_scratch)
                : queue.fill(messages);
  return {impl_->fd(), std::span<mmsghdr>(impl_->send_messages.data(), count)};
}

void UdpPort::end_batched_send(std::size_t messages_sent, int error) {
  if (!is_open()) {
    return;
  }
  if (messages_sent > 0) {
    account_sent(messages_sent, impl_->batch_segmented);
  }
  if (error != 0 && is_icmp_report(error)) {
    // The send consumed an earlier datagram's ICMP report: read it from the error queue, as
    // flush() does, so the unreachable handler hears about it.
    drain_error_queue();
  }
  if (!impl_->send_queue.empty()) {
    flush();  // the refused datagram and anything beyond one fill: flush() knows every error
  }
}

void UdpPort::set_sendmmsg_for_test(SendmmsgFunction sendmmsg) {
  impl_->sendmmsg_for_test = std::move(sendmmsg);
}

void UdpPort::wait_writable() {
  writable_wait_pending_ = true;
  impl_->register_with_reactor();
  impl_->socket.async_wait(asio::socket_base::wait_write,
                           [weak = std::weak_ptr<UdpPort*>(self_)](const error_code& ec) {
                             auto self = weak.lock();
                             if (!self) {
                               return;
                             }
                             UdpPort* port = *self;
                             port->writable_wait_pending_ = false;
                             if (ec != asio::error::operation_aborted) {
                               port->flush();
                             }
                           });
}

}  // namespace ivs::io
