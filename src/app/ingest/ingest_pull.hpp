// INGEST_PULL_URL: an edge media server takes the broadcast from another media server (its
// origin) with WHEP instead of, or besides, a publisher's WHIP (docs/scale-out.md). A tree of
// them (origin → edges → edges) spreads one broadcast over as many machines as its stages need.
//
//   IngestPull ─► WhepPullSession (one attempt) ─► connected ─► RelayChannel::upstream_connected
//        ▲                                          media/RTCP ─► upstream_media / upstream_rtcp
//        └── backoff (Retry-After when given) ◄── ended ─► RelayChannel::upstream_lost
//
// What the stages see: the upstream's arrival is a publisher switch in the relay, so their WHIP
// sessions stay up, their sequence and timestamp spaces stay continuous, and a stage joining
// after a reconnect starts from the GOP cache. The origin's WHEP endpoint refuses with 409 and
// Retry-After: 1 while it has no publisher; the pull then retries every second, so an edge
// follows a broadcaster that reconnects (to this origin, or to another behind the same
// Service) within about a second of the new publisher.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <string>

#include "app/ingest/whep_pull_session.hpp"
#include "app/web/media_status.hpp"
#include "engine/backoff.hpp"
#include "engine/random.hpp"
#include "proto/time.hpp"

namespace ivs::app {

class RelayChannel;

// How long an edge waits before its next pull attempt. An origin without a publisher says when
// to ask again (409, Retry-After: 1): that is followed, so the edge is back within about a
// second of the broadcaster. A pull that was up is tried again at once: the origin died or
// closed, and a replacement may already answer behind the same name (issue 16: after a 250 ms
// backoff and a coarse silence check the edge missed the 2 s target). Other failures back off.
Duration pull_retry_delay(bool was_connected, std::optional<std::chrono::seconds> retry_after,
                          engine::Backoff& backoff, engine::RandomSource& random);

class IngestPull final : private WhepPullListener {
 public:
  // An unreachable origin is asked again within 2 s at most: one POST per edge every 2 s is
  // nothing to an origin, and a replacement origin is found as soon as it answers.
  static constexpr engine::BackoffPolicy kDefaultBackoff{
      std::chrono::milliseconds(250), std::chrono::seconds(2), 2.0, engine::Jitter::full};

  IngestPull(boost::asio::io_context& io, RelayChannel& channel, WhepPullOptions options,
             std::shared_ptr<const engine::DtlsCertificate> certificate,
             engine::BackoffPolicy backoff = kDefaultBackoff);
  ~IngestPull() override;
  IngestPull(const IngestPull&) = delete;
  IngestPull& operator=(const IngestPull&) = delete;

  void start();
  // Shutdown: the current attempt is closed (DTLS close_notify, DELETE), no new one starts.
  void stop();
  IngestPullStatus status() const;

 private:
  void attempt();
  void on_pull_connected(Instant now, const engine::NegotiatedMedia& media,
                         engine::RelaySink& feedback, const std::string& remote) override;
  void on_pull_media(Instant now, engine::MediaKind kind, ByteSpan packet) override;
  void on_pull_rtcp(Instant now, std::span<const proto::RtcpPacket> packets) override;
  void on_pull_ended(const std::string& reason,
                     std::optional<std::chrono::seconds> retry_after) override;

  boost::asio::io_context& io_;
  RelayChannel& channel_;
  WhepPullOptions options_;
  std::shared_ptr<const engine::DtlsCertificate> certificate_;
  engine::Backoff backoff_;
  engine::SecureRandom random_;
  std::unique_ptr<WhepPullSession> session_;
  boost::asio::steady_timer retry_timer_;
  bool stopped_ = true;
  bool waiting_ = false;
  std::uint64_t attempts_ = 0;
  std::uint64_t connects_ = 0;
  std::string last_error_;
  std::optional<WallTime> connected_since_;
};

}  // namespace ivs::app
