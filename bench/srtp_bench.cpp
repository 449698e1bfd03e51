// The per-packet floor of egress (issue 6, DESIGN.md §8): what one 1200-byte RTP packet costs to
// SRTP-protect, per backend (libsrtp2 as Debian builds it, on NSS; our OpenSSL EVP backend) and
// per profile, and then protect + batched send through io::UdpPort (sendmmsg x64) on loopback.
// A relay can do no better per delivered packet than that last figure, so the fan-out benchmark
// reports its own CPU per packet as a multiple of it.
//
// Each packet is copied from a template first, as the relay copies the publisher's packet into
// each egress buffer before rewriting and protecting it; the copy is ~25 ns of the total. On
// loopback the kernel delivers into the receiving socket inside sendmmsg, so the send figure
// includes that; draining the receiver (the sink's work, not the sender's) is outside the timed
// region in BM_ProtectAndSend/…/0 and inside it in …/1 (comparable with udp_bench). Run inside
// scripts/netns-run for a quiet loopback, with --benchmark_repetitions to get medians.
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <cstring>
#include <vector>

#include "engine/srtp_session.hpp"
#include "io/udp_port.hpp"

namespace {

using ivs::Bytes;
using ivs::SocketAddress;
using ivs::engine::SrtpBackend;
using ivs::engine::SrtpProfile;
using ivs::engine::SrtpSession;

constexpr std::size_t kPacketBytes = 1200;
constexpr std::size_t kPacketsPerIteration = 64;

SrtpBackend backend_arg(std::int64_t value) {
  return value == 0 ? SrtpBackend::kLibsrtp : SrtpBackend::kOpenssl;
}
SrtpProfile profile_arg(std::int64_t value) {
  return value == 0 ? SrtpProfile::kAes128CmHmacSha1_80 : SrtpProfile::kAeadAes128Gcm;
}

std::unique_ptr<SrtpSession> outbound(SrtpBackend backend, SrtpProfile profile) {
  ivs::engine::SrtpConfig config;
  config.profile = profile;
  config.master.key = Bytes(ivs::engine::master_key_length(profile), 0x11);
  config.master.salt = Bytes(ivs::engine::master_salt_length(profile), 0x22);
  config.backend = backend;
  auto session = ivs::engine::make_srtp_session(config);
  return session.ok() ? std::move(*session) : nullptr;
}

// A 1200-byte RTP packet: 12-byte header (PT 96, SSRC 0x01020304) and a patterned payload.
Bytes rtp_template() {
  Bytes packet(kPacketBytes, 0);
  packet[0] = 0x80;
  packet[1] = 96;
  ivs::write_u32(packet.data() + 8, 0x01020304);
  for (std::size_t i = 12; i < packet.size(); ++i) {
    packet[i] = static_cast<std::uint8_t>(i * 7);
  }
  return packet;
}

void label(benchmark::State& state) {
  state.SetLabel(std::string(to_string(backend_arg(state.range(0)))) + " " +
                 std::string(to_string(profile_arg(state.range(1)))));
}

void report(benchmark::State& state, double packets) {
  state.SetItemsProcessed(static_cast<std::int64_t>(packets));
  state.counters["time/packet"] =
      benchmark::Counter(packets, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Args: backend (0 libsrtp, 1 openssl), profile (0 AES_CM_128_HMAC_SHA1_80, 1 AEAD_AES_128_GCM).
void BM_Protect(benchmark::State& state) {
  auto session = outbound(backend_arg(state.range(0)), profile_arg(state.range(1)));
  if (!session) {
    state.SkipWithError("session");
    return;
  }
  label(state);
  const Bytes packet = rtp_template();
  Bytes buffer(kPacketBytes + ivs::engine::kMaxSrtpOverhead);
  std::uint16_t sequence = 0;
  for (auto _ : state) {
    std::memcpy(buffer.data(), packet.data(), kPacketBytes);
    ivs::write_u16(buffer.data() + 2, ++sequence);
    std::size_t size = kPacketBytes;
    if (session->protect_rtp(buffer, size) != ivs::engine::SrtpStatus::kOk) {
      state.SkipWithError("protect failed");
      return;
    }
    benchmark::DoNotOptimize(buffer.data());
  }
  report(state, static_cast<double>(state.iterations()));
}
BENCHMARK(BM_Protect)->ArgsProduct({{0, 1}, {0, 1}});

// The receiving end: a plain socket drained with recvmmsg (as in udp_bench).
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
    port_ = ntohs(address.sin_port);
    for (std::size_t i = 0; i < kPacketsPerIteration; ++i) {
      iovecs_[i] = {buffers_.data() + i * 2048, 2048};
      messages_[i].msg_hdr = {};
      messages_[i].msg_hdr.msg_iov = &iovecs_[i];
      messages_[i].msg_hdr.msg_iovlen = 1;
    }
  }
  ~Sink() { ::close(fd_); }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

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
  SocketAddress address() const { return SocketAddress::ipv4({127, 0, 0, 1}, port_); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::vector<std::uint8_t> buffers_ = std::vector<std::uint8_t>(kPacketsPerIteration * 2048);
  std::array<iovec, kPacketsPerIteration> iovecs_{};
  std::array<mmsghdr, kPacketsPerIteration> messages_{};
};

// The floor: copy + protect + UdpPort::send() for 64 packets, then one flush() (sendmmsg x64).
// Args: backend, profile, and whether draining the sink is timed (0 no, 1 yes).
void BM_ProtectAndSend(benchmark::State& state) {
  auto session = outbound(backend_arg(state.range(0)), profile_arg(state.range(1)));
  boost::asio::io_context io;
  auto port = ivs::io::UdpPort::open(io, ivs::io::UdpPortOptions{});
  if (!session || !port.ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  label(state);
  const bool drain_timed = state.range(2) != 0;
  Sink sink;
  const SocketAddress destination = sink.address();
  const Bytes packet = rtp_template();
  Bytes buffer(kPacketBytes + ivs::engine::kMaxSrtpOverhead);
  std::uint16_t sequence = 0;
  std::size_t received = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kPacketsPerIteration; ++i) {
      std::memcpy(buffer.data(), packet.data(), kPacketBytes);
      ivs::write_u16(buffer.data() + 2, ++sequence);
      std::size_t size = kPacketBytes;
      session->protect_rtp(buffer, size);
      (*port)->send(destination, ivs::ByteSpan(buffer.data(), size));
    }
    (*port)->flush();
    if (drain_timed) {
      received += sink.drain();
    } else {
      state.PauseTiming();
      received += sink.drain();
      state.ResumeTiming();
    }
  }
  const auto packets = static_cast<double>(state.iterations() * kPacketsPerIteration);
  report(state, packets);
  state.counters["delivered"] = static_cast<double>(received) / packets;
}
BENCHMARK(BM_ProtectAndSend)->ArgsProduct({{0, 1}, {0, 1}, {0, 1}});

}  // namespace

BENCHMARK_MAIN();
