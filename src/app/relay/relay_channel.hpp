// One relayed stream: a WHIP ingest publisher (RFC 9725), its WHEP viewers, and the WHIP egress
// legs that attach through EgressMediaSource, around one engine::Relay (DESIGN.md §5), on a
// shared MediaPlane. The serve role has one channel; the stage role has one per stage.
//
//   publisher offer ─► accept_publisher ─► negotiate_ingest ─► plane session (ICE-lite, DTLS)
//        Connected ─► relay.start_publisher(feedback sink = that session's SRTCP)
//        media/RTCP ─► relay.handle_publisher_rtp / _rtcp ─► every leg's RelaySink
//   viewer offer ─► accept_viewer ─► negotiate_whep (own SSRCs) ─► plane session
//        Connected ─► with media workers: a leg on a worker's shard, sent there with the
//        session's SRTP context (worker_viewers.hpp); RTCP ─► carried to it. Otherwise (and for
//        ?layer= viewers): relay.add_egress(sink = that session's SRTP); RTCP ─► handle_egress_rtcp
//   egress leg (app/egress/whip_egress) ─► attach / feedback / detach (EgressMediaSource)
//
// Policies and why:
// - A second publisher replaces the first (default; make-before-break: the old one keeps
//   feeding until the new one is connected, then it is closed) or is refused with 409
//   (WHIP_PUBLISHER_POLICY=refuse) while one is connecting or live.
// - Publishers that offer transport-cc get transport-wide feedback every 50 ms and a REMB cap
//   at INGEST_MAX_BITRATE (relay_channel_feedback.cpp), so a browser's own estimator ramps up;
//   OBS (no transport-cc) gets neither. WHEP answers decline both.
// - Simulcast (OBS 32.1+, browsers): every offered layer is accepted (OBS fails otherwise), and
//   an engine::SimulcastSelector (relay_channel_simulcast.cpp) feeds the relay the best layer
//   within IVS limits, read from each layer's SPS, switching at keyframes, falling back when the
//   chosen layer is silent for more than 0.7 s (the serve role's layer_timeout).
// - The SPS is only known from media: a violation of the IVS limits is logged loudly and shown
//   in status(); with reject_video_over_ivs_limits the publisher session is ended.
// - A session that is not connected within connect_timeout (ICE or DTLS never completed) is
//   removed, so a client that POSTs and walks away leaves nothing behind.
// Everything runs on the io_context's thread; output happens synchronously inside the calls
// (sinks), and the channel re-arms its relay timer after every relay input.
//
// Time: the channel reads now() and arms its timers (relay, simulcast, housekeeping) through an
// io::ControlClock, the steady one unless a test gives a simulated clock; with a fake
// MediaSessionHost (media_session_host.hpp) its rules then run on simulated time
// (tests/app/relay_channel_simulated_test.cpp). Media events carry the host's own `now`.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "app/egress/egress_media_source.hpp"
#include "app/relay/forward_delay.hpp"
#include "app/relay/media_session_host.hpp"
#include "app/relay/relay_shard_link.hpp"
#include "app/web/media_status.hpp"
#include "engine/ingest_congestion_feedback.hpp"
#include "engine/relay.hpp"
#include "io/control_clock.hpp"
#include "io/engine_timer.hpp"
#include "proto/time.hpp"

namespace ivs::app {

struct RelayChannelOptions {
  std::string name = "serve";                 // for logs: "serve" or the stage id
  bool refuse_second_publisher = false;       // WHIP_PUBLISHER_POLICY=refuse
  std::size_t max_viewers = 100;              // WHEP_MAX_VIEWERS
  bool reject_video_over_ivs_limits = false;  // VIDEO_LIMITS_POLICY=reject
  Duration connect_timeout = std::chrono::seconds(15);
  // INGEST_MAX_BITRATE: the REMB cap sent to a publisher that negotiated goog-remb.
  std::uint64_t ingest_max_bitrate_bps = 6'000'000;
  engine::RelayConfig relay;
  // Called with true when a publisher goes live (none was) and false when the live one ends
  // without a successor: the serve role sends a heartbeat at once (ControlPlane).
  std::function<void(bool live)> on_publisher_live_changed;
};

struct SessionAccepted {
  std::string id;          // resource id (32 hex chars, unguessable: the DELETE capability)
  std::string answer_sdp;  // application/sdp
  std::string etag;        // quoted, for the ETag header
};

struct SessionRefused {
  int http_status = 400;  // 400, 409, 422, 503, 500
  std::string message;    // a sentence for the person at the other end
  std::optional<int> retry_after_seconds;
};

using AcceptOutcome = std::variant<SessionAccepted, SessionRefused>;

enum class SessionRole { publisher, viewer };

class RelayChannel final : public EgressMediaSource, private MediaSessionHandler {
 public:
  // `clock` (a simulated one in tests) must outlive the channel; null means real time.
  RelayChannel(boost::asio::io_context& io, MediaSessionHost& plane, RelayChannelOptions options,
               io::ControlClock* clock = nullptr);
  ~RelayChannel() override;
  RelayChannel(const RelayChannel&) = delete;
  RelayChannel& operator=(const RelayChannel&) = delete;

  // WHIP ingest: 201 material or a refusal (409 refuse-policy, 400/422 negotiation reason,
  // 503 plane full).
  AcceptOutcome accept_publisher(std::string_view offer_sdp);
  // WHEP: 409 + Retry-After 1 while no publisher is live, 503 beyond max_viewers. `layer`
  // (WHEP ?layer=<rid>) asks for one simulcast layer instead of the automatic choice; 400 when
  // the publisher sends no layer of that name.
  AcceptOutcome accept_viewer(std::string_view offer_sdp,
                              const std::optional<std::string>& layer = std::nullopt);
  // WHIP/WHEP DELETE: true when `id` names a session of that role (it is closed) or one of the
  // last 128 that ended by themselves (a client closing its PeerConnection before the DELETE).
  bool end_session(std::string_view id, SessionRole role);
  // Shutdown: closes the publisher and every viewer (close_notify); egress legs stay attached
  // (their owners detach them).
  void close_all();

  ChannelStatus status() const;
  bool publisher_live() const;
  std::size_t viewer_count() const;
  std::size_t connecting_viewer_count() const;  // accepted, not connected yet
  const RelayChannelOptions& options() const { return options_; }

  // INGEST_PULL_URL (app/ingest/ingest_pull.hpp): the stream pulled from another media server
  // with WHEP feeds the relay like a publisher. Its arrival is a publisher switch (stages stay
  // up, their sequence and timestamp spaces continuous, joins served from the GOP cache), and
  // the newest source feeds: a WHIP publisher that connects takes over from the upstream, which
  // feeds again when that publisher ends; an upstream that connects replaces a WHIP publisher.
  // `feedback` (NACK, PLI, receiver reports toward the origin) must outlive upstream_lost().
  void upstream_connected(Instant now, const engine::NegotiatedMedia& media,
                          engine::RelaySink& feedback, std::string remote);
  void upstream_media(Instant now, engine::MediaKind kind, ByteSpan packet);
  void upstream_rtcp(Instant now, std::span<const proto::RtcpPacket> packets);
  void upstream_lost(Instant now, std::string_view reason);

  // Media workers (MEDIA_WORKERS > 1): fan-out shards on other threads that get every publisher
  // epoch and accepted packet from now on, and the callback they use, from any thread, to ask
  // the publisher for a keyframe (it posts to this channel's thread).
  // Once a shard has the plane's socket (MediaSessionHost::duplicate_socket), connected WHEP
  // viewers that asked for no particular layer are sent from the workers too, least-loaded
  // shard first (worker_viewers.hpp); otherwise, and for ?layer= viewers, from this thread.
  // The shard must outlive the channel.
  void add_shard(RelayShardLink& shard);
  std::function<void()> keyframe_requester();

  // EgressMediaSource (WHIP egress legs).
  engine::EgressId attach(Instant now, const engine::RelayEgressFormat& format,
                          engine::RelaySink& sink) override;
  void detach(engine::EgressId id) override;
  void feedback(Instant now, engine::EgressId id,
                std::span<const proto::RtcpPacket> packets) override;
  std::optional<engine::RelayEgressStats> stats(engine::EgressId id) const override;
  std::string h264_profile_level_id() const override;

 private:
  struct Session;
  class SessionSink;

  void on_session_event(Instant now, engine::IceSessionId id,
                        engine::PeerSessionEvent& event) override;
  void on_connected(Instant now, Session& session);
  void on_media(Instant now, Session& session, engine::SessionMediaPacket& media);
  void on_rtcp(Instant now, Session& session, engine::SessionRtcpPacket& rtcp);
  void end(Instant now, Session& session, bool send_close, std::string_view reason);
  Session* find(engine::IceSessionId id);
  Session* find(std::string_view resource_id);
  struct Opened {
    Session* session = nullptr;
    std::string answer_sdp;
  };
  Result<Opened> open_session(Instant now, SessionRole role, std::string_view offer_sdp,
                              const engine::OutgoingStreams* streams);
  void after_relay_input(Instant now);
  // after_relay_input, then the forward-delay sample of a publisher's or upstream's packet.
  void after_source_packet(Instant now);
  // relay_channel_upstream.cpp: a WHIP publisher or the pulled upstream feeds the relay.
  bool source_live() const;
  void feed_from_upstream(Instant now);
  // The relay's publisher input, also carried to the shards on media workers.
  void feed_relay(Instant now, engine::MediaKind kind, ByteSpan packet);
  void start_relay_source(Instant now, const engine::RelaySourceFormat& format,
                          engine::RelaySink& feedback);
  void stop_relay_source(Instant now);
  void publish_profile_level_id();
  void on_relay_timeout(Instant now);
  // relay_channel_feedback.cpp: congestion-control feedback toward the live publisher.
  std::unique_ptr<engine::IngestCongestionFeedback> make_congestion_feedback(
      const engine::NegotiatedMedia& media) const;
  void send_publisher_feedback(Instant now);
  std::optional<Instant> next_timeout();
  void on_housekeeping();
  void schedule_housekeeping();
  void sample_bitrates(Instant now);
  // Simulcast (relay_channel_simulcast.cpp).
  class SimulcastFeed;
  void start_simulcast(Session& session);
  void on_simulcast_video(Instant now, Session& session, ByteSpan packet);
  void on_simulcast_timeout(Instant now);
  void simulcast_status(PublisherStatus& status) const;
  // WHEP viewers that asked for a layer get it from a relay of their own per layer, created at
  // the first such viewer and dropped with the last one.
  struct LayerRelay;
  std::optional<std::string> check_layer(const std::optional<std::string>& layer) const;
  engine::EgressId add_viewer_leg(Instant now, const Session& session,
                                  const engine::RelayEgressFormat& format);
  engine::Relay* find_relay(const Session& session);
  // relay_channel_shards.cpp: WHEP viewers sent from media workers.
  bool open_viewer_on_worker(Session& session, const engine::RelayEgressFormat& format);
  RelayShardLink* least_loaded_viewer_shard() const;
  void carry_viewer_rtcp(Session& session, engine::SessionRtcpPacket& rtcp);
  void remove_viewer_leg(Session& session);
  void start_layer_relays(Instant now, Session& publisher);
  void stop_layer_relays(Instant now);
  void feed_layer_relays(Instant now, engine::MediaKind kind, ByteSpan packet);
  void feed_layer_relays(Instant now, std::span<const proto::RtcpPacket> packets);

  boost::asio::io_context& io_;
  std::unique_ptr<io::ControlClock> owned_clock_;  // the real clock, unless one was given
  io::ControlClock& clock_;
  MediaSessionHost& plane_;
  RelayChannelOptions options_;
  engine::Relay relay_;
  std::unique_ptr<io::EngineTimer> relay_timer_;
  std::unique_ptr<io::EngineTimer> simulcast_timer_;
  std::map<std::string, std::unique_ptr<LayerRelay>> layer_relays_;  // by rid
  std::unique_ptr<io::ControlTimer> housekeeping_;
  std::map<engine::IceSessionId, std::unique_ptr<Session>> sessions_;
  // The publisher feeding the relay, and the one accepted but not yet connected (it replaces
  // the live one when it connects).
  std::optional<engine::IceSessionId> publisher_;
  std::optional<engine::IceSessionId> pending_publisher_;
  // The pulled stream (INGEST_PULL_URL) while its session is connected; `feeding` while it is
  // the relay's source (no WHIP publisher took over).
  struct Upstream {
    engine::NegotiatedMedia media;
    engine::RelaySink* feedback = nullptr;
    std::string remote;
    bool feeding = false;
  };
  std::optional<Upstream> upstream_;
  std::size_t external_legs_ = 0;
  std::vector<RelayShardLink*> shards_;
  std::vector<RelayShardLink*> viewer_shards_;  // the shards given the plane's socket
  std::uint64_t next_viewer_key_ = 1;
  std::uint64_t publishes_ = 0;
  std::uint64_t deletes_ = 0;
  std::uint64_t viewers_accepted_ = 0;
  std::optional<WallTime> publisher_since_;
  std::vector<std::string> warnings_;
  struct RateSample {
    Instant at;
    std::uint64_t video_bytes = 0;
    std::uint64_t audio_bytes = 0;
  };
  std::deque<RateSample> samples_;
  // Sessions that ended on their own (peer DTLS close, consent loss, timeout): a WHIP client
  // often closes its PeerConnection before it sends the DELETE, which must still answer 200.
  struct EndedSession {
    std::string resource_id;
    SessionRole role = SessionRole::publisher;
  };
  std::deque<EndedSession> recently_ended_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  ForwardDelayProbe forward_delay_;  // after alive_: its post guard captures it
};

}  // namespace ivs::app
