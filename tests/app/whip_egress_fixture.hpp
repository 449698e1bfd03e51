// The fixture of the WHIP egress tests (whip_egress_test.cpp, whip_egress_close_test.cpp): a
// local WHIP endpoint played by our own engine (negotiate_ingest + server PeerSession behind a
// PeerSessionRouter on a loopback UDP port) and a local HTTP server, a media source that records
// what the egress does with the relay side, and a WhipEgressSession opened against them.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <future>
#include <map>
#include <thread>

#include "app/egress/whip_egress.hpp"
#include "app/egress/whip_egress_session.hpp"
#include "engine/ice_candidate.hpp"
#include "engine/peer_session_router.hpp"
#include "engine/sdp_negotiation.hpp"
#include "engine/stun_integrity.hpp"
#include "io/clock.hpp"
#include "io/engine_timer.hpp"
#include "io/http_router.hpp"
#include "io/http_server.hpp"
#include "io/udp_port.hpp"
#include "proto/stun_message.hpp"

namespace ivs::app::whip_egress_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Records what the egress does with the relay side and lets the test push media into the leg.
class FakeMediaSource final : public EgressMediaSource {
 public:
  engine::EgressId attach(Instant, const engine::RelayEgressFormat& format,
                          engine::RelaySink& sink) override {
    format_ = format;
    sink_ = &sink;
    ++attached;
    return 7;
  }
  void detach(engine::EgressId id) override {
    EXPECT_EQ(id, 7u);
    sink_ = nullptr;
    ++detached;
  }
  void feedback(Instant, engine::EgressId, std::span<const proto::RtcpPacket> packets) override {
    feedback_packets += packets.size();
  }
  std::optional<engine::RelayEgressStats> stats(engine::EgressId) const override {
    engine::RelayEgressStats stats;
    stats.packets_sent = packets_pushed;
    stats.bytes_sent = packets_pushed * 100;
    stats.rtt_ms = 12.5;
    return stats;
  }
  std::string h264_profile_level_id() const override { return "42c01f"; }

  // One RTP packet on the leg's video SSRC and payload type.
  void push_video() {
    ASSERT_NE(sink_, nullptr);
    Bytes packet(100, 0);
    packet[0] = 0x80;
    packet[1] = format_.video.payload_type;
    write_u16(packet.data() + 2, static_cast<std::uint16_t>(packets_pushed));
    write_u32(packet.data() + 4, static_cast<std::uint32_t>(packets_pushed * 3000));
    write_u32(packet.data() + 8, format_.video.ssrc);
    ++packets_pushed;
    sink_->send_rtp(packet);
  }

  engine::RelayEgressFormat format_;
  engine::RelaySink* sink_ = nullptr;
  int attached = 0;
  int detached = 0;
  std::size_t feedback_packets = 0;
  std::uint64_t packets_pushed = 0;
};

// The WHIP endpoint: HTTP routes for every scenario plus one ICE-lite/DTLS-server engine.
class Endpoint {
 public:
  explicit Endpoint(asio::io_context& io)
      : io_(io), timer_(io, [this](Instant now) { on_timeout(now); }) {
    certificate_ = *engine::DtlsCertificate::generate(io::wall_now());
    auto port = io::UdpPort::open(io_, io::UdpPortOptions{});
    EXPECT_TRUE(port.ok());
    port_ = std::move(port).value();
    port_->start([this](Instant now, const SocketAddress& from, ByteSpan bytes) {
      if (is_early_check_answer(bytes)) {
        early_check_answered = true;
        return;
      }
      router_.handle_packet(now, from, bytes);
      drain();
    });
    io::HttpRouter routes;
    routes.post("/whip", [this](const io::HttpRequest& r, const io::RequestContext&) {
      return on_offer(r);
    });
    routes.post("/redirect", [](const io::HttpRequest&, const io::RequestContext&) {
      auto response = io::text_response(io::http::status::temporary_redirect, "", "text/plain");
      response.set(io::http::field::location, "/whip");
      return response;
    });
    routes.post("/loop", [](const io::HttpRequest&, const io::RequestContext&) {
      auto response = io::text_response(io::http::status::temporary_redirect, "", "text/plain");
      response.set(io::http::field::location, "/loop");
      return response;
    });
    routes.post("/fail", [](const io::HttpRequest&, const io::RequestContext&) {
      return io::text_response(io::http::status::internal_server_error,
                               "stage exploded\nsecond line", "text/plain");
    });
    routes.post("/garbage", [](const io::HttpRequest&, const io::RequestContext&) {
      auto response = io::text_response(io::http::status::created, "v=0\r\nthis is no answer\r\n",
                                        "application/sdp");
      response.set(io::http::field::location, "/whip/garbage");
      return response;
    });
    routes.post("/deaf", [this](const io::HttpRequest& r, const io::RequestContext&) {
      return on_offer(r, /*register_session=*/false);
    });
    routes.del("/whip/{id}", [this](const io::HttpRequest& r, const io::RequestContext&) {
      deletes.push_back(std::string(r.target()));
      return io::text_response(io::http::status::ok, "", "text/plain");
    });
    io::HttpServer::Options http;
    http.bind_address = "127.0.0.1";
    server_ = std::make_unique<io::HttpServer>(io_, http, routes.as_handler());
    EXPECT_TRUE(server_->start().ok());
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  std::vector<std::string> authorizations;  // as seen by POST /whip
  std::vector<std::string> offers;
  std::vector<std::string> deletes;
  std::string link_header;  // added to the 201 when set
  // Before answering, send a check to the offer's candidate, as a full-ICE endpoint that starts
  // checking at once does (aiortc), and note whether the egress answered it.
  bool send_early_check = false;
  bool early_check_answered = false;
  bool connected = false;
  std::uint64_t video_packets = 0;
  std::optional<std::uint32_t> video_ssrc;

 private:
  io::HttpResponse on_offer(const io::HttpRequest& request, bool register_session = true) {
    authorizations.push_back(std::string(request[io::http::field::authorization]));
    offers.push_back(request.body());
    engine::LocalTransport local;
    local.ice = {random_.ice_chars(8), random_.ice_chars(24)};
    local.fingerprint = {certificate_->fingerprint().algorithm, certificate_->fingerprint().digest};
    local.host_addresses = {port_->local_address()};
    local.session_id = 42;
    auto answer = engine::negotiate_ingest(request.body(), local);
    if (!answer) {
      return io::text_response(io::http::status::bad_request, answer.error().message, "text/plain");
    }
    if (send_early_check) {
      send_check_to_offerer(*answer, local.ice.ufrag);
    }
    if (register_session) {
      engine::PeerSessionConfig config;
      config.certificate = certificate_;
      config.remote_fingerprint = {answer->media.remote.fingerprint.algorithm,
                                   answer->media.remote.fingerprint.digest};
      config.media.video_payload_type = answer->media.video.payload_type;
      if (answer->media.audio) {
        config.media.audio_payload_type = answer->media.audio->payload_type;
      }
      EXPECT_TRUE(
          router_.add_session(io::monotonic_now(), config, local.ice, answer->media.remote.ice)
              .ok());
      drain();
    }
    auto response = io::text_response(io::http::status::created, answer->sdp, "application/sdp");
    response.set(io::http::field::location, "whip/resource-1");  // relative on purpose
    response.set(io::http::field::etag, "\"etag-1\"");
    if (!link_header.empty()) {
      response.set(io::http::field::link, link_header);
    }
    return response;
  }

  void on_timeout(Instant now) {
    router_.handle_timeout(now);
    drain();
  }

  void send_check_to_offerer(const engine::Answer& answer, const std::string& local_ufrag) {
    std::optional<SocketAddress> destination;
    for (const auto& candidate : answer.media.remote.candidates) {
      if (auto converted = engine::from_sdp_candidate(candidate)) {
        destination = converted->address;
        break;
      }
    }
    ASSERT_TRUE(destination.has_value()) << "the offer has no UDP candidate";
    proto::StunBuilder builder(proto::kStunBindingMethod, proto::StunClass::kRequest,
                               kEarlyCheckId);
    builder.add_username(answer.media.remote.ice.ufrag + ":" + local_ufrag);
    builder.add_priority(0x6e0001ffu);
    builder.add_ice_controlled(42);
    integrity_.sign_with_fingerprint(builder, as_bytes(answer.media.remote.ice.pwd));
    port_->send(*destination, builder.bytes());
    port_->flush();
  }

  static bool is_early_check_answer(ByteSpan bytes) {
    if (!proto::looks_like_stun(bytes)) {
      return false;
    }
    auto message = proto::StunMessage::parse(bytes);
    return message && message->transaction_id() == kEarlyCheckId &&
           message->message_class() == proto::StunClass::kSuccessResponse;
  }

  static constexpr proto::StunTransactionId kEarlyCheckId{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  engine::StunIntegrity integrity_;

  void drain() {
    bool progressed = true;
    while (progressed) {
      progressed = false;
      while (auto transmit = router_.poll_transmit()) {
        port_->send(transmit->destination, transmit->payload);
        progressed = true;
      }
      while (auto routed = router_.poll_event()) {
        progressed = true;
        if (std::holds_alternative<engine::SessionConnected>(routed->event)) {
          connected = true;
        } else if (auto* media = std::get_if<engine::SessionMediaPacket>(&routed->event)) {
          if (media->kind == engine::MediaKind::kVideo) {
            ++video_packets;
            video_ssrc = read_u32(media->packet.data() + 8);
          }
        }
      }
    }
    port_->flush();
    timer_.rearm(router_.poll_timeout());
  }

  asio::io_context& io_;
  engine::SecureRandom random_;
  std::shared_ptr<const engine::DtlsCertificate> certificate_;
  std::unique_ptr<io::UdpPort> port_;
  engine::PeerSessionRouter router_;
  io::EngineTimer timer_;
  std::unique_ptr<io::HttpServer> server_;
};

class WhipEgressTest : public ::testing::Test {
 protected:
  WhipEgressTest() : work_(asio::make_work_guard(io_)), endpoint_(io_) {
    options_.bind_ip = "127.0.0.1";
    options_.request_timeout = 2000ms;
    options_.connect_timeout = 3000ms;
  }

  std::unique_ptr<WhipEgressSession> open(const std::string& path,
                                          const std::string& token = "participant-token") {
    EgressCallbacks callbacks;
    callbacks.on_connected = [this](bool publishing, std::string) {
      connected_ = true;
      publishing_ = publishing;
    };
    callbacks.on_failed = [this](std::string reason) { failure_ = std::move(reason); };
    return std::make_unique<WhipEgressSession>(
        io_, host_, spec(), EgressTarget{"arn:stage/test", token, endpoint_.url(path)},
        std::move(callbacks));
  }

  // What a factory gives each session: the options and a fresh certificate; no send batch, so
  // each transport flushes its own socket.
  EgressTransportSpec spec() {
    EgressTransportSpec made;
    made.options = options_;
    made.certificate = *engine::DtlsCertificate::generate(io::wall_now());
    return made;
  }

  // Runs the loop until `done` holds or the deadline passes; false on timeout.
  template <typename Predicate>
  bool run_until(Predicate done, std::chrono::milliseconds limit = 8000ms) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      io_.run_one_for(20ms);
    }
    return true;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  Endpoint endpoint_;
  FakeMediaSource media_;
  EgressTransportHost host_{io_, media_};  // after media_: its transports detach from it
  WhipEgressOptions options_;
  bool connected_ = false;
  bool publishing_ = false;
  std::optional<std::string> failure_;
};

}  // namespace ivs::app::whip_egress_test
