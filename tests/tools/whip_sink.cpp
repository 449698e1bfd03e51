// whip_sink: the destination side of the fan-out benchmark (issue 6). One process terminates
// MANY WHIP sessions: POST /whip/{anything} on one HTTP port, ICE-lite + DTLS server through one
// engine::PeerSessionRouter on one UDP port, and then only counts what arrives.
//
// Answer mode, for the Janus anchor (bench/janus_anchor.py): POST /answer with a server's SDP
// OFFER (Janus's streaming plugin offers sendonly H.264 + Opus and a=setup:actpass) answers 201
// with an ICE-lite answer whose a=setup:active makes the sink the DTLS client (RFC 8842 §5.2),
// Location /session/<id>; DELETE /session/<id> ends it. Such a session is counted exactly like
// a WHIP one (path "/answer"), so the same sink measures our server and Janus.
//
//   whip_sink [--port P] [--udp-port U] [--bind 127.0.0.1] [--seconds S] [--receive-buffer B]
//
// Prints {"http_port":..,"udp_port":..} on stdout once listening, and the final stats as one JSON
// line on exit (after S seconds, or on SIGINT/SIGTERM). GET /stats answers the same JSON live:
//   {"sessions","connected","packets","bytes","rtcpPackets","gaps","jumps","reordered",
//    "firstMediaMs":{"count","median","p99"},"ice":{the shared ICE-lite responder's counters},
//    "perSession":[{"id","path","connected","packets","bytes","gaps","jumps","reordered",
//                   "firstMediaMs","firstMediaWallMs","ssrcs","srtpProfile"}]}
//
// Why it never decrypts: the sink must cost far less than the server it measures, and it needs
// no keys for what it counts. Once a session's DTLS handshake is done and its remote address is
// known, datagrams from that address whose first byte is 128..191 (RTP/RTCP, RFC 7983 §7) are
// counted straight from the clear SRTP header (RFC 3711 §3.1: the RTP header is authenticated
// but not encrypted) and never reach the router; STUN and DTLS still go through it, so consent
// freshness keeps working. Per SSRC, sequence numbers are extended over wraps (RFC 3550 A.1):
//   gaps      = packets expected from the first to the highest sequence number but not received
//   jumps     = forward steps of more than one (each loss burst counts once)
//   reordered = packets older than the highest already seen
// Like any RTP receiver (RFC 3550 §6.4.2) it sends each connected session an (empty) receiver
// report every second, as real stages do: the server frees a stage's DTLS state on the first
// authenticated packet from it (docs/webrtc-session.md), so a sink that never spoke would keep
// a memory figure no real stage produces.
// "firstMediaMs" is POST -> first media packet of the session, the closest the sink can get to
// "first keyframe" without decrypting. "firstMediaWallMs" is the same arrival as Unix epoch
// milliseconds (system clock), so a driver can compare it with events stamped by other
// processes (e.g. the server's stage_created); null until the first packet.
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "engine/peer_session_router.hpp"
#include "engine/sdp_negotiation.hpp"
#include "io/clock.hpp"
#include "io/engine_driver.hpp"
#include "io/engine_timer.hpp"
#include "io/http_router.hpp"
#include "io/http_server.hpp"
#include "io/udp_port.hpp"
#include "proto/rtcp_compound.hpp"
#include "ssrc_counter.hpp"
#include "tool_options.hpp"

namespace {

using namespace ivs;
namespace asio = boost::asio;
namespace json = boost::json;

std::map<std::string, std::string> parse_options(int argc, char** argv) {
  return tools::parse_tool_options(argc, argv);
}

std::string option(const std::map<std::string, std::string>& options, const std::string& name,
                   const std::string& fallback) {
  return tools::tool_option(options, name, fallback);
}

std::string random_token(engine::RandomSource& random, std::size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (std::size_t i = 0; i < length; ++i) {
    out.push_back(kAlphabet[random.uniform(sizeof(kAlphabet) - 1)]);
  }
  return out;
}

using ivs::tools::SsrcCounter;

struct SinkSession {
  std::string path;
  Instant created{};
  bool connected = false;
  std::optional<double> first_media_ms;
  std::optional<double> first_media_wall_ms;  // Unix epoch ms
  std::string srtp_profile;                   // as DTLS negotiated it; "" before
  std::uint64_t rtcp_packets = 0;
  std::vector<SsrcCounter> ssrcs;

  SsrcCounter& counter(std::uint32_t ssrc) {
    for (SsrcCounter& counter : ssrcs) {
      if (counter.ssrc == ssrc) {
        return counter;
      }
    }
    SsrcCounter& added = ssrcs.emplace_back();
    added.ssrc = ssrc;
    return added;
  }
};

double percentile(std::vector<double> values, double fraction) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1));
  return values[index];
}

class Sink {
 public:
  Sink(asio::io_context& io, std::map<std::string, std::string> options)
      : io_(io),
        options_(std::move(options)),
        timer_(io,
               [this](Instant now) {
                 router_.handle_timeout(now);
                 drain();
               }),
        stop_timer_(io),
        signals_(io, SIGINT, SIGTERM) {}

  int run() {
    certificate_ = *engine::DtlsCertificate::generate(io::wall_now());
    const std::string bind = option(options_, "bind", "127.0.0.1");
    io::UdpPortOptions udp;
    udp.bind_address =
        SocketAddress::from_ip(
            bind, static_cast<std::uint16_t>(std::stoi(option(options_, "udp-port", "0"))))
            .value_or(SocketAddress::ipv4({127, 0, 0, 1}, 0));
    udp.receive_buffer_bytes = std::stoi(option(options_, "receive-buffer", "33554432"));
    auto port = io::UdpPort::open(io_, udp);
    if (!port) {
      std::fprintf(stderr, "udp: %s\n", port.error().message.c_str());
      return 2;
    }
    port_ = std::move(*port);
    port_->start([this](Instant now, const SocketAddress& from, ByteSpan bytes) {
      on_datagram(now, from, bytes);
    });
    if (!start_http(bind)) {
      return 2;
    }
    std::printf("{\"http_port\":%u,\"udp_port\":%u}\n", server_->port(),
                port_->local_address().port());
    std::fflush(stdout);
    const int seconds = std::stoi(option(options_, "seconds", "0"));
    if (seconds > 0) {
      stop_timer_.expires_after(std::chrono::seconds(seconds));
      stop_timer_.async_wait([this](auto error) {
        if (!error) {
          io_.stop();
        }
      });
    }
    signals_.async_wait([this](auto, int) { io_.stop(); });
    send_receiver_reports();
    io_.run();
    std::printf("%s\n", json::serialize(stats(false)).c_str());
    return 0;
  }

 private:
  bool start_http(const std::string& bind) {
    io::HttpRouter routes;
    auto offer = [this](const io::HttpRequest& request, const io::RequestContext&) {
      return on_offer(request);
    };
    auto remove = [this](const io::HttpRequest& request, const io::RequestContext&) {
      return on_delete(std::string(request.target()));
    };
    routes.post("/whip", offer).post("/whip/{stage}", offer);
    routes.del("/whip/{stage}/{session}", remove);
    routes.post("/answer", [this](const io::HttpRequest& request, const io::RequestContext&) {
      return on_answer(request);
    });
    routes.del("/session/{session}", remove);
    routes.get("/stats", [this](const io::HttpRequest&, const io::RequestContext&) {
      return io::json_response(io::http::status::ok, json::serialize(stats(true)));
    });
    routes.enable_cors();
    io::HttpServer::Options http;
    http.bind_address = bind;
    http.port = static_cast<std::uint16_t>(std::stoi(option(options_, "port", "0")));
    http.max_connections = 4096;
    server_ = std::make_unique<io::HttpServer>(io_, http, routes.as_handler());
    if (auto started = server_->start(); !started) {
      std::fprintf(stderr, "http: %s\n", started.error().message.c_str());
      return false;
    }
    return true;
  }

  // One empty receiver report to every connected session, then again in a second.
  void send_receiver_reports() {
    proto::RtcpReceiverReport report;
    report.sender_ssrc = 0x5157u;
    const Bytes compound = report.serialize();
    for (const auto& [id, session] : sessions_) {
      if (session.connected) {
        (void)router_.send_rtcp(id, compound);
      }
    }
    drain();
    report_timer_.expires_after(std::chrono::seconds(1));
    report_timer_.async_wait([this](auto error) {
      if (!error) {
        send_receiver_reports();
      }
    });
  }

  // RFC 7983: 128..191 is RTP/RTCP. From a connected session's address it is counted here;
  // everything else (STUN, DTLS, media before the handshake) goes to the router.
  void on_datagram(Instant now, const SocketAddress& from, ByteSpan bytes) {
    if (bytes.size() >= 12 && bytes[0] >= 128 && bytes[0] <= 191) {
      const auto found = by_address_.find(from);
      if (found != by_address_.end()) {
        count_media(now, sessions_.at(found->second), bytes);
        return;
      }
    }
    router_.handle_packet(now, from, bytes);
    drain();
  }

  static void note_first_media(Instant now, SinkSession& session) {
    if (!session.first_media_ms) {
      session.first_media_ms =
          std::chrono::duration<double, std::milli>(now - session.created).count();
      session.first_media_wall_ms = static_cast<double>(io::wall_now().unix_micros) / 1000.0;
    }
  }

  void count_media(Instant now, SinkSession& session, ByteSpan bytes) {
    note_first_media(now, session);
    // RFC 5761 §4: payload types 64..95 (with the marker bit: 192..223) are RTCP.
    if (bytes[1] >= 192 && bytes[1] <= 223) {
      ++session.rtcp_packets;
      return;
    }
    session.counter(read_u32(bytes.data() + 8)).count(read_u16(bytes.data() + 2), bytes.size());
  }

  // One counted session for a remote offer. WHIP publishers get the server answer (DTLS
  // passive); answer mode passes a policy with dtls_role = kClient and no feedback extensions
  // (the sink sends no TWCC or REMB, so it must not agree to them).
  struct Opened {
    engine::IceSessionId id = 0;
    std::string sdp;
  };
  Result<Opened> open_session(std::string_view offer, const std::string& path,
                              const engine::IngestPolicy& policy) {
    engine::LocalTransport local;
    local.ice = {random_token(random_, 8), random_token(random_, 24)};
    local.fingerprint = proto::SdpFingerprint{certificate_->fingerprint().algorithm,
                                              certificate_->fingerprint().digest};
    local.host_addresses = {port_->local_address()};
    local.session_id = random_.next_u64() >> 2;
    auto answer = engine::negotiate_ingest(offer, local, policy);
    if (!answer) {
      return answer.error();
    }
    engine::PeerSessionConfig config;
    config.dtls_role = policy.dtls_role;
    config.certificate = certificate_;
    config.remote_fingerprint = engine::DtlsFingerprint{answer->media.remote.fingerprint.algorithm,
                                                        answer->media.remote.fingerprint.digest};
    config.media.video_payload_type = answer->media.video.payload_type;
    config.media.video_ssrcs = answer->media.video.remote_ssrcs;
    if (answer->media.audio) {
      config.media.audio_payload_type = answer->media.audio->payload_type;
      config.media.audio_ssrcs = answer->media.audio->remote_ssrcs;
    }
    const Instant now = io::monotonic_now();
    auto id = router_.add_session(now, config, local.ice, answer->media.remote.ice);
    if (!id) {
      return id.error();
    }
    SinkSession& session = sessions_[*id];
    session.path = path;
    session.created = now;
    drain();
    return Opened{*id, std::move(answer->sdp)};
  }

  io::HttpResponse on_offer(const io::HttpRequest& request) {
    std::string path(request.target());
    auto opened = open_session(request.body(), path, {});
    if (!opened) {
      return io::text_response(io::http::status::bad_request, opened.error().message + "\n",
                               "text/plain");
    }
    auto response = io::text_response(io::http::status::created, opened->sdp, "application/sdp");
    const std::string stage = path.size() > 6 ? path.substr(6) : "default";
    response.set(io::http::field::location,
                 "http://" + std::string(request[io::http::field::host]) + "/whip/" + stage + "/" +
                     std::to_string(opened->id));
    return response;
  }

  // Answer mode: the remote (Janus) offered; we answer ICE-lite and DTLS active.
  io::HttpResponse on_answer(const io::HttpRequest& request) {
    engine::IngestPolicy policy;
    policy.accept_transport_cc = false;
    policy.accept_remb = false;
    policy.accept_simulcast = false;
    policy.dtls_role = engine::DtlsRole::kClient;
    auto opened = open_session(request.body(), "/answer", policy);
    if (!opened) {
      return io::text_response(io::http::status::bad_request, opened.error().message + "\n",
                               "text/plain");
    }
    auto response = io::text_response(io::http::status::created, opened->sdp, "application/sdp");
    response.set(io::http::field::location, "/session/" + std::to_string(opened->id));
    return response;
  }

  io::HttpResponse on_delete(const std::string& target) {
    const auto slash = target.rfind('/');
    const auto id =
        static_cast<engine::IceSessionId>(std::strtoul(target.c_str() + slash + 1, nullptr, 10));
    if (sessions_.count(id) == 0 || router_.session(id) == nullptr) {
      return io::text_response(io::http::status::not_found, "no such session\n", "text/plain");
    }
    forget_address(id);
    router_.remove_session(id);
    sessions_[id].connected = false;
    return io::text_response(io::http::status::ok, "", "text/plain");
  }

  void forget_address(engine::IceSessionId id) {
    for (auto it = by_address_.begin(); it != by_address_.end();) {
      it = it->second == id ? by_address_.erase(it) : std::next(it);
    }
  }

  void drain() {
    driver_.drain(
        [this] { return &router_; }, port_.get(), timer_,
        [this](engine::RoutedSessionEvent& routed) { on_event(routed.session, routed.event); });
  }

  void on_event(engine::IceSessionId id, const engine::PeerSessionEvent& event) {
    auto found = sessions_.find(id);
    if (found == sessions_.end()) {
      return;
    }
    if (const auto* connected = std::get_if<engine::SessionConnected>(&event)) {
      found->second.connected = true;
      found->second.srtp_profile = std::string(engine::to_string(connected->profile));
      by_address_[connected->remote] = id;
    } else if (const auto* media = std::get_if<engine::SessionMediaPacket>(&event)) {
      // Media that raced the handshake's last flight was decrypted by the session; count it.
      if (media->packet.size() >= 12) {
        note_first_media(io::monotonic_now(), found->second);
        found->second.counter(read_u32(media->packet.data() + 8))
            .count(read_u16(media->packet.data() + 2), media->packet.size());
      }
    } else if (std::holds_alternative<engine::SessionFailed>(event) ||
               std::holds_alternative<engine::SessionClosed>(event)) {
      found->second.connected = false;
      forget_address(id);
    }
  }

  json::object stats(bool per_session) const {
    std::uint64_t connected = 0, packets = 0, bytes = 0, rtcp = 0, gaps = 0, jumps = 0,
                  reordered = 0;
    std::vector<double> first_media;
    json::array details;
    for (const auto& [id, session] : sessions_) {
      std::uint64_t session_packets = 0, session_bytes = 0, session_gaps = 0, session_jumps = 0,
                    session_reordered = 0;
      for (const SsrcCounter& counter : session.ssrcs) {
        session_packets += counter.packets;
        session_bytes += counter.bytes;
        session_gaps += counter.gaps();
        session_jumps += counter.jumps;
        session_reordered += counter.reordered;
      }
      connected += session.connected ? 1 : 0;
      packets += session_packets;
      bytes += session_bytes;
      rtcp += session.rtcp_packets;
      gaps += session_gaps;
      jumps += session_jumps;
      reordered += session_reordered;
      if (session.first_media_ms) {
        first_media.push_back(*session.first_media_ms);
      }
      if (per_session) {
        details.push_back(json::object{
            {"id", id},
            {"path", session.path},
            {"connected", session.connected},
            {"packets", session_packets},
            {"bytes", session_bytes},
            {"gaps", session_gaps},
            {"jumps", session_jumps},
            {"reordered", session_reordered},
            {"ssrcs", session.ssrcs.size()},
            {"srtpProfile", session.srtp_profile},
            {"firstMediaMs",
             session.first_media_ms ? json::value(*session.first_media_ms) : json::value(nullptr)},
            {"firstMediaWallMs", session.first_media_wall_ms
                                     ? json::value(*session.first_media_wall_ms)
                                     : json::value(nullptr)}});
      }
    }
    json::object out{{"sessions", sessions_.size()},
                     {"connected", connected},
                     {"packets", packets},
                     {"bytes", bytes},
                     {"rtcpPackets", rtcp},
                     {"gaps", gaps},
                     {"jumps", jumps},
                     {"reordered", reordered}};
    out["firstMediaMs"] = json::object{{"count", first_media.size()},
                                       {"median", percentile(first_media, 0.5)},
                                       {"p99", percentile(first_media, 0.99)}};
    // The shared ICE-lite responder's counters: why a peer that never connects was refused.
    const engine::IceLiteCounters& ice = router_.ice().counters();
    out["ice"] = json::object{{"bindingRequests", ice.binding_requests},
                              {"nominations", ice.nominations},
                              {"consentExpired", ice.consent_expired},
                              {"badRequest", ice.rejected_bad_request},
                              {"unknownUfrag", ice.rejected_unknown_ufrag},
                              {"badIntegrity", ice.rejected_bad_integrity},
                              {"unknownAttribute", ice.rejected_unknown_attribute},
                              {"roleConflict", ice.rejected_role_conflict},
                              {"badFingerprint", ice.dropped_bad_fingerprint},
                              {"unknownAddress", ice.dropped_unknown_address},
                              {"malformed", ice.dropped_malformed},
                              {"unexpectedStun", ice.dropped_unexpected_stun},
                              {"bindingIndications", ice.binding_indications}};
    if (per_session) {
      out["perSession"] = std::move(details);
    }
    return out;
  }

  asio::io_context& io_;
  std::map<std::string, std::string> options_;
  engine::SecureRandom random_;
  std::shared_ptr<const engine::DtlsCertificate> certificate_;
  std::unique_ptr<io::UdpPort> port_;
  std::unique_ptr<io::HttpServer> server_;
  engine::PeerSessionRouter router_;
  io::EngineTimer timer_;
  io::EngineDriver driver_;
  asio::steady_timer stop_timer_;
  asio::steady_timer report_timer_{io_};
  asio::signal_set signals_;
  std::map<engine::IceSessionId, SinkSession> sessions_;
  std::unordered_map<SocketAddress, engine::IceSessionId, SocketAddressHash> by_address_;
};

}  // namespace

int main(int argc, char** argv) {
  asio::io_context io;
  Sink sink(io, parse_options(argc, argv));
  return sink.run();
}
