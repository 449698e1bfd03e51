#include "app/relay/relay_channel.hpp"
#include "app/relay/media_plane.hpp"  // random_hex
#include "app/relay/relay_channel_session.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "io/clock.hpp"
#include "io/engine_timer.hpp"
#include "proto/sdp.hpp"

namespace ivs::app {

namespace {

constexpr std::size_t kMaxOfferBytes = std::size_t{64} * 1024;
constexpr std::size_t kRecentlyEnded = 128;

// A publisher that agrees to transport-cc gets that feedback, plus a REMB cap when it also
// agrees to goog-remb (relay_channel_feedback.cpp), so the ingest answer accepts both. WHEP
// viewers do not: we neither number our packets transport-wide nor read their feedback.
engine::IngestPolicy ingest_policy(SessionRole role) {
  engine::IngestPolicy policy;
  policy.accept_transport_cc = role == SessionRole::publisher;
  policy.accept_remb = role == SessionRole::publisher;
  policy.accept_simulcast = true;
  return policy;
}

engine::DtlsFingerprint to_dtls(const proto::SdpFingerprint& fingerprint) {
  return engine::DtlsFingerprint{fingerprint.algorithm, fingerprint.digest};
}

SessionRefused refuse(int status, std::string message, std::optional<int> retry = std::nullopt) {
  return SessionRefused{status, std::move(message), retry};
}

// Sender reports carry NTP wall time and the relay reads no clock: give it one reference pair
// (both clocks read now) from which it projects wall time for any later Instant. Set once in
// options().relay, so the channel's relay, its layer relays and the workers' shards agree.
RelayChannelOptions with_clock_reference(RelayChannelOptions options, Instant now) {
  options.relay.reference_instant = now;
  options.relay.wall_at_reference = io::wall_now();
  return options;
}

}  // namespace

RelayChannel::RelayChannel(boost::asio::io_context& io, MediaSessionHost& plane,
                           RelayChannelOptions options, io::ControlClock* clock)
    : io_(io),
      owned_clock_(clock ? nullptr : std::make_unique<io::SteadyControlClock>(io)),
      clock_(clock ? *clock : *owned_clock_),
      plane_(plane),
      options_(with_clock_reference(std::move(options), clock_.now())),
      relay_(options_.relay),
      relay_timer_(std::make_unique<io::EngineTimer>(
          clock_, [this](Instant now) { on_relay_timeout(now); })),
      simulcast_timer_(std::make_unique<io::EngineTimer>(
          clock_, [this](Instant now) { on_simulcast_timeout(now); })),
      housekeeping_(clock_.make_timer()),
      forward_delay_(
          [this](std::function<void()> handler) {
            boost::asio::post(io_,
                              [alive = std::weak_ptr<bool>(alive_), handler = std::move(handler)] {
                                if (auto still = alive.lock(); still && *still) {
                                  handler();
                                }
                              });
          },
          [this] { return clock_.now(); }) {
  schedule_housekeeping();
}

RelayChannel::~RelayChannel() {
  *alive_ = false;
  housekeeping_->cancel();
  relay_timer_->cancel();
  simulcast_timer_->cancel();
  for (auto& [id, session] : sessions_) {
    remove_viewer_leg(*session);
    plane_.remove_session(id);
  }
  sessions_.clear();
  layer_relays_.clear();
}

RelayChannel::Session* RelayChannel::find(engine::IceSessionId id) {
  auto found = sessions_.find(id);
  return found == sessions_.end() ? nullptr : found->second.get();
}

RelayChannel::Session* RelayChannel::find(std::string_view resource_id) {
  for (auto& [id, session] : sessions_) {
    if (session->resource_id == resource_id) {
      return session.get();
    }
  }
  return nullptr;
}

Result<RelayChannel::Opened> RelayChannel::open_session(Instant now, SessionRole role,
                                                        std::string_view offer_sdp,
                                                        const engine::OutgoingStreams* streams) {
  engine::LocalTransport local = plane_.make_local_transport();
  auto answer = role == SessionRole::publisher
                    ? engine::negotiate_ingest(offer_sdp, local, ingest_policy(role))
                    : engine::negotiate_whep(offer_sdp, local, *streams, ingest_policy(role));
  if (!answer) {
    return answer.error();
  }
  engine::PeerSessionConfig config;
  config.dtls_role = engine::DtlsRole::kServer;  // offers with a=setup:passive are refused
  config.certificate = plane_.certificate();
  config.remote_fingerprint = to_dtls(answer->media.remote.fingerprint);
  config.media.video_payload_type = answer->media.video.payload_type;
  config.media.video_ssrcs = answer->media.video.remote_ssrcs;
  if (answer->media.audio) {
    config.media.audio_payload_type = answer->media.audio->payload_type;
    config.media.audio_ssrcs = answer->media.audio->remote_ssrcs;
  }
  auto id = plane_.add_session(now, std::move(config), local.ice, answer->media.remote.ice, *this);
  if (!id) {
    return Error{"session: " + id.error().message};
  }
  auto session = std::make_unique<Session>();
  session->ice_id = *id;
  session->role = role;
  session->resource_id = random_hex(plane_.random(), 16);
  session->media = std::move(answer->media);
  if (streams) {
    session->streams = *streams;
  }
  session->created = now;
  session->sink = std::make_unique<SessionSink>(plane_, *id);
  if (role == SessionRole::publisher) {
    session->congestion = make_congestion_feedback(session->media);
  }
  Opened opened{session.get(), std::move(answer->sdp)};
  sessions_[*id] = std::move(session);
  return opened;
}

namespace {

// 400 when the text is not SDP at all, 422 when it is SDP we cannot use (RFC 9110 §15.5.21).
int negotiation_status(std::string_view offer_sdp) {
  return proto::parse_sdp(offer_sdp) ? 422 : 400;
}

}  // namespace

AcceptOutcome RelayChannel::accept_publisher(std::string_view offer_sdp) {
  if (offer_sdp.size() > kMaxOfferBytes) {
    return refuse(413, "the SDP offer is larger than 64 KiB");
  }
  if (options_.refuse_second_publisher && (publisher_ || pending_publisher_)) {
    return refuse(409,
                  "a publisher is already live on this endpoint (WHIP_PUBLISHER_POLICY=refuse); "
                  "stop it or DELETE its session first");
  }
  const Instant now = clock_.now();
  auto opened = open_session(now, SessionRole::publisher, offer_sdp, nullptr);
  if (!opened) {
    const bool full = opened.error().message.rfind("session: ", 0) == 0;
    return refuse(full ? 503 : negotiation_status(offer_sdp), opened.error().message);
  }
  Session& session = *opened->session;
  if (pending_publisher_) {
    // A newer offer supersedes one that never connected.
    if (Session* older = find(*pending_publisher_)) {
      end(now, *older, true, "replaced by a newer publisher before it connected");
    }
  }
  pending_publisher_ = session.ice_id;
  ++publishes_;
  SessionAccepted accepted{session.resource_id, std::move(opened->answer_sdp),
                           "\"" + random_hex(plane_.random(), 8) + "\""};
  spdlog::info("[{}] publisher offer accepted (session {}, video PT {}{}{})", options_.name,
               session.resource_id.substr(0, 8), session.media.video.payload_type,
               session.media.audio
                   ? ", audio PT " + std::to_string(session.media.audio->payload_type)
                   : std::string(", no audio"),
               session.media.video.rids.size() > 1
                   ? ", simulcast: " + std::to_string(session.media.video.rids.size()) + " layers"
                   : std::string());
  plane_.drain(now);
  return accepted;
}

AcceptOutcome RelayChannel::accept_viewer(std::string_view offer_sdp,
                                          const std::optional<std::string>& layer) {
  if (offer_sdp.size() > kMaxOfferBytes) {
    return refuse(413, "the SDP offer is larger than 64 KiB");
  }
  if (!source_live()) {
    return refuse(409, "no publisher is live yet; retry shortly", 1);
  }
  if (auto problem = check_layer(layer)) {
    return refuse(400, std::move(*problem));
  }
  std::size_t viewers = 0;
  for (const auto& [id, session] : sessions_) {
    viewers += session->role == SessionRole::viewer ? 1 : 0;
  }
  if (viewers >= options_.max_viewers) {
    return refuse(503, "the viewer limit (" + std::to_string(options_.max_viewers) +
                           ", WHEP_MAX_VIEWERS) is reached");
  }
  engine::OutgoingStreams streams;
  streams.video_ssrc = plane_.random().next_u32() | 1U;
  do {
    streams.audio_ssrc = plane_.random().next_u32() | 1U;
  } while (streams.audio_ssrc == streams.video_ssrc);
  streams.cname = random_hex(plane_.random(), 8);
  const Instant now = clock_.now();
  auto opened = open_session(now, SessionRole::viewer, offer_sdp, &streams);
  if (!opened) {
    const bool full = opened.error().message.rfind("session: ", 0) == 0;
    return refuse(full ? 503 : negotiation_status(offer_sdp), opened.error().message);
  }
  Session& session = *opened->session;
  session.layer = layer.value_or("");
  ++viewers_accepted_;
  SessionAccepted accepted{session.resource_id, std::move(opened->answer_sdp),
                           "\"" + random_hex(plane_.random(), 8) + "\""};
  plane_.drain(now);
  return accepted;
}

bool RelayChannel::end_session(std::string_view id, SessionRole role) {
  Session* session = find(id);
  if (!session) {
    auto ended = std::find_if(recently_ended_.begin(), recently_ended_.end(),
                              [&](const EndedSession& e) { return e.resource_id == id; });
    if (ended == recently_ended_.end() || ended->role != role) {
      return false;
    }
    recently_ended_.erase(ended);
    deletes_ += role == SessionRole::publisher ? 1 : 0;
    return true;
  }
  if (session->role != role) {
    return false;
  }
  if (role == SessionRole::publisher) {
    ++deletes_;
  }
  const Instant now = clock_.now();
  end(now, *session, true, "ended by DELETE");
  plane_.drain(now);
  return true;
}

void RelayChannel::close_all() {
  const Instant now = clock_.now();
  std::vector<engine::IceSessionId> ids;
  for (const auto& [id, session] : sessions_) {
    ids.push_back(id);
  }
  for (engine::IceSessionId id : ids) {
    if (Session* session = find(id)) {
      end(now, *session, true, "server shutting down");
    }
  }
  plane_.drain(now);
}

void RelayChannel::end(Instant now, Session& session, bool send_close, std::string_view reason) {
  const engine::IceSessionId id = session.ice_id;
  if (session.role == SessionRole::publisher) {
    if (publisher_ == id) {
      stop_layer_relays(now);
      publisher_.reset();
      spdlog::info("[{}] publisher session {} ended: {}", options_.name,
                   session.resource_id.substr(0, 8), reason);
      if (upstream_) {
        // The pulled stream is still connected: it feeds again (a publisher switch).
        spdlog::info("[{}] the upstream (INGEST_PULL_URL) feeds the relay again", options_.name);
        feed_from_upstream(now);
      } else {
        stop_relay_source(now);
        publisher_since_.reset();
        if (options_.on_publisher_live_changed) {
          options_.on_publisher_live_changed(false);
        }
      }
    } else if (pending_publisher_ == id) {
      pending_publisher_.reset();
      spdlog::info("[{}] publisher session {} (never connected) ended: {}", options_.name,
                   session.resource_id.substr(0, 8), reason);
    }
  } else {
    remove_viewer_leg(session);
    spdlog::debug("[{}] viewer session {} ended: {}", options_.name,
                  session.resource_id.substr(0, 8), reason);
  }
  if (send_close) {
    plane_.close_session(now, id);
  } else {
    plane_.remove_session(id);
    recently_ended_.push_back(EndedSession{session.resource_id, session.role});
    if (recently_ended_.size() > kRecentlyEnded) {
      recently_ended_.pop_front();
    }
  }
  sessions_.erase(id);  // destroys `session` and its sink, after the relay let go of it
  relay_timer_->rearm(next_timeout());
}

void RelayChannel::on_session_event(Instant now, engine::IceSessionId id,
                                    engine::PeerSessionEvent& event) {
  Session* session = find(id);
  if (!session) {
    return;
  }
  if (auto* media = std::get_if<engine::SessionMediaPacket>(&event)) {
    on_media(now, *session, *media);
  } else if (auto* rtcp = std::get_if<engine::SessionRtcpPacket>(&event)) {
    on_rtcp(now, *session, *rtcp);
  } else if (auto* connected = std::get_if<engine::SessionConnected>(&event)) {
    session->connected = true;
    session->remote = connected->remote.to_string();
    on_connected(now, *session);
  } else if (auto* failed = std::get_if<engine::SessionFailed>(&event)) {
    end(now, *session, false, failed->reason);
  } else if (std::holds_alternative<engine::SessionClosed>(event)) {
    end(now, *session, false, "the peer closed the session");
  }
}

void RelayChannel::on_connected(Instant now, Session& session) {
  if (session.role == SessionRole::viewer) {
    engine::RelayEgressFormat format;
    format.video = engine::RelayTrackFormat::of(session.media.video, session.streams.video_ssrc);
    if (session.media.audio) {
      format.audio = engine::RelayTrackFormat::of(*session.media.audio, session.streams.audio_ssrc);
    }
    format.cname = session.streams.cname;
    if (!open_viewer_on_worker(session, format)) {
      session.egress = add_viewer_leg(now, session, format);
    }
    spdlog::info("[{}] viewer {} connected from {}{}{}", options_.name,
                 session.resource_id.substr(0, 8), session.remote,
                 session.layer.empty() ? std::string() : ", simulcast layer " + session.layer,
                 session.worker_leg ? ", sent from a media worker" : "");
    after_relay_input(now);
    return;
  }
  if (pending_publisher_ != session.ice_id) {
    return;  // superseded while connecting; it is being ended
  }
  pending_publisher_.reset();
  const bool was_live = source_live();
  if (upstream_ && upstream_->feeding) {
    upstream_->feeding = false;  // the newest source feeds; the upstream waits, connected
    spdlog::info("[{}] a WHIP publisher takes over from the upstream (INGEST_PULL_URL)",
                 options_.name);
  }
  const std::optional<engine::IceSessionId> old = publisher_;
  publisher_ = session.ice_id;
  publisher_since_ = io::wall_now();
  samples_.clear();
  engine::RelaySourceFormat format{session.media.video, session.media.audio};
  // start_publisher replaces a live publisher's epoch (make-before-break); only then is the
  // old session, whose sink the relay held until now, closed.
  start_relay_source(now, format, *session.sink);
  publish_profile_level_id();
  if (!was_live && options_.on_publisher_live_changed) {
    options_.on_publisher_live_changed(true);
  }
  start_simulcast(session);
  start_layer_relays(now, session);
  if (old) {
    if (Session* replaced = find(*old)) {
      spdlog::info("[{}] publisher session {} replaced by {}", options_.name,
                   replaced->resource_id.substr(0, 8), session.resource_id.substr(0, 8));
      plane_.close_session(now, *old);
      sessions_.erase(*old);
    }
  }
  spdlog::info("[{}] publisher {} connected from {}", options_.name,
               session.resource_id.substr(0, 8), session.remote);
  after_relay_input(now);
}

void RelayChannel::on_media(Instant now, Session& session, engine::SessionMediaPacket& media) {
  if (session.role != SessionRole::publisher || publisher_ != session.ice_id ||
      media.kind == engine::MediaKind::kUnknown) {
    return;
  }
  // Every packet counts for transport-wide feedback, simulcast layers not chosen included.
  session.congestion->on_rtp(now, media.kind, media.packet);
  if (media.kind == engine::MediaKind::kVideo && session.simulcast) {
    on_simulcast_video(now, session, media.packet);
  } else {
    feed_relay(now, media.kind, media.packet);
    feed_layer_relays(now, media.kind, media.packet);
  }
  after_source_packet(now);
}

void RelayChannel::after_source_packet(Instant now) {
  after_relay_input(now);
  // `now` is the receive time of the datagram's batch (UdpPort reads the clock per recvmmsg).
  // With media workers, only legs on this thread make this thread's delay worth measuring.
  if (shards_.empty() || relay_.egress_count() > 0) {
    forward_delay_.forwarded(now);
  }
}

void RelayChannel::on_rtcp(Instant now, Session& session, engine::SessionRtcpPacket& rtcp) {
  if (session.role == SessionRole::publisher) {
    if (publisher_ == session.ice_id) {
      relay_.handle_publisher_rtcp(now, rtcp.packets);
      feed_layer_relays(now, rtcp.packets);
      after_relay_input(now);
    }
  } else if (session.worker_leg) {
    carry_viewer_rtcp(session, rtcp);
  } else if (session.egress) {
    if (engine::Relay* relay = find_relay(session)) {
      relay->handle_egress_rtcp(now, *session.egress, rtcp.packets);
    }
    after_relay_input(now);
  }
}

void RelayChannel::on_relay_timeout(Instant now) {
  relay_.handle_timeout(now);
  send_publisher_feedback(now);
  after_relay_input(now);
}

}  // namespace ivs::app
