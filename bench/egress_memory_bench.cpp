// Memory per egress session (issue 6 target: RSS ≤ 100 KiB per egress at 720p30 2.5 Mbit/s),
// measured by component in one process, without sockets to real stages:
//
//   relay leg     engine::Relay legs fed a synthetic 720p30 2.5 Mbit/s stream (2 s GOP) + Opus
//                 until every history has wrapped;
//   udp port      io::UdpPort opened with the egress session's options, after one GOP-cache
//                 burst (what a stage that joins gets at once) and steady traffic;
//   peer session  engine::PeerSession in client mode (what EgressTransport holds) after ICE,
//                 the DTLS handshake against an in-process router, and 500 SRTP packets.
//
// Two figures per component: heap bytes in use per egress (mallinfo2, exact: measured as what
// destroying the N objects gives back) and the growth of RssAnon (/proc/self/status) per egress
// (includes mmap'd rings and allocator slack). Kernel socket buffers are not process memory and
// are not counted. Not a Google Benchmark: it prints a table, one run.
//
//   build-x/bench/egress_memory_bench [N=200]
//   EGRESS_MEMORY_EXIT_CONNECTED=1 heaptrack build-x/bench/egress_memory_bench 100
//     (exits once the peer sessions are connected: heaptrack's "leaked" is what they hold)
#include <malloc.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/dtls_certificate.hpp"
#include "engine/dtls_context.hpp"
#include "engine/dtls_transport.hpp"
#include "engine/peer_session.hpp"
#include "engine/peer_session_router.hpp"
#include "engine/random.hpp"
#include "engine/relay.hpp"
#include "io/udp_port.hpp"
#include "io/udp_send_slot_pool.hpp"
#include "proto/h264_packetizer.hpp"
#include "proto/rtcp_compound.hpp"
#include "proto/rtp_builder.hpp"

namespace {

using namespace ivs;
using namespace std::chrono_literals;

// ---- measuring ----------------------------------------------------------------------------

std::int64_t rss_anon_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("RssAnon:", 0) == 0) {
      return std::stoll(line.substr(8));
    }
  }
  return -1;
}

std::int64_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<std::int64_t>(info.uordblks + info.hblkhd);
}

struct Figures {
  std::string component;
  double heap_kib_per_egress = 0;
  double rss_kib_per_egress = 0;
  std::string note;
};

// ---- a synthetic 720p30 2.5 Mbit/s publisher ----------------------------------------------

constexpr std::uint8_t kVideoPt = 96;
constexpr std::uint8_t kAudioPt = 111;
constexpr std::size_t kFramesPerGop = 60;        // 2 s at 30 fps
constexpr std::size_t kBytesPerSecond = 312500;  // 2.5 Mbit/s
constexpr std::size_t kMaxPayload = 1200;

class Publisher {
 public:
  // One frame's packets: an IDR frame is ~10x a P frame, the GOP averages 2.5 Mbit/s.
  std::vector<Bytes> frame() {
    const std::size_t gop_bytes = kBytesPerSecond * kFramesPerGop / 30;
    const std::size_t p_bytes = gop_bytes / (kFramesPerGop - 1 + 10);
    const bool idr = frame_index_ % kFramesPerGop == 0;
    std::vector<Bytes> payloads;
    if (idr) {
      payloads.push_back(nal(0x67, 20));
      payloads.push_back(nal(0x68, 5));
      for (auto& fragment : proto::fragment_fu_a(nal(0x65, p_bytes * 10), kMaxPayload)) {
        payloads.push_back(std::move(fragment));
      }
    } else {
      for (auto& fragment : proto::fragment_fu_a(nal(0x41, p_bytes), kMaxPayload)) {
        payloads.push_back(std::move(fragment));
      }
    }
    ++frame_index_;
    std::vector<Bytes> packets;
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      proto::RtpPacket packet;
      packet.marker = i + 1 == payloads.size();
      packet.payload_type = kVideoPt;
      packet.sequence_number = video_sequence_++;
      packet.timestamp = video_timestamp_;
      packet.ssrc = 0x1000;
      packet.extensions.push_back({3, {1, 2, 3}});  // abs-send-time
      packet.extensions.push_back({4, {'1'}});      // mid
      packet.payload = std::move(payloads[i]);
      packets.push_back(*packet.serialize());
    }
    video_timestamp_ += 3000;
    return packets;
  }
  Bytes audio() {
    proto::RtpPacket packet;
    packet.payload_type = kAudioPt;
    packet.sequence_number = audio_sequence_++;
    packet.timestamp = audio_timestamp_;
    audio_timestamp_ += 960;
    packet.ssrc = 0x2000;
    packet.extensions.push_back({4, {'0'}});
    packet.payload = Bytes(160, 0xAB);  // 64 kbit/s Opus, 20 ms
    return *packet.serialize();
  }

 private:
  static Bytes nal(std::uint8_t header, std::size_t size) {
    Bytes bytes(std::max<std::size_t>(size, 2), 0x5A);
    bytes[0] = header;
    return bytes;
  }
  std::size_t frame_index_ = 0;
  std::uint16_t video_sequence_ = 100;
  std::uint32_t video_timestamp_ = 5000;
  std::uint16_t audio_sequence_ = 7;
  std::uint32_t audio_timestamp_ = 1000;
};

engine::RelaySourceFormat ingest_format() {
  engine::RelaySourceFormat format;
  format.video.mid = "1";
  format.video.payload_type = kVideoPt;
  format.video.clock_rate = 90000;
  format.video.feedback = {.nack = true, .pli = true, .fir = true};
  format.video.extensions.mid = 4;
  format.video.extensions.abs_send_time = 3;
  engine::NegotiatedTrack audio;
  audio.mid = "0";
  audio.payload_type = kAudioPt;
  audio.clock_rate = 48000;
  audio.channels = 2;
  audio.extensions.mid = 4;
  format.audio = audio;
  return format;
}

engine::RelayEgressFormat egress_format(std::uint32_t index) {
  engine::RelayEgressFormat format;
  format.cname = "leg-cname-" + std::to_string(index);
  format.video.ssrc = 0x51000000 + 2 * index;
  format.video.payload_type = 102;
  format.video.mid = "1";
  format.video.extensions.mid = 9;
  format.video.extensions.abs_send_time = 10;
  format.video.feedback = {.nack = true, .pli = true};
  engine::RelayTrackFormat audio;
  audio.ssrc = 0x51000001 + 2 * index;
  audio.payload_type = 111;
  audio.mid = "0";
  audio.extensions.mid = 9;
  format.audio = audio;
  return format;
}

class NullSink final : public engine::RelaySink {
 public:
  void send_rtp(ByteSpan packet) override { bytes += packet.size(); }
  void send_rtcp(ByteSpan) override {}
  std::size_t bytes = 0;
};

// Feeds `seconds` of media at 30 video frames and 50 audio packets a second.
void play(engine::Relay& relay, Publisher& publisher, Instant& now, int seconds,
          std::size_t* largest_gop_packets = nullptr) {
  for (int frame = 0; frame < seconds * 30; ++frame) {
    if (largest_gop_packets != nullptr) {
      *largest_gop_packets = std::max(*largest_gop_packets, relay.source_stats().gop_cache_packets);
    }
    for (const auto& packet : publisher.frame()) {
      relay.handle_publisher_rtp(now, engine::MediaKind::kVideo, packet);
    }
    for (int i = 0; i < 2; ++i) {
      relay.handle_publisher_rtp(now, engine::MediaKind::kAudio, publisher.audio());
    }
    now += 33ms;
    relay.handle_timeout(now);
  }
}

Figures measure_relay_legs(std::size_t count, std::size_t& gop_packets) {
  Instant now{};
  engine::Relay relay;
  NullSink feedback;
  Publisher publisher;
  relay.start_publisher(now, ingest_format(), feedback);
  play(relay, publisher, now, 4, &gop_packets);  // the shared history and GOP cache are warm
  malloc_trim(0);
  const std::int64_t rss_before = rss_anon_kib();
  const std::int64_t heap_before = heap_in_use();
  std::vector<NullSink> sinks(count);
  std::vector<engine::EgressId> ids;
  for (std::size_t i = 0; i < count; ++i) {
    ids.push_back(relay.add_egress(now, egress_format(static_cast<std::uint32_t>(i)), sinks[i]));
  }
  play(relay, publisher, now, 5);  // > 1024 video packets: every leg history has wrapped
  const std::int64_t rss_after = rss_anon_kib();
  const std::int64_t heap_with = heap_in_use();
  for (auto id : ids) {
    relay.remove_egress(id);
  }
  const std::int64_t heap_without = heap_in_use();
  (void)heap_before;
  return {"relay leg (engine::Relay)",
          static_cast<double>(heap_with - heap_without) / 1024.0 / static_cast<double>(count),
          static_cast<double>(rss_after - rss_before) / static_cast<double>(count),
          "GOP burst " + std::to_string(gop_packets) + " packets"};
}

// The options EgressTransport::open_socket uses (src/app/egress/egress_transport.cpp); keep
// them in step. `slots` is the pool every port of a media worker shares (EgressSendPath);
// EGRESS_MEMORY_PRIVATE_SEND_SLOTS=1 measures the former ring per port instead.
io::UdpPortOptions egress_port_options(bool before,
                                       const std::shared_ptr<io::UdpSendSlotPool>& slots) {
  io::UdpPortOptions udp;
  udp.receive_buffer_bytes = 256 * 1024;
  udp.send_buffer_bytes = 1 << 20;
  udp.send_queue_capacity = before ? 512 : 1024;
  if (!before) {
    udp.receive_batch = 8;
    udp.segmentation_offload = true;
    udp.max_datagram_bytes = 1536;
    udp.send_batch = 16;
    udp.send_slot_pool = slots;
  }
  return udp;
}

Figures measure_udp_ports(std::size_t count, std::size_t burst_packets, bool before) {
  boost::asio::io_context io;
  io::UdpPortOptions sink_options;
  auto sink = io::UdpPort::open(io, sink_options).value();
  sink->start([](Instant, const SocketAddress&, ByteSpan) {});
  malloc_trim(0);
  const std::int64_t rss_before = rss_anon_kib();
  const std::int64_t heap_before = heap_in_use();
  std::shared_ptr<io::UdpSendSlotPool> slots;
  if (!before && std::getenv("EGRESS_MEMORY_PRIVATE_SEND_SLOTS") == nullptr) {
    slots = io::UdpSendSlotPool::create(65536, 1536);
  }
  std::vector<std::unique_ptr<io::UdpPort>> ports;
  const Bytes datagram(1200 + 16, 0x42);  // an SRTP packet of a 1200-byte RTP packet
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < count; ++i) {
    auto port = io::UdpPort::open(io, egress_port_options(before, slots));
    if (!port) {
      std::fprintf(stderr, "udp port %zu: %s\n", i, port.error().message.c_str());
      break;
    }
    ports.push_back(std::move(port).value());
    auto& egress = *ports.back();
    egress.start([](Instant, const SocketAddress&, ByteSpan) {});
    for (std::size_t p = 0; p < burst_packets; ++p) {
      egress.send(sink->local_address(), datagram);
    }
    egress.flush();
    for (int round = 0; round < 200; ++round) {
      for (int p = 0; p < 10; ++p) {
        egress.send(sink->local_address(), datagram);
      }
      egress.flush();
    }
    dropped += egress.counters().queue_full_drops;
    io.poll();
  }
  const std::int64_t rss_after = rss_anon_kib();
  const std::int64_t heap_after = heap_in_use();
  const double n = static_cast<double>(ports.size());
  const std::size_t dropped_per_port = dropped / std::max<std::size_t>(ports.size(), 1);
  ports.clear();
  return {before  ? "udp port (old options: recv 32, ring 512)"
          : slots ? "udp port (egress options, one slot pool)"
                  : "udp port (egress options, ring per port)",
          static_cast<double>(heap_after - heap_before) / 1024.0 / n,
          static_cast<double>(rss_after - rss_before) / n,
          std::to_string(dropped_per_port) + " of a " + std::to_string(burst_packets) +
              "-packet burst dropped per port (ring full)"};
}

// ---- peer sessions ---------------------------------------------------------------------------

Figures measure_peer_sessions(std::size_t count) {
  const WallTime wall{1'700'000'000'000'000};
  auto client_certificate = *engine::DtlsCertificate::generate(wall);
  auto server_certificate = *engine::DtlsCertificate::generate(wall);
  // The WHIP egress shares one OpenSSL context per certificate (app/egress/egress_identity.hpp);
  // EGRESS_MEMORY_PRIVATE_DTLS_CONTEXT=1 measures the former context per session.
  std::shared_ptr<const engine::DtlsContext> shared_context;
  if (std::getenv("EGRESS_MEMORY_PRIVATE_DTLS_CONTEXT") == nullptr) {
    shared_context =
        *engine::DtlsContext::create(client_certificate, engine::DtlsConfig{}.srtp_profiles);
  }
  const SocketAddress server_host = *SocketAddress::from_string("10.1.0.1:6000");
  engine::SeededRandom random(7);
  engine::PeerSessionRouter router;
  std::map<std::string, std::size_t> by_address;
  std::vector<SocketAddress> hosts;
  Instant now{};
  malloc_trim(0);
  const std::int64_t rss_before = rss_anon_kib();
  std::vector<std::unique_ptr<engine::PeerSession>> clients;
  std::vector<engine::IceSessionId> server_ids;
  for (std::size_t i = 0; i < count; ++i) {
    const engine::IceCredentials client_ice{"c" + std::to_string(i), "client-password-abcdefgh"};
    const engine::IceCredentials server_ice{"s" + std::to_string(i), "server-password-abcdefgh"};
    engine::PeerSessionConfig server_config;
    server_config.dtls_role = engine::DtlsRole::kServer;
    server_config.certificate = server_certificate;
    server_config.remote_fingerprint = client_certificate->fingerprint();
    server_config.media.video_payload_type = kVideoPt;
    server_config.media.audio_payload_type = kAudioPt;
    server_ids.push_back(router.add_session(now, server_config, server_ice, client_ice).value());

    engine::PeerSessionConfig config;
    config.dtls_role = engine::DtlsRole::kClient;
    config.certificate = client_certificate;
    config.dtls_context = shared_context;
    config.remote_fingerprint = server_certificate->fingerprint();
    config.media.video_payload_type = 102;
    config.media.audio_payload_type = 111;
    const SocketAddress host = SocketAddress::ipv4(
        {10, 2, static_cast<std::uint8_t>(i / 250), static_cast<std::uint8_t>(i % 250 + 1)}, 5000);
    hosts.push_back(host);
    by_address[host.to_string()] = i;
    engine::PeerSessionIceClient ice;
    ice.agent.local = client_ice;
    ice.agent.host_addresses = {host};
    ice.remote = server_ice;
    engine::IceCandidate candidate;
    candidate.foundation = "1";
    candidate.priority = engine::ice_candidate_priority(engine::IceCandidateType::kHost, 65535);
    candidate.address = server_host;
    candidate.base = server_host;
    ice.candidates = {candidate};
    clients.push_back(engine::PeerSession::create_client(config, ice, random).value());
    clients.back()->start(now);
  }
  const std::int64_t created_heap = heap_in_use();
  std::size_t connected = 0;
  for (int step = 0; step < 20000 && connected < count; ++step) {
    bool moved = false;
    for (std::size_t i = 0; i < count; ++i) {
      while (auto transmit = clients[i]->poll_transmit()) {
        router.handle_packet(now, hosts[i], transmit->payload);
        moved = true;
      }
      while (auto event = clients[i]->poll_event()) {
        connected += std::holds_alternative<engine::SessionConnected>(*event) ? 1 : 0;
      }
    }
    while (auto transmit = router.poll_transmit()) {
      auto found = by_address.find(transmit->destination.to_string());
      if (found != by_address.end()) {
        clients[found->second]->handle_packet(now, server_host, transmit->payload);
        moved = true;
      }
    }
    while (router.poll_event()) {
    }
    if (!moved) {
      now += 5ms;
      for (auto& client : clients) {
        if (auto due = client->poll_timeout(); due && *due <= now) {
          client->handle_timeout(now);
        }
      }
      if (auto due = router.poll_timeout(); due && *due <= now) {
        router.handle_timeout(now);
      }
    }
  }
  if (std::getenv("EGRESS_MEMORY_EXIT_CONNECTED") != nullptr) {
    // For heaptrack: everything still alive at exit is reported as leaked, by call stack.
    std::exit(0);
  }
  const std::int64_t connected_heap = heap_in_use();
  Publisher publisher;
  for (int frame = 0; frame < 60; ++frame) {
    for (const auto& packet : publisher.frame()) {
      for (auto& client : clients) {
        client->send_rtp(packet);
        while (client->poll_transmit()) {
        }
      }
    }
  }
  // Each stage's first receiver report, as a real stage sends within a second: it proves the
  // stage holds the keys, so the client's DTLS state is freed (dtls_transport.hpp, "Retiring";
  // EGRESS_MEMORY_KEEP_DTLS=1 skips it, for the figure before).
  if (std::getenv("EGRESS_MEMORY_KEEP_DTLS") == nullptr) {
    proto::RtcpReceiverReport report;
    report.sender_ssrc = 0x5157;
    const Bytes compound = report.serialize();
    for (const auto id : server_ids) {
      (void)router.send_rtcp(id, compound);
    }
    while (auto transmit = router.poll_transmit()) {
      auto found = by_address.find(transmit->destination.to_string());
      if (found != by_address.end()) {
        clients[found->second]->handle_packet(now, server_host, transmit->payload);
      }
    }
    for (auto& client : clients) {
      while (client->poll_event()) {
      }
    }
  }
  malloc_trim(0);
  const std::int64_t rss_after = rss_anon_kib();
  const std::int64_t heap_with = heap_in_use();
  clients.clear();
  const std::int64_t heap_without = heap_in_use();
  const double handshake_growth =
      static_cast<double>(connected_heap - created_heap) / 1024.0 / static_cast<double>(count);
  return {"peer session (client: ICE, DTLS, SRTP)",
          static_cast<double>(heap_with - heap_without) / 1024.0 / static_cast<double>(count),
          static_cast<double>(rss_after - rss_before) / static_cast<double>(count),
          std::to_string(connected) + "/" + std::to_string(count) + " connected; handshake grew " +
              std::to_string(static_cast<int>(handshake_growth)) +
              " KiB/pair; RSS includes the router's server sessions"};
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t count = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200;
  std::vector<Figures> rows;
  std::size_t gop_packets = 0;
  rows.push_back(measure_relay_legs(count, gop_packets));
  const std::size_t burst = gop_packets + 10;
  rows.push_back(measure_udp_ports(count, burst, /*before=*/true));
  rows.push_back(measure_udp_ports(count, burst, /*before=*/false));
  rows.push_back(measure_peer_sessions(count));
  std::printf("egress memory, N = %zu egress sessions, 720p30 2.5 Mbit/s, 2 s GOP\n", count);
  std::printf("%-46s %14s %14s  %s\n", "component", "heap KiB/egr", "RssAnon KiB/egr", "note");
  for (const auto& row : rows) {
    std::printf("%-46s %14.1f %14.1f  %s\n", row.component.c_str(), row.heap_kib_per_egress,
                row.rss_kib_per_egress, row.note.c_str());
  }
  return 0;
}
