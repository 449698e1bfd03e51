// webrtc_peer: our WebRTC engine (engine::PeerSession) on real loopback sockets, for interop tests
// against stacks we did not write (Chromium, aiortc). Three modes:
//
//   whip-server --port P --udp-port U --token T [--seconds S]
//       WHIP ingest endpoint (ICE-lite, DTLS server) on one shared UDP port; counts decrypted
//       RTP per kind, H.264 keyframes (IDR picture starts), SPS and Opus packets; prints a JSON
//       summary on exit (after S seconds, or once 3 keyframes and 100 Opus packets were seen).
//   whip-client --url URL --token T --h264 FILE [--seconds S]
//       WHIP publisher: egress offer, controlling full ICE, DTLS role from the answer; streams the
//       Annex-B file at 30 fps (90 kHz) plus Opus silence every 20 ms; answers NACK from a
//       history and PLI by restarting the file (its first access unit is an IDR).
//   whep-server --port P --udp-port U --h264 FILE [--seconds S]
//       WHEP endpoint: answers a recvonly offer and loops the file to every connected viewer.
//
// One io_context, one thread. After every input the engines are drained and the timer re-armed
// (transmit.hpp).
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

#include "engine/peer_session_router.hpp"
#include "engine/sdp_negotiation.hpp"
#include "io/clock.hpp"
#include "io/engine_driver.hpp"
#include "io/engine_timer.hpp"
#include "io/http_client.hpp"
#include "io/http_router.hpp"
#include "io/http_server.hpp"
#include "io/udp_port.hpp"
#include "proto/h264_packetizer.hpp"
#include "proto/h264_payload.hpp"
#include "proto/rtcp_pli.hpp"
#include "proto/rtp_builder.hpp"
#include "tool_options.hpp"
#include "webrtc_peer_media.hpp"

namespace {

using namespace ivs;
using namespace ivs::webrtc_peer;
namespace asio = boost::asio;

std::map<std::string, std::string> parse_options(int argc, char** argv) {
  return tools::parse_tool_options(argc, argv, 2);  // after the mode
}

std::string random_token(engine::RandomSource& random, std::size_t length) {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string out;
  for (std::size_t i = 0; i < length; ++i) {
    out.push_back(kAlphabet[random.uniform(sizeof(kAlphabet) - 1)]);
  }
  return out;
}

engine::DtlsFingerprint to_dtls(const proto::SdpFingerprint& fingerprint) {
  return engine::DtlsFingerprint{fingerprint.algorithm, fingerprint.digest};
}

proto::SdpFingerprint to_sdp(const engine::DtlsFingerprint& fingerprint) {
  return proto::SdpFingerprint{fingerprint.algorithm, fingerprint.digest};
}

// The server modes: an HTTP endpoint and a PeerSessionRouter on one UDP port.
class Server {
 public:
  Server(asio::io_context& io, std::map<std::string, std::string> options, bool whep)
      : io_(io),
        options_(std::move(options)),
        whep_(whep),
        timer_(io, [this](Instant now) { on_timeout(now); }),
        tick_(io),
        stop_timer_(io) {}

  int run() {
    certificate_ = *engine::DtlsCertificate::generate(io::wall_now());
    if (whep_) {
      units_ = read_access_units(options_["h264"]);
      if (units_.empty()) {
        std::fprintf(stderr, "no access units in %s\n", options_["h264"].c_str());
        return 2;
      }
    }
    io::UdpPortOptions udp;
    udp.bind_address = SocketAddress::ipv4(
        {127, 0, 0, 1}, static_cast<std::uint16_t>(std::stoi(options_["udp-port"])));
    auto port = io::UdpPort::open(io_, udp);
    if (!port) {
      std::fprintf(stderr, "udp: %s\n", port.error().message.c_str());
      return 2;
    }
    port_ = std::move(*port);
    port_->start([this](Instant now, const SocketAddress& from, ByteSpan bytes) {
      router_.handle_packet(now, from, bytes);
      drain(now);
    });
    io::HttpRouter routes;
    const std::string path = whep_ ? "/whep" : "/whip";
    routes.post(path, [this](const io::HttpRequest& request, const io::RequestContext&) {
      return on_offer(request);
    });
    routes.del(path + "/{id}", [](const io::HttpRequest&, const io::RequestContext&) {
      return io::text_response(io::http::status::ok, "", "text/plain");
    });
    routes.enable_cors();
    io::HttpServer::Options http;
    http.bind_address = "127.0.0.1";
    http.port = static_cast<std::uint16_t>(std::stoi(options_["port"]));
    server_ = std::make_unique<io::HttpServer>(io_, http, routes.as_handler());
    if (auto started = server_->start(); !started) {
      std::fprintf(stderr, "http: %s\n", started.error().message.c_str());
      return 2;
    }
    std::fprintf(stderr, "listening on %u, udp %s\n", server_->port(),
                 port_->local_address().to_string().c_str());
    stop_timer_.expires_after(
        std::chrono::seconds(std::stoi(options_.count("seconds") ? options_["seconds"] : "30")));
    stop_timer_.async_wait([this](auto) { io_.stop(); });
    schedule_tick();
    io_.run();
    for (engine::IceSessionId id : session_ids_) {
      if (const auto* session = router_.session(id)) {
        summary_.decrypt_failures +=
            session->counters().decrypt_auth_failures + session->counters().decrypt_replay_failures;
      }
    }
    for (auto& [id, sender] : senders_) {
      summary_.frames_sent += sender.frames_sent;
    }
    summary_.plis_sent = plis_sent_;
    summary_.print(whep_ ? "whep-server" : "whip-server");
    return 0;
  }

 private:
  io::HttpResponse on_offer(const io::HttpRequest& request) {
    if (!whep_ && request[io::http::field::authorization] != "Bearer " + options_["token"]) {
      return io::text_response(io::http::status::unauthorized, "bad token\n", "text/plain");
    }
    engine::LocalTransport local;
    local.ice = {random_token(random_, 8), random_token(random_, 24)};
    local.fingerprint = to_sdp(certificate_->fingerprint());
    local.host_addresses = {port_->local_address()};
    local.session_id = random_.next_u64() >> 2;
    engine::OutgoingStreams streams{0x10000001, 0x20000002, "webrtc-peer"};
    auto answer = whep_ ? engine::negotiate_whep(request.body(), local, streams)
                        : engine::negotiate_ingest(request.body(), local);
    if (!answer) {
      std::fprintf(stderr, "offer refused: %s\n", answer.error().message.c_str());
      return io::text_response(io::http::status::bad_request, answer.error().message + "\n",
                               "text/plain");
    }
    engine::PeerSessionConfig config;
    config.dtls_role = engine::DtlsRole::kServer;
    config.certificate = certificate_;
    config.remote_fingerprint = to_dtls(answer->media.remote.fingerprint);
    config.media.video_payload_type = answer->media.video.payload_type;
    config.media.video_ssrcs = answer->media.video.remote_ssrcs;
    if (answer->media.audio) {
      config.media.audio_payload_type = answer->media.audio->payload_type;
      config.media.audio_ssrcs = answer->media.audio->remote_ssrcs;
    }
    const Instant now = io::monotonic_now();
    auto id = router_.add_session(now, config, local.ice, answer->media.remote.ice);
    if (!id) {
      return io::text_response(io::http::status::internal_server_error, id.error().message,
                               "text/plain");
    }
    session_ids_.push_back(*id);
    if (whep_) {
      std::optional<std::uint8_t> audio_pt;
      if (answer->media.audio) {
        audio_pt = answer->media.audio->payload_type;
      }
      senders_.emplace(*id, MediaSource(units_, answer->media.video.payload_type, audio_pt,
                                        streams.video_ssrc, streams.audio_ssrc));
    }
    drain(now);
    auto response = io::text_response(io::http::status::created, answer->sdp, "application/sdp");
    response.set(io::http::field::location, (whep_ ? "/whep/" : "/whip/") + std::to_string(*id));
    return response;
  }

  void on_timeout(Instant now) {
    router_.handle_timeout(now);
    drain(now);
  }

  void schedule_tick() {
    tick_.expires_after(std::chrono::milliseconds(5));
    tick_.async_wait([this](auto error) {
      if (error) {
        return;
      }
      const Instant now = io::monotonic_now();
      send_plis(now);
      for (auto& [id, sender] : senders_) {
        auto* session = router_.session(id);
        if (!session || session->state() != engine::PeerSessionState::kConnected) {
          continue;
        }
        for (const Bytes& packet : sender.due(now)) {
          router_.send_rtp(id, packet);
        }
      }
      drain(now);
      schedule_tick();
    });
  }

  // Ingest asks each publisher for a keyframe every 2 s: proves our outbound SRTCP is accepted
  // (the publisher answers with an IDR that the summary counts).
  void send_plis(Instant now) {
    if (whep_ || now < next_pli_) {
      return;
    }
    next_pli_ = now + seconds(2);
    for (const auto& [id, ssrc] : video_ssrcs_) {
      router_.send_rtcp(id, proto::RtcpPli{0x50000005, ssrc}.serialize());
      ++plis_sent_;
    }
  }

  void drain(Instant now) {
    (void)now;
    driver_.drain(
        [this] { return &router_; }, port_.get(), timer_,
        [this](engine::RoutedSessionEvent& routed) { on_event(routed.session, routed.event); });
  }

  void on_event(engine::IceSessionId id, const engine::PeerSessionEvent& event) {
    if (const auto* media = std::get_if<engine::SessionMediaPacket>(&event)) {
      count_media(*media, summary_);
      if (media->kind == engine::MediaKind::kVideo && media->packet.size() >= 12) {
        video_ssrcs_[id] = read_u32(media->packet.data() + 8);
      }
      if (!whep_ && options_.count("stop-when-enough") && summary_.keyframes >= 3 &&
          summary_.audio_packets >= 100) {
        io_.stop();
      }
    } else if (const auto* connected = std::get_if<engine::SessionConnected>(&event)) {
      summary_.connected = true;
      summary_.dtls_profile = std::string(engine::to_string(connected->profile));
      std::fprintf(stderr, "session %u connected to %s\n", id,
                   connected->remote.to_string().c_str());
    } else if (const auto* rtcp = std::get_if<engine::SessionRtcpPacket>(&event)) {
      auto found = senders_.find(id);
      if (found != senders_.end()) {
        answer_feedback(
            *rtcp, found->second, [&](const Bytes& bytes) { router_.send_rtp(id, bytes); },
            summary_.nacks_received, summary_.plis_received);
      }
    } else if (const auto* failed = std::get_if<engine::SessionFailed>(&event)) {
      summary_.failure = failed->reason;
      std::fprintf(stderr, "session %u failed: %s\n", id, failed->reason.c_str());
    }
  }

  asio::io_context& io_;
  std::map<std::string, std::string> options_;
  bool whep_;
  engine::SecureRandom random_;
  std::shared_ptr<const engine::DtlsCertificate> certificate_;
  std::vector<std::vector<Bytes>> units_;
  std::unique_ptr<io::UdpPort> port_;
  std::unique_ptr<io::HttpServer> server_;
  engine::PeerSessionRouter router_;
  io::EngineTimer timer_;
  io::EngineDriver driver_;
  asio::steady_timer tick_;
  asio::steady_timer stop_timer_;
  std::map<engine::IceSessionId, MediaSource> senders_;
  std::map<engine::IceSessionId, std::uint32_t> video_ssrcs_;
  std::vector<engine::IceSessionId> session_ids_;
  Instant next_pli_{};
  std::uint64_t plis_sent_ = 0;
  Summary summary_;
};

// The WHIP client mode: our egress offer, a controlling full ICE agent and the file as media.
class Client {
 public:
  Client(asio::io_context& io, std::map<std::string, std::string> options)
      : io_(io),
        options_(std::move(options)),
        timer_(io, [this](Instant now) { on_timeout(now); }),
        tick_(io),
        stop_timer_(io),
        http_(io) {}

  int run() {
    certificate_ = *engine::DtlsCertificate::generate(io::wall_now());
    units_ = read_access_units(options_["h264"]);
    if (units_.empty()) {
      std::fprintf(stderr, "no access units in %s\n", options_["h264"].c_str());
      return 2;
    }
    auto port = io::UdpPort::open(io_, io::UdpPortOptions{});
    if (!port) {
      std::fprintf(stderr, "udp: %s\n", port.error().message.c_str());
      return 2;
    }
    port_ = std::move(*port);
    port_->start([this](Instant now, const SocketAddress& from, ByteSpan bytes) {
      if (session_) {
        session_->handle_packet(now, from, bytes);
        drain();
      }
    });
    local_.ice = {random_token(random_, 8), random_token(random_, 24)};
    local_.fingerprint = to_sdp(certificate_->fingerprint());
    local_.host_addresses = {port_->local_address()};
    local_.session_id = random_.next_u64() >> 2;
    engine::EgressOfferParams params;
    params.local = local_;
    params.streams = engine::OutgoingStreams{0x30000003, 0x40000004, "webrtc-peer"};
    offer_ = engine::make_egress_offer(params);
    io::HttpClient::Request request;
    request.method = io::http::verb::post;
    request.url = options_["url"];
    request.headers = {{"Authorization", "Bearer " + options_["token"]}};
    request.body = offer_.sdp;
    request.content_type = "application/sdp";
    http_.request(request, [this](Result<io::HttpClient::Response> response) {
      on_answer(std::move(response));
    });
    stop_timer_.expires_after(
        std::chrono::seconds(std::stoi(options_.count("seconds") ? options_["seconds"] : "10")));
    stop_timer_.async_wait([this](auto) { io_.stop(); });
    io_.run();
    if (source_) {
      summary_.frames_sent = source_->frames_sent;
    }
    if (session_) {
      const auto& counters = session_->counters();
      summary_.decrypt_failures = counters.decrypt_auth_failures + counters.decrypt_replay_failures;
    }
    summary_.print("whip-client");
    return summary_.connected ? 0 : 1;
  }

 private:
  void on_answer(Result<io::HttpClient::Response> response) {
    if (!response || response->status != 201) {
      summary_.failure = response
                             ? "HTTP " + std::to_string(response->status) + ": " + response->body
                             : response.error().message;
      io_.stop();
      return;
    }
    auto answer = engine::accept_egress_answer(offer_.description, response->body);
    if (!answer) {
      summary_.failure = "answer: " + answer.error().message;
      io_.stop();
      return;
    }
    engine::PeerSessionConfig config;
    config.dtls_role = answer->dtls_role;
    config.certificate = certificate_;
    config.remote_fingerprint = to_dtls(answer->media.remote.fingerprint);
    config.media.video_payload_type = answer->media.video.payload_type;
    std::optional<std::uint8_t> audio_pt;
    if (answer->media.audio) {
      audio_pt = answer->media.audio->payload_type;
      config.media.audio_payload_type = audio_pt;
    }
    engine::PeerSessionIceClient ice;
    ice.agent.local = local_.ice;
    ice.agent.host_addresses = {port_->local_address()};
    ice.remote = answer->media.remote.ice;
    for (const auto& candidate : answer->media.remote.candidates) {
      if (candidate.is_udp()) {
        if (auto converted = engine::from_sdp_candidate(candidate)) {
          ice.candidates.push_back(*converted);
        }
      }
    }
    std::fprintf(stderr, "answer: %zu udp candidates, dtls %s\n", ice.candidates.size(),
                 answer->dtls_role == engine::DtlsRole::kClient ? "client" : "server");
    auto session = engine::PeerSession::create_client(config, ice, random_);
    if (!session) {
      summary_.failure = session.error().message;
      io_.stop();
      return;
    }
    session_ = std::move(*session);
    source_.emplace(units_, answer->media.video.payload_type, audio_pt, 0x30000003, 0x40000004);
    session_->start(io::monotonic_now());
    drain();
    schedule_tick();
  }

  void on_timeout(Instant now) {
    if (session_) {
      session_->handle_timeout(now);
      drain();
    }
  }

  void schedule_tick() {
    tick_.expires_after(std::chrono::milliseconds(5));
    tick_.async_wait([this](auto error) {
      if (error) {
        return;
      }
      if (session_->state() == engine::PeerSessionState::kConnected) {
        for (const Bytes& packet : source_->due(io::monotonic_now())) {
          session_->send_rtp(packet);
        }
        drain();
      }
      schedule_tick();
    });
  }

  void drain() {
    driver_.drain([this] { return session_.get(); }, port_.get(), timer_,
                  [this](engine::PeerSessionEvent& event) { on_event(event); });
  }

  void on_event(const engine::PeerSessionEvent& event) {
    if (const auto* connected = std::get_if<engine::SessionConnected>(&event)) {
      summary_.connected = true;
      summary_.dtls_profile = std::string(engine::to_string(connected->profile));
      std::fprintf(stderr, "connected to %s\n", connected->remote.to_string().c_str());
    } else if (const auto* rtcp = std::get_if<engine::SessionRtcpPacket>(&event)) {
      answer_feedback(
          *rtcp, *source_, [&](const Bytes& bytes) { session_->send_rtp(bytes); },
          summary_.nacks_received, summary_.plis_received);
    } else if (const auto* failed = std::get_if<engine::SessionFailed>(&event)) {
      summary_.failure = failed->reason;
      std::fprintf(stderr, "failed: %s\n", failed->reason.c_str());
    }
  }

  asio::io_context& io_;
  std::map<std::string, std::string> options_;
  engine::SecureRandom random_;
  std::shared_ptr<const engine::DtlsCertificate> certificate_;
  std::vector<std::vector<Bytes>> units_;
  std::unique_ptr<io::UdpPort> port_;
  engine::LocalTransport local_;
  engine::EgressOffer offer_;
  std::unique_ptr<engine::PeerSession> session_;
  std::optional<MediaSource> source_;
  io::EngineTimer timer_;
  io::EngineDriver driver_;
  asio::steady_timer tick_;
  asio::steady_timer stop_timer_;
  io::HttpClient http_;
  Summary summary_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: webrtc_peer whip-server|whip-client|whep-server --option value...\n");
    return 2;
  }
  const std::string mode = argv[1];
  asio::io_context io;
  auto options = parse_options(argc, argv);
  if (mode == "whip-server" || mode == "whep-server") {
    Server server(io, options, mode == "whep-server");
    return server.run();
  }
  if (mode == "whip-client") {
    Client client(io, options);
    return client.run();
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
