#include "app/ingest/whep_pull_session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <charconv>

#include "app/egress/client_ice.hpp"
#include "app/egress/whip_client_requests.hpp"
#include "engine/ice_candidate.hpp"
#include "io/clock.hpp"
#include "io/local_addresses.hpp"
#include "io/redact.hpp"
#include "proto/text.hpp"

namespace ivs::app {
namespace {

namespace asio = boost::asio;
constexpr auto kSilenceRecheck = std::chrono::milliseconds(10);

// Retry-After as delay-seconds (RFC 9110 §10.2.3); an HTTP-date is not worth reading here.
std::optional<std::chrono::seconds> retry_after_of(const io::HttpClient::Response& response) {
  const auto value = response.header("retry-after");
  if (!value) {
    return std::nullopt;
  }
  const std::string_view text = proto::text::trim(*value);
  unsigned seconds = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return std::chrono::seconds(std::min(seconds, 60U));
}

}  // namespace

WhepPullSession::WhepPullSession(asio::io_context& io, const WhepPullOptions& options,
                                 std::shared_ptr<const engine::DtlsCertificate> certificate,
                                 WhepPullListener& listener)
    : io_(io),
      options_(options),
      certificate_(std::move(certificate)),
      listener_(listener),
      http_(io),
      engine_timer_(io, [this](Instant now) { on_engine_timeout(now); }),
      connect_timer_(io),
      silence_timer_(io),
      alive_(std::make_shared<bool>(true)) {
  asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (auto flag = alive.lock(); flag && *flag) {
      start();
    }
  });
}

WhepPullSession::~WhepPullSession() {
  *alive_ = false;
  if (port_) {
    port_->close();
  }
}

// ---- setup --------------------------------------------------------------------------------

void WhepPullSession::start() {
  if (phase_ == Phase::kDone) {
    return;
  }
  if (auto opened = open_socket(); !opened) {
    end("udp: " + opened.error().message);
    return;
  }
  send_offer();
}

Status WhepPullSession::open_socket() {
  auto bind = SocketAddress::from_ip(options_.bind_ip, 0);
  if (!bind) {
    return Error{"bind address '" + options_.bind_ip + "' is not an IP address"};
  }
  io::UdpPortOptions udp;
  udp.bind_address = *bind;
  // The whole broadcast arrives here: the publisher's bitrate, and a GOP burst at the start.
  udp.receive_buffer_bytes = 4 << 20;
  udp.send_buffer_bytes = 256 * 1024;
  auto port = io::UdpPort::open(io_, udp);
  if (!port) {
    return port.error();
  }
  port_ = std::move(*port);
  port_->start([this](Instant now, const SocketAddress& from, ByteSpan bytes) {
    on_packet(now, from, bytes);
  });
  local_.host_addresses = io::host_addresses_of(port_->local_address());
  if (local_.host_addresses.empty()) {
    return Error{"no local interface address to advertise"};
  }
  return Ok();
}

void WhepPullSession::send_offer() {
  local_.ice = {random_.ice_chars(8), random_.ice_chars(24)};
  local_.fingerprint = proto::SdpFingerprint{certificate_->fingerprint().algorithm,
                                             certificate_->fingerprint().digest};
  local_.announced_ip = options_.announced_ip;
  local_.session_id = random_.next_u64() >> 2;
  engine::EgressOfferParams params;
  params.local = local_;
  params.receive_only = true;
  offer_ = engine::make_egress_offer(params);

  io::HttpClient::Request request =
      sdp_offer_request(options_.url, options_.token, offer_.sdp, options_.request_timeout);
  phase_ = Phase::kPosting;
  http_.request(std::move(request),
                [this, alive = std::weak_ptr<bool>(alive_)](Result<io::HttpClient::Response> r) {
                  if (auto flag = alive.lock(); flag && *flag) {
                    on_post_response(std::move(r));
                  }
                });
}

void WhepPullSession::on_post_response(Result<io::HttpClient::Response> response) {
  if (response && response->status == 201) {
    resource_url_ = resource_url_of(*response);
  }
  if (phase_ == Phase::kDone) {
    send_delete();  // closed while the POST was in flight: undo what the origin created
    return;
  }
  phase_ = Phase::kConnecting;  // the POST is over: from here on, ending DELETEs the resource
  const std::string where = "WHEP POST " + io::redact_url(options_.url);
  if (!response) {
    end(where + ": " + response.error().message);
    return;
  }
  if (response->status != 201) {
    std::string reason = where + " answered HTTP " + std::to_string(response->status);
    if (const std::string line = proto::text::first_line(response->body); !line.empty()) {
      reason += ": " + line;
    }
    end(reason, retry_after_of(*response));
    return;
  }
  auto answer = engine::accept_egress_answer(offer_.description, response->body);
  if (!answer) {
    end("WHEP answer from " + io::redact_url(response->final_url) +
        " unusable: " + answer.error().message);
    return;
  }
  answer_ = std::move(*answer);
  offer_ = {};
  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](auto error) {
    if (auto flag = alive.lock(); !error && flag && *flag && phase_ == Phase::kConnecting) {
      end("ICE/DTLS with the origin did not complete within " +
          std::to_string(options_.connect_timeout.count()) + " ms");
    }
  });
  create_peer_session();
}

void WhepPullSession::create_peer_session() {
  engine::PeerSessionConfig config;
  config.dtls_role = answer_->dtls_role;
  config.certificate = certificate_;
  config.remote_fingerprint = engine::DtlsFingerprint{answer_->media.remote.fingerprint.algorithm,
                                                      answer_->media.remote.fingerprint.digest};
  // Labels for what arrives: the origin's SSRCs from its answer first, payload types second.
  config.media.video_payload_type = answer_->media.video.payload_type;
  config.media.video_ssrcs = answer_->media.video.remote_ssrcs;
  if (answer_->media.audio) {
    config.media.audio_payload_type = answer_->media.audio->payload_type;
    config.media.audio_ssrcs = answer_->media.audio->remote_ssrcs;
  }
  auto ice = client_ice_from_answer(local_.ice, answer_->media, port_->local_address());
  if (!ice) {
    end("WHEP: " + ice.error().message);
    return;
  }
  auto session = start_client_session(std::move(config), std::move(*ice), random_, early_checks_,
                                      io::monotonic_now());
  if (!session) {
    end(session.error().message);
    return;
  }
  peer_ = std::move(*session);
  phase_ = Phase::kConnecting;
  drain();
}

// ---- the running session ------------------------------------------------------------------

void WhepPullSession::on_packet(Instant now, const SocketAddress& from, ByteSpan bytes) {
  if (!peer_ && phase_ != Phase::kDone && early_checks_.keep(from, bytes)) {
    return;
  }
  if (!peer_ || phase_ == Phase::kDone) {
    return;
  }
  peer_->handle_packet(now, from, bytes);
  drain();
}

void WhepPullSession::on_engine_timeout(Instant now) {
  if (!peer_ || phase_ == Phase::kDone) {
    return;
  }
  peer_->handle_timeout(now);
  drain();
}

void WhepPullSession::drain() {
  driver_.drain(
      [this]() -> engine::PeerSession* { return phase_ == Phase::kDone ? nullptr : peer_.get(); },
      port_.get(), engine_timer_, [this](engine::PeerSessionEvent& event) { on_event(event); });
}

void WhepPullSession::on_event(engine::PeerSessionEvent& event) {
  const Instant now = io::monotonic_now();
  if (auto* media = std::get_if<engine::SessionMediaPacket>(&event)) {
    if (phase_ == Phase::kConnected) {
      last_rtp_ = now;
      listener_.on_pull_media(now, media->kind, media->packet);
    }
  } else if (auto* rtcp = std::get_if<engine::SessionRtcpPacket>(&event)) {
    if (phase_ == Phase::kConnected) {
      listener_.on_pull_rtcp(now, rtcp->packets);
    }
  } else if (auto* connected = std::get_if<engine::SessionConnected>(&event)) {
    connect_timer_.cancel();
    phase_ = Phase::kConnected;
    last_rtp_ = now;
    watch_silence();
    listener_.on_pull_connected(now, answer_->media, *this, connected->remote.to_string());
  } else if (auto* failed = std::get_if<engine::SessionFailed>(&event)) {
    end((phase_ == Phase::kConnected ? "session lost: " : "ICE/DTLS: ") + failed->reason);
  } else if (std::holds_alternative<engine::SessionClosed>(event)) {
    end("the origin closed the DTLS session");
  }
}

void WhepPullSession::watch_silence() {
  // Armed for the moment the silence would reach the timeout, not polled: a dead origin is
  // noticed at the timeout itself, which is most of an edge's failover time.
  const Duration silent = io::monotonic_now() - last_rtp_;
  const Duration left = std::max<Duration>(options_.silence_timeout - silent, kSilenceRecheck);
  silence_timer_.expires_after(left);
  silence_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](auto error) {
    auto flag = alive.lock();
    if (error || !flag || !*flag || phase_ != Phase::kConnected) {
      return;
    }
    if (io::monotonic_now() - last_rtp_ >= options_.silence_timeout) {
      end("no RTP from the origin for " + std::to_string(options_.silence_timeout.count()) + " ms");
      return;
    }
    watch_silence();
  });
}

void WhepPullSession::send_rtp(ByteSpan /*packet*/) {
  // The relay sends its publisher feedback only; an edge sends the origin no media.
}

void WhepPullSession::send_rtcp(ByteSpan packet) {
  if (phase_ != Phase::kConnected || !peer_) {
    return;
  }
  peer_->send_rtcp(packet);
  drain();  // nested inside a drain (the relay runs from our events): the loop goes round again
}

// ---- the end ------------------------------------------------------------------------------

void WhepPullSession::release() {
  if (peer_ && phase_ == Phase::kConnected) {
    peer_->close(io::monotonic_now());  // DTLS close_notify: the origin frees the viewer slot
    while (auto transmit = peer_->poll_transmit()) {
      if (port_ && port_->is_open()) {
        port_->send(transmit->destination, transmit->payload);
      }
    }
  }
  const bool posting = phase_ == Phase::kPosting;
  phase_ = Phase::kDone;
  engine_timer_.cancel();
  connect_timer_.cancel();
  silence_timer_.cancel();
  if (port_) {
    port_->flush();
    port_->close();
  }
  if (!posting) {
    send_delete();  // a POST in flight DELETEs from its completion (on_post_response)
  }
}

void WhepPullSession::end(const std::string& reason,
                          std::optional<std::chrono::seconds> retry_after) {
  if (ended_ || phase_ == Phase::kDone) {
    return;
  }
  ended_ = true;
  release();
  asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), reason, retry_after] {
    if (auto flag = alive.lock(); flag && *flag) {
      listener_.on_pull_ended(reason, retry_after);
    }
  });
}

void WhepPullSession::close() {
  ended_ = true;
  if (phase_ != Phase::kDone) {
    release();
  }
}

void WhepPullSession::send_delete() {
  if (resource_url_.empty()) {
    return;
  }
  io::HttpClient::Request request =
      resource_delete_request(resource_url_, options_.token, options_.request_timeout);
  const std::string url = io::redact_url(resource_url_);
  resource_url_.clear();  // one DELETE per resource
  // Fire and forget: HttpClient requests outlive the session.
  http_.request(std::move(request), [url](Result<io::HttpClient::Response> r) {
    if (!r) {
      spdlog::debug("ingest pull: DELETE {}: {}", url, io::redact_urls(r.error().message));
    } else {
      spdlog::debug("ingest pull: DELETE {} -> {}", url, r->status);
    }
  });
}

}  // namespace ivs::app
