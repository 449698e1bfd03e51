// What batching buys on the UDP send path (DESIGN.md §8): one sendto(2) per datagram against
// UdpPort's queue flushed with sendmmsg(2), 1200-byte datagrams on loopback. On loopback the
// kernel's receive path runs inside the send call, so "ns/packet" includes delivery into the
// receiver's socket buffer; every variant also drains the receiver with recvmmsg, so the figures
// compare like with like. Run inside scripts/netns-run for a quiet loopback.
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <cstring>
#include <vector>

#include "io/udp_port.hpp"

namespace {

using ivs::Bytes;
using ivs::SocketAddress;
using ivs::io::UdpPort;
using ivs::io::UdpPortOptions;

constexpr std::size_t kPacketBytes = 1200;
constexpr std::size_t kPacketsPerIteration = 64;

// A plain receiving socket drained with recvmmsg, so the kernel never drops for lack of room.
class Sink {
 public:
  Sink() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    const int size = 8 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    address_ = address;
    for (std::size_t i = 0; i < kPacketsPerIteration; ++i) {
      iovecs_[i] = {buffers_.data() + i * 2048, 2048};
      messages_[i].msg_hdr = {};
      messages_[i].msg_hdr.msg_iov = &iovecs_[i];
      messages_[i].msg_hdr.msg_iovlen = 1;
    }
  }
  ~Sink() { ::close(fd_); }

  std::size_t drain() {
    std::size_t total = 0;
    for (;;) {
      const int count =
          ::recvmmsg(fd_, messages_.data(), kPacketsPerIteration, MSG_DONTWAIT, nullptr);
      if (count <= 0) {
        return total;
      }
      total += static_cast<std::size_t>(count);
    }
  }
  const sockaddr_in& address() const { return address_; }
  SocketAddress socket_address() const {
    return SocketAddress::ipv4({127, 0, 0, 1}, ntohs(address_.sin_port));
  }

 private:
  int fd_ = -1;
  sockaddr_in address_{};
  std::vector<std::uint8_t> buffers_ = std::vector<std::uint8_t>(kPacketsPerIteration * 2048);
  std::array<iovec, kPacketsPerIteration> iovecs_{};
  std::array<mmsghdr, kPacketsPerIteration> messages_{};
};

void report(benchmark::State& state, std::size_t received) {
  const auto packets = static_cast<double>(state.iterations() * kPacketsPerIteration);
  state.SetItemsProcessed(static_cast<std::int64_t>(packets));
  // CPU time of this thread per datagram (printed as e.g. "1.4us"); on loopback that includes
  // the kernel's delivery into the receiving socket.
  state.counters["time/packet"] =
      benchmark::Counter(packets, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["delivered"] = static_cast<double>(received) / packets;
}

void BM_SendtoPerDatagram(benchmark::State& state) {
  Sink sink;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  const Bytes payload(kPacketBytes, 0x5a);
  std::size_t received = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kPacketsPerIteration; ++i) {
      ::sendto(fd, payload.data(), payload.size(), 0,
               reinterpret_cast<const sockaddr*>(&sink.address()), sizeof(sockaddr_in));
    }
    received += sink.drain();
  }
  ::close(fd);
  report(state, received);
}
BENCHMARK(BM_SendtoPerDatagram);

// UdpPort::send() x64 then flush(); the argument is the sendmmsg batch size.
void BM_UdpPortSendmmsg(benchmark::State& state) {
  Sink sink;
  boost::asio::io_context io;
  UdpPortOptions options;
  options.send_batch = static_cast<std::size_t>(state.range(0));
  auto port = UdpPort::open(io, options);
  if (!port.ok()) {
    state.SkipWithError(port.error().message.c_str());
    return;
  }
  const Bytes payload(kPacketBytes, 0x5a);
  const SocketAddress destination = sink.socket_address();
  std::size_t received = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kPacketsPerIteration; ++i) {
      (*port)->send(destination, payload);
    }
    (*port)->flush();
    received += sink.drain();
  }
  report(state, received);
  state.counters["queue_drops"] = static_cast<double>((*port)->counters().queue_full_drops);
}
BENCHMARK(BM_UdpPortSendmmsg)->Arg(1)->Arg(8)->Arg(64);

// The receive side: 64 datagrams sent with sendmmsg, then UdpPort delivers them to a handler
// through io_context::poll() (readiness wait, recvmmsg batches, one Instant per batch).
void BM_UdpPortReceive(benchmark::State& state) {
  boost::asio::io_context io;
  auto sender = UdpPort::open(io, UdpPortOptions{});
  auto receiver = UdpPort::open(io, UdpPortOptions{});
  if (!sender.ok() || !receiver.ok()) {
    state.SkipWithError("open failed");
    return;
  }
  std::size_t received = 0;
  (*receiver)->start([&](ivs::Instant, const SocketAddress&, ivs::ByteSpan bytes) {
    benchmark::DoNotOptimize(bytes.data());
    ++received;
  });
  const Bytes payload(kPacketBytes, 0x5a);
  const SocketAddress destination = (*receiver)->local_address();
  for (auto _ : state) {
    for (std::size_t i = 0; i < kPacketsPerIteration; ++i) {
      (*sender)->send(destination, payload);
    }
    (*sender)->flush();
    io.poll();
  }
  report(state, received);
  state.counters["mean_batch"] = (*receiver)->counters().mean_receive_batch();
}
BENCHMARK(BM_UdpPortReceive);

}  // namespace

BENCHMARK_MAIN();
