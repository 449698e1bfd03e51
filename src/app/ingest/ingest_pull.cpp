#include "app/ingest/ingest_pull.hpp"

#include <spdlog/spdlog.h>

#include "app/relay/relay_channel.hpp"
#include "io/clock.hpp"
#include "io/redact.hpp"

namespace ivs::app {

Duration pull_retry_delay(bool was_connected, std::optional<std::chrono::seconds> retry_after,
                          engine::Backoff& backoff, engine::RandomSource& random) {
  if (retry_after) {
    return *retry_after;
  }
  return was_connected ? Duration::zero() : backoff.next_delay(random);
}

IngestPull::IngestPull(boost::asio::io_context& io, RelayChannel& channel, WhepPullOptions options,
                       std::shared_ptr<const engine::DtlsCertificate> certificate,
                       engine::BackoffPolicy backoff)
    : io_(io),
      channel_(channel),
      options_(std::move(options)),
      certificate_(std::move(certificate)),
      backoff_(backoff),
      retry_timer_(io) {}

IngestPull::~IngestPull() {
  stop();
}

void IngestPull::start() {
  if (!stopped_) {
    return;
  }
  stopped_ = false;
  spdlog::info("ingest pull: taking the broadcast from {} (WHEP)", io::redact_url(options_.url));
  attempt();
}

void IngestPull::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  retry_timer_.cancel();
  if (session_) {
    if (session_->connected()) {
      channel_.upstream_lost(io::monotonic_now(), "the media server is stopping");
    }
    session_->close();
    session_.reset();
  }
}

void IngestPull::attempt() {
  waiting_ = false;
  ++attempts_;
  WhepPullListener& listener = *this;  // a private base: converted here, not in make_unique
  session_ = std::make_unique<WhepPullSession>(io_, options_, certificate_, listener);
}

void IngestPull::on_pull_connected(Instant now, const engine::NegotiatedMedia& media,
                                   engine::RelaySink& feedback, const std::string& remote) {
  ++connects_;
  connected_since_ = io::wall_now();
  backoff_.reset();
  spdlog::info("ingest pull: connected to {} ({})", io::redact_url(options_.url), remote);
  channel_.upstream_connected(now, media, feedback, remote);
}

void IngestPull::on_pull_media(Instant now, engine::MediaKind kind, ByteSpan packet) {
  channel_.upstream_media(now, kind, packet);
}

void IngestPull::on_pull_rtcp(Instant now, std::span<const proto::RtcpPacket> packets) {
  channel_.upstream_rtcp(now, packets);
}

void IngestPull::on_pull_ended(const std::string& reason,
                               std::optional<std::chrono::seconds> retry_after) {
  const bool was_connected = connected_since_.has_value();
  connected_since_.reset();
  last_error_ = io::redact_urls(reason);
  if (was_connected) {
    channel_.upstream_lost(io::monotonic_now(), last_error_);
  }
  session_.reset();  // after the channel let go of its feedback sink
  if (stopped_) {
    return;
  }
  const Duration delay = pull_retry_delay(was_connected, retry_after, backoff_, random_);
  const auto level = was_connected || !retry_after ? spdlog::level::warn : spdlog::level::debug;
  spdlog::log(level, "ingest pull: {}; next attempt in {} ms", last_error_,
              std::chrono::duration_cast<std::chrono::milliseconds>(delay).count());
  waiting_ = true;
  retry_timer_.expires_after(delay);
  retry_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error && !stopped_) {
      attempt();
    }
  });
}

IngestPullStatus IngestPull::status() const {
  IngestPullStatus out;
  out.url = io::redact_url(options_.url);
  out.state = stopped_                              ? "stopped"
              : waiting_                            ? "waiting"
              : (session_ && session_->connected()) ? "connected"
                                                    : "connecting";
  out.attempts = attempts_;
  out.connects = connects_;
  out.last_error = last_error_;
  out.connected_since = connected_since_;
  if (session_ && session_->counters()) {
    out.rtp_received = session_->counters()->rtp_received;
  }
  return out;
}

}  // namespace ivs::app
