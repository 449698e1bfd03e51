// The running part of `media-server publish` (test_publisher.hpp): HTTP offer/answer, the
// client PeerSession on one UDP socket, pacing, feedback and shutdown, on one io_context.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/url.hpp>

#include <cstdio>
#include <memory>

#include "app/egress/client_ice.hpp"
#include "app/publisher/media_file_source.hpp"
#include "app/publisher/publisher_media.hpp"
#include "app/publisher/send_pacer.hpp"
#include "app/publisher/test_publisher.hpp"
#include "engine/dtls_certificate.hpp"
#include "engine/peer_session.hpp"
#include "engine/random.hpp"
#include "engine/sdp_negotiation.hpp"
#include "io/clock.hpp"
#include "io/engine_driver.hpp"
#include "io/engine_timer.hpp"
#include "io/http_client.hpp"
#include "io/local_addresses.hpp"
#include "io/udp_port.hpp"
#include "proto/rtcp_compound.hpp"

namespace ivs::app {

namespace {

namespace asio = boost::asio;

std::string ice_chars(engine::RandomSource& random, std::size_t length) {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < length; ++i) {
    out.push_back(kAlphabet[random.uniform(sizeof(kAlphabet) - 1)]);
  }
  return out;
}

std::string first_line_of(const std::string& text) {
  const auto end = text.find_first_of("\r\n");
  return text.substr(0, end);
}

class Publisher {
 public:
  Publisher(asio::io_context& io, PublisherOptions options, LoadedMedia media)
      : io_(io),
        options_(std::move(options)),
        media_(std::move(media)),
        timer_(io, [this](Instant now) { on_timeout(now); }),
        pacer_(io),
        send_pacer_(effective_pace_kbps(options_)),
        reports_(io),
        deadline_(io),
        signals_(io, SIGINT, SIGTERM),
        http_(io) {}

  // Returns the process exit status.
  int run() {
    if (auto started = start(); !started) {
      std::fprintf(stderr, "publish: %s\n", started.error().message.c_str());
      return 1;
    }
    io_.run();
    summarize();
    std::printf("%s\n", summary_.to_json().c_str());
    std::fflush(stdout);
    return summary_.connected ? 0 : 1;
  }

 private:
  Status start() {
    auto certificate = engine::DtlsCertificate::generate(io::wall_now());
    if (!certificate) {
      return certificate.error();
    }
    certificate_ = *certificate;
    if (auto bound = open_socket(); !bound) {
      return bound.error();
    }
    local_.ice = {ice_chars(random_, 8), ice_chars(random_, 24)};
    local_.fingerprint = {certificate_->fingerprint().algorithm,
                          certificate_->fingerprint().digest};
    local_.host_addresses = host_addresses_;
    local_.session_id = random_.next_u64() >> 2;
    video_ssrc_ = random_.next_u32() | 1;
    audio_ssrc_ = random_.next_u32() & ~1U;
    engine::EgressOfferParams params;
    params.local = local_;
    params.streams =
        engine::OutgoingStreams{video_ssrc_, audio_ssrc_, "ivs-publish-" + ice_chars(random_, 6)};
    params.include_audio = !media_.audio.empty();
    offer_ = engine::make_egress_offer(params);
    post_offer();
    signals_.async_wait([this](const boost::system::error_code& error, int signal) {
      if (!error) {
        std::fprintf(stderr, "publish: signal %d, stopping\n", signal);
        stop("");
      }
    });
    const double limit = options_.seconds.value_or(0);
    deadline_.expires_after(std::chrono::milliseconds(
        static_cast<long long>((limit > 0 ? limit : options_.connect_timeout_seconds) * 1000)));
    deadline_.async_wait([this, limit](const boost::system::error_code& error) {
      if (error) {
        return;
      }
      if (limit > 0) {
        stop(summary_.connected ? "" : "not connected within --seconds");
      } else if (!summary_.connected) {
        stop("not connected within " +
             std::to_string(static_cast<int>(options_.connect_timeout_seconds)) + " s");
      }
    });
    return Ok{};
  }

  Status open_socket() {
    auto url = boost::urls::parse_absolute_uri(options_.url);
    const bool loopback = url && is_loopback_host(url->host());
    io::UdpPortOptions udp;
    udp.bind_address =
        loopback ? SocketAddress::ipv4({127, 0, 0, 1}, 0) : SocketAddress::ipv4({0, 0, 0, 0}, 0);
    auto port = io::UdpPort::open(io_, udp);
    if (!port) {
      return make_error("UDP socket: " + port.error().message);
    }
    port_ = std::move(*port);
    const std::uint16_t bound = port_->local_address().port();
    host_addresses_ = loopback ? std::vector<SocketAddress>{port_->local_address()}
                               : io::local_ipv4_addresses(bound);
    if (host_addresses_.empty()) {
      return make_error("no IPv4 interface address to offer as an ICE candidate");
    }
    port_->start([this](Instant now, const SocketAddress& from, ByteSpan bytes) {
      if (session_) {
        session_->handle_packet(now, from, bytes);
        drain(now);
      }
    });
    return Ok{};
  }

  void post_offer() {
    io::HttpClient::Request request;
    request.method = io::http::verb::post;
    request.url = options_.url;
    if (!options_.token.empty()) {
      request.headers = {{"Authorization", "Bearer " + options_.token}};
    }
    request.body = offer_.sdp;
    request.content_type = "application/sdp";
    request.timeout = std::chrono::seconds(10);
    std::fprintf(stderr, "publish: POST %s\n", options_.url.c_str());
    http_.request(request, [this](Result<io::HttpClient::Response> response) {
      on_answer(std::move(response));
    });
  }

  void on_answer(Result<io::HttpClient::Response> response) {
    if (stopping_) {
      return;
    }
    if (!response) {
      std::fprintf(stderr, "publish: %s\n", response.error().message.c_str());
      return stop(response.error().message);
    }
    if (response->status != 201) {
      const std::string line =
          "HTTP " + std::to_string(response->status) + ": " + first_line_of(response->body);
      std::fprintf(stderr, "publish: %s\n", line.c_str());
      return stop(line);
    }
    if (auto location = response->header("location")) {
      auto base =
          boost::urls::parse_uri(response->final_url.empty() ? options_.url : response->final_url);
      auto relative = boost::urls::parse_uri_reference(*location);
      if (base && relative) {
        boost::urls::url resolved;
        if (boost::urls::resolve(*base, *relative, resolved)) {
          summary_.resource_url = std::string(resolved.buffer());
        }
      }
    }
    if (summary_.resource_url.empty()) {
      std::fprintf(stderr, "publish: warning: 201 without a usable Location; no DELETE later\n");
    }
    if (auto started = start_session(response->body); !started) {
      std::fprintf(stderr, "publish: %s\n", started.error().message.c_str());
      stop(started.error().message);
    }
  }

  Status start_session(const std::string& answer_sdp) {
    auto answer = engine::accept_egress_answer(offer_.description, answer_sdp);
    if (!answer) {
      return make_error("answer: " + answer.error().message);
    }
    engine::PeerSessionConfig config;
    config.dtls_role = answer->dtls_role;
    config.certificate = certificate_;
    config.remote_fingerprint = {answer->media.remote.fingerprint.algorithm,
                                 answer->media.remote.fingerprint.digest};
    config.media.video_payload_type = answer->media.video.payload_type;
    MediaFileSource::Options source;
    source.video_payload_type = answer->media.video.payload_type;
    if (answer->media.audio && !media_.audio.empty()) {
      config.media.audio_payload_type = answer->media.audio->payload_type;
      source.audio_payload_type = answer->media.audio->payload_type;
    }
    auto ice = client_ice_from_answer(local_.ice, answer->media, port_->local_address());
    if (!ice) {
      return ice.error();
    }
    std::fprintf(stderr, "publish: answer with %zu UDP candidates; DTLS %s\n",
                 ice->candidates.size(),
                 answer->dtls_role == engine::DtlsRole::kClient ? "client" : "server");
    auto session = engine::PeerSession::create_client(config, *ice, random_);
    if (!session) {
      return session.error();
    }
    session_ = std::move(*session);
    source.video_ssrc = video_ssrc_;
    source.audio_ssrc = audio_ssrc_;
    source.video_sequence = static_cast<std::uint16_t>(random_.next_u32());
    source.audio_sequence = static_cast<std::uint16_t>(random_.next_u32());
    source.video_timestamp = random_.next_u32();
    source.audio_timestamp = random_.next_u32();
    source.fps = options_.fps;
    source.aggregate_nal_units = !options_.like_obs;
    source_.emplace(std::move(media_.video), std::move(media_.audio), source);
    const Instant now = io::monotonic_now();
    session_->start(now);
    drain(now);
    return Ok{};
  }

  void on_timeout(Instant now) {
    if (session_) {
      session_->handle_timeout(now);
      drain(now);
    }
  }

  void drain(Instant now) {
    (void)now;
    driver_.drain([this] { return session_.get(); }, port_.get(), timer_,
                  [this](const engine::PeerSessionEvent& event) { on_event(event); });
  }

  void on_event(const engine::PeerSessionEvent& event) {
    if (const auto* connected = std::get_if<engine::SessionConnected>(&event)) {
      if (!summary_.connected) {
        summary_.connected = true;
        std::fprintf(stderr, "publish: connected to %s; sending media\n",
                     connected->remote.to_string().c_str());
        pace();
        schedule_reports();
        if (!options_.seconds) {
          deadline_.cancel();
        }
      }
    } else if (const auto* rtcp = std::get_if<engine::SessionRtcpPacket>(&event)) {
      on_feedback(*rtcp);
    } else if (const auto* failed = std::get_if<engine::SessionFailed>(&event)) {
      std::fprintf(stderr, "publish: session failed: %s\n", failed->reason.c_str());
      stop(failed->reason);
    } else if (std::holds_alternative<engine::SessionClosed>(event) && !stopping_) {
      // The server ended the session (DTLS close_notify), e.g. a newer publisher replaced us.
      std::fprintf(stderr, "publish: the server closed the session\n");
      stop("closed by the server");
    }
  }

  void on_feedback(const engine::SessionRtcpPacket& rtcp) {
    for (const auto& packet : rtcp.packets) {
      if (const auto* nack = std::get_if<proto::RtcpNack>(&packet)) {
        for (std::uint16_t sequence : nack->sequence_numbers()) {
          ++summary_.nacks;
          if (auto bytes = source_->retransmission(nack->media_ssrc, sequence)) {
            session_->send_rtp(*bytes);
          }
        }
      } else if (std::holds_alternative<proto::RtcpPli>(packet) ||
                 std::holds_alternative<proto::RtcpFir>(packet)) {
        ++summary_.plis;
        if (!options_.like_obs) {
          source_->request_keyframe();  // OBS ignores keyframe requests (DESIGN.md §3)
        }
      }
    }
  }

  // Sends what is due, then sleeps until the next packet's media time.
  void pace() {
    if (stopping_ || !session_) {
      return;
    }
    const Instant now = io::monotonic_now();
    if (session_->state() == engine::PeerSessionState::kConnected) {
      for (Bytes& packet : source_->due(now)) {
        send_pacer_.push(std::move(packet));
      }
      for (const Bytes& packet : send_pacer_.pop_ready(now)) {
        session_->send_rtp(packet);
      }
      drain(now);
    }
    Instant next = source_->next_due().value_or(now + milliseconds(5));
    if (const auto wake = send_pacer_.next_wake(now)) {
      next = std::min(next, *wake);
    }
    pacer_.expires_at(std::max(next, now + microseconds(500)));
    pacer_.async_wait([this](const boost::system::error_code& error) {
      if (!error) {
        pace();
      }
    });
  }

  void schedule_reports() {
    reports_.expires_after(std::chrono::seconds(1));
    reports_.async_wait([this](const boost::system::error_code& error) {
      if (error || stopping_ || !session_) {
        return;
      }
      const Instant now = io::monotonic_now();
      for (const Bytes& report : source_->sender_reports(now, io::wall_now())) {
        session_->send_rtcp(report);
      }
      drain(now);
      schedule_reports();
    });
  }

  // Ends the run: DELETE the resource (bounded wait), close DTLS, stop the loop.
  void stop(const std::string& failure) {
    if (stopping_) {
      return;
    }
    stopping_ = true;
    if (summary_.failure.empty()) {
      summary_.failure = failure;
    }
    pacer_.cancel();
    reports_.cancel();
    deadline_.cancel();
    signals_.cancel();
    // The DELETE goes first: a close_notify before it would end the session on the server,
    // which then (rightly) answers the DELETE with 404.
    if (summary_.resource_url.empty()) {
      finish();
      return;
    }
    io::HttpClient::Request request;
    request.method = io::http::verb::delete_;
    request.url = summary_.resource_url;
    if (!options_.token.empty()) {
      request.headers = {{"Authorization", "Bearer " + options_.token}};
    }
    request.timeout = std::chrono::seconds(3);
    http_.request(request, [this](Result<io::HttpClient::Response> response) {
      if (response && response->status / 100 == 2) {
        summary_.deleted = true;
      } else {
        std::fprintf(stderr, "publish: DELETE %s: %s\n", summary_.resource_url.c_str(),
                     response ? ("HTTP " + std::to_string(response->status)).c_str()
                              : response.error().message.c_str());
      }
      finish();
    });
  }

  // DTLS close_notify (the server has ended the session already if the DELETE worked), then out.
  void finish() {
    if (session_) {
      const Instant now = io::monotonic_now();
      session_->close(now);
      drain(now);
    }
    io_.stop();
  }

  void summarize() {
    if (!source_) {
      return;
    }
    const auto& stats = source_->stats();
    summary_.video_frames = stats.video_frames;
    summary_.video_packets = stats.video_packets;
    summary_.audio_packets = stats.audio_packets;
    summary_.keyframes = stats.keyframes;
    summary_.retransmitted = stats.retransmitted;
    summary_.loops = stats.loops;
  }

  asio::io_context& io_;
  PublisherOptions options_;
  LoadedMedia media_;
  engine::SecureRandom random_;
  std::shared_ptr<const engine::DtlsCertificate> certificate_;
  std::unique_ptr<io::UdpPort> port_;
  std::vector<SocketAddress> host_addresses_;
  engine::LocalTransport local_;
  engine::EgressOffer offer_;
  std::uint32_t video_ssrc_ = 0;
  std::uint32_t audio_ssrc_ = 0;
  std::unique_ptr<engine::PeerSession> session_;
  std::optional<MediaFileSource> source_;
  io::EngineTimer timer_;
  io::EngineDriver driver_;
  asio::steady_timer pacer_;
  SendPacer send_pacer_;
  asio::steady_timer reports_;
  asio::steady_timer deadline_;
  asio::signal_set signals_;
  io::HttpClient http_;
  PublisherSummary summary_;
  bool stopping_ = false;
};

}  // namespace

int run_publish_role(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::fputs(publisher_usage().c_str(), stdout);
      return 0;
    }
  }
  auto options = parse_publisher_args(args);
  if (!options) {
    std::fprintf(stderr, "media-server publish: %s\n%s", options.error().message.c_str(),
                 publisher_usage().c_str());
    return 2;
  }
  auto media = load_media(*options);
  if (!media) {
    std::fprintf(stderr, "media-server publish: %s\n", media.error().message.c_str());
    PublisherSummary summary;
    summary.failure = media.error().message;
    std::printf("%s\n", summary.to_json().c_str());
    return 1;
  }
  asio::io_context io;
  Publisher publisher(io, std::move(*options), std::move(*media));
  return publisher.run();
}

}  // namespace ivs::app
