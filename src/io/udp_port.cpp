#include "io/udp_port.hpp"

#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <vector>

#include "io/anonymous_pages.hpp"
#include "io/clock.hpp"
#include "io/sockaddr.hpp"
#include "io/udp_port_impl.hpp"
#include "io/udp_send_batch.hpp"
#include "io/udp_send_queue.hpp"

namespace ivs::io {

namespace asio = boost::asio;
using boost::system::error_code;

void BatchHistogram::record(std::size_t batch_size) {
  if (batch_size == 0) {
    return;
  }
  const std::size_t bucket = static_cast<std::size_t>(std::bit_width(batch_size)) - 1;
  ++counts[std::min(bucket, kBuckets - 1)];
}

namespace {

std::uint64_t histogram_total(const BatchHistogram& histogram) {
  std::uint64_t total = 0;
  for (auto count : histogram.counts) {
    total += count;
  }
  return total;
}

double ratio(std::uint64_t numerator, std::uint64_t denominator) {
  return denominator == 0 ? 0.0 : static_cast<double>(numerator) / static_cast<double>(denominator);
}

}  // namespace

double UdpPortCounters::mean_receive_batch() const {
  return ratio(datagrams_received, histogram_total(receive_batches));
}

double UdpPortCounters::mean_send_batch() const {
  return ratio(datagrams_sent, histogram_total(send_batches));
}

// Everything that touches Asio or the kernel structures, kept out of the header. All buffers
// are allocated here, once. The receive buffers and the send slots are anonymous pages that
// become resident only as they are used (anonymous_pages.hpp): recvmmsg writes only as many
// buffers as datagrams arrived, so a port that receives little (an egress session's RTCP)
// keeps little resident however large its batch.

namespace {

Error socket_error(std::string_view step, const SocketAddress& address, int error) {
  return make_error("udp port " + address.to_string() + ": " + std::string(step) + ": " +
                    std::strerror(error));
}

// Asks for `requested` bytes (beyond net.core.*mem_max when privileged) and returns what the
// kernel granted.
int set_buffer_size(int fd, int option, int force_option, int requested) {
  if (requested > 0 &&
      ::setsockopt(fd, SOL_SOCKET, force_option, &requested, sizeof(requested)) != 0) {
    ::setsockopt(fd, SOL_SOCKET, option, &requested, sizeof(requested));
  }
  int granted = 0;
  socklen_t length = sizeof(granted);
  ::getsockopt(fd, SOL_SOCKET, option, &granted, &length);
  return granted;
}

void enable_icmp_reports(int fd, bool ipv6) {
  const int one = 1;
  // IPv4 reports also matter on a dual-stack IPv6 socket (IPv4-mapped peers).
  ::setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
  if (ipv6) {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
  }
}

}  // namespace

Result<std::unique_ptr<UdpPort>> UdpPort::open(asio::io_context& io,
                                               const UdpPortOptions& options) {
  const SocketAddress& bind_address = options.bind_address;
  if (options.receive_batch == 0 || options.max_datagram_bytes == 0) {
    return make_error("udp port: receive_batch and max_datagram_bytes must be positive");
  }
  const bool ipv6 = !bind_address.is_ipv4();
  auto impl = std::make_unique<Impl>(io, options);
  auto& socket = impl->socket;
  error_code ec;
  socket.open(ipv6 ? asio::ip::udp::v6() : asio::ip::udp::v4(), ec);
  if (ec) {
    return socket_error("socket", bind_address, ec.value());
  }
  if (options.reuse_address) {
    socket.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (ipv6) {
    socket.set_option(asio::ip::v6_only(options.ipv6_only), ec);
  }
  const int fd = impl->fd();
  const int granted_receive =
      set_buffer_size(fd, SO_RCVBUF, SO_RCVBUFFORCE, options.receive_buffer_bytes);
  const int granted_send =
      set_buffer_size(fd, SO_SNDBUF, SO_SNDBUFFORCE, options.send_buffer_bytes);
  if (options.report_icmp_errors) {
    enable_icmp_reports(fd, ipv6);
  }

  asio::ip::udp::endpoint endpoint;
  sockaddr_storage storage{};
  const socklen_t length = to_sockaddr(bind_address, ipv6, storage);
  std::memcpy(endpoint.data(), &storage, length);
  endpoint.resize(length);
  socket.bind(endpoint, ec);
  if (ec) {
    return socket_error("bind", bind_address, ec.value());
  }
  socket.non_blocking(true, ec);
  if (ec) {
    return socket_error("non-blocking", bind_address, ec.value());
  }
  const auto local = socket.local_endpoint(ec);
  auto local_address = ec ? std::nullopt : from_sockaddr(local.data(), local.size());
  if (!local_address) {
    return socket_error("getsockname", bind_address, ec ? ec.value() : EAFNOSUPPORT);
  }

  std::unique_ptr<UdpPort> port(new UdpPort(std::move(impl)));
  port->local_address_ = *local_address;
  port->granted_receive_buffer_ = granted_receive;
  port->granted_send_buffer_ = granted_send;
  return port;
}

SocketDuplicate::~SocketDuplicate() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

SocketDuplicate& SocketDuplicate::operator=(SocketDuplicate&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = other.release();
  }
  return *this;
}

Result<SocketDuplicate> UdpPort::duplicate() const {
  if (!open_) {
    return make_error("udp port " + local_address_.to_string() + ": duplicate: the port is closed");
  }
  const int fd = ::fcntl(impl_->fd(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    return socket_error("duplicate", local_address_, errno);
  }
  return SocketDuplicate(fd);
}

// The duplicate shares the original's receive queue. Registered with `io`'s reactor (Asio's
// epoll, edge-triggered for reading too), it would wake this port's thread at every datagram
// the original receives, for nothing: so it stays out of the reactor, sendmmsg uses the bare
// descriptor, and only a full kernel buffer (EAGAIN, rare for a 4 MiB one) registers it for the
// writability wait. Its file description is the original's, non-blocking already; sends pass
// MSG_DONTWAIT anyway.
Result<std::unique_ptr<UdpPort>> UdpPort::open_sender(asio::io_context& io, SocketDuplicate socket,
                                                      const UdpPortOptions& options) {
  UdpPortOptions sender = options;
  sender.receive_batch = 1;  // never receives: one buffer, never touched
  sender.flush_after_receive_batch = false;
  const int fd = socket.release();
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  const auto local_address =
      fd >= 0 && ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) == 0
          ? from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), length)
          : std::nullopt;
  if (!local_address) {
    if (fd >= 0) {
      ::close(fd);
    }
    return make_error("udp port: open_sender: not a bound IP socket");
  }
  sender.bind_address = *local_address;
  auto impl = std::make_unique<Impl>(io, sender);
  impl->unregistered_fd = fd;
  std::unique_ptr<UdpPort> port(new UdpPort(std::move(impl)));
  port->local_address_ = *local_address;
  return port;
}

UdpPort::UdpPort(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)), self_(std::make_shared<UdpPort*>(this)) {}

UdpPort::~UdpPort() {
  close();
  self_.reset();
}

void UdpPort::start(ReceiveHandler on_receive, UnreachableHandler on_unreachable) {
  on_receive_ = std::move(on_receive);
  on_unreachable_ = std::move(on_unreachable);
  if (receiving_ || !is_open()) {
    return;
  }
  receiving_ = true;
  // Drain first: a datagram that arrived before start() produced its readiness edge already,
  // and an edge-triggered wait would not see it again.
  asio::post(impl_->io, [weak = std::weak_ptr<UdpPort*>(self_)] {
    if (auto self = weak.lock(); self && (*self)->receiving_) {
      (*self)->drain_receive();
    }
  });
}

void UdpPort::close() {
  receiving_ = false;
  open_ = false;
  if (deferred_in_ != nullptr) {
    deferred_in_->forget(*this);
    deferred_in_ = nullptr;
  }
  if (impl_->socket.is_open()) {
    error_code ignored;
    impl_->socket.close(ignored);
  }
  if (impl_->unregistered_fd >= 0) {
    ::close(impl_->unregistered_fd);
    impl_->unregistered_fd = -1;
  }
  impl_->send_queue.pop(impl_->send_queue.size());
}

std::size_t UdpPort::queued() const {
  return impl_->send_queue.size();
}

void UdpPort::wait_readable() {
  impl_->socket.async_wait(asio::socket_base::wait_read,
                           [weak = std::weak_ptr<UdpPort*>(self_)](const error_code& ec) {
                             auto self = weak.lock();
                             if (!self || ec == asio::error::operation_aborted) {
                               return;
                             }
                             UdpPort* port = *self;
                             if (ec) {
                               ++port->counters_.receive_errors;
                             }
                             if (port->receiving_) {
                               port->drain_receive();
                             }
                           });
}

void UdpPort::drain_receive() {
  ++counters_.receive_wakeups;
  for (std::size_t batch = 0; batch < impl_->options.max_receive_batches_per_wake; ++batch) {
    if (!receive_batch()) {
      if (receiving_ && is_open()) {
        wait_readable();
      }
      return;
    }
    if (!receiving_) {
      return;
    }
  }
  // Budget spent and maybe more waiting: continue after the io_context's other handlers. Not
  // a readiness wait, because the edge for the waiting datagrams has already been consumed.
  asio::post(impl_->io, [weak = std::weak_ptr<UdpPort*>(self_)] {
    if (auto self = weak.lock(); self && (*self)->receiving_) {
      (*self)->drain_receive();
    }
  });
}

bool UdpPort::receive_batch() {
  auto& messages = impl_->receive_messages;
  for (auto& message : messages) {
    message.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    message.msg_hdr.msg_flags = 0;
  }
  const int count = ::recvmmsg(impl_->fd(), messages.data(), static_cast<unsigned>(messages.size()),
                               MSG_DONTWAIT, nullptr);
  ++counters_.receive_syscalls;
  if (count < 0) {
    const int error = errno;
    if (error == EAGAIN || error == EWOULDBLOCK) {
      return false;
    }
    if (error == EINTR) {
      return true;
    }
    if (is_icmp_report(error)) {
      // A report about something we sent earlier, not about this socket: read it and go on.
      drain_error_queue();
      return is_open();
    }
    ++counters_.receive_errors;
    return false;
  }
  if (count == 0) {
    return false;
  }
  counters_.receive_batches.record(static_cast<std::size_t>(count));
  deliver_batch(static_cast<std::size_t>(count));
  if (impl_->options.flush_after_receive_batch) {
    flush();
  }
  return is_open();
}

void UdpPort::deliver_batch(std::size_t count) {
  const Instant now = monotonic_now();
  for (std::size_t i = 0; i < count; ++i) {
    const mmsghdr& message = impl_->receive_messages[i];
    if ((message.msg_hdr.msg_flags & MSG_TRUNC) != 0) {
      ++counters_.truncated_drops;
      continue;
    }
    const auto from = from_sockaddr(static_cast<const sockaddr*>(message.msg_hdr.msg_name),
                                    message.msg_hdr.msg_namelen);
    if (!from) {
      ++counters_.receive_errors;
      continue;
    }
    ++counters_.datagrams_received;
    counters_.bytes_received += message.msg_len;
    const auto* data = static_cast<const std::uint8_t*>(impl_->receive_iovecs[i].iov_base);
    if (on_receive_) {
      on_receive_(now, *from, ByteSpan(data, message.msg_len));
    }
    if (!receiving_) {
      return;  // the handler closed the port
    }
  }
}

bool UdpPort::is_icmp_report(int error) const {
  switch (error) {
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
    case EMSGSIZE:
    case EPROTO:
    case ENOPROTOOPT:
    case ECONNRESET:
      return true;
    default:
      return false;
  }
}

// Reads the queued ICMP reports (IP_RECVERR, see ip(7)): msg_name holds the destination of
// the datagram that caused each one.
void UdpPort::drain_error_queue() {
  constexpr int kMaxReportsPerDrain = 64;
  for (int i = 0; i < kMaxReportsPerDrain && is_open(); ++i) {
    iovec payload{impl_->error_payload.data(), impl_->error_payload.size()};
    msghdr message{};
    message.msg_name = &impl_->error_name;
    message.msg_namelen = sizeof(impl_->error_name);
    message.msg_iov = &payload;
    message.msg_iovlen = 1;
    message.msg_control = impl_->error_control.data();
    message.msg_controllen = impl_->error_control.size();
    if (::recvmsg(impl_->fd(), &message, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
      return;  // EAGAIN: the queue is empty
    }
    ++counters_.icmp_errors;
    int reported = 0;
    for (cmsghdr* control = CMSG_FIRSTHDR(&message); control != nullptr;
         control = CMSG_NXTHDR(&message, control)) {
      const bool ipv4_report =
          control->cmsg_level == IPPROTO_IP && control->cmsg_type == IP_RECVERR;
      const bool ipv6_report =
          control->cmsg_level == IPPROTO_IPV6 && control->cmsg_type == IPV6_RECVERR;
      if (ipv4_report || ipv6_report) {
        sock_extended_err extended{};
        std::memcpy(&extended, CMSG_DATA(control), sizeof(extended));
        reported = static_cast<int>(extended.ee_errno);
      }
    }
    const auto destination =
        from_sockaddr(reinterpret_cast<const sockaddr*>(&impl_->error_name), message.msg_namelen);
    if (destination && on_unreachable_) {
      on_unreachable_(*destination, reported);
    }
  }
}

}  // namespace ivs::io
