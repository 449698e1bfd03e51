// Prometheus rendering of the status snapshot; see metrics.hpp.
#include "app/web/metrics.hpp"

#include <array>
#include <map>

#include "app/web/prometheus_text.hpp"

namespace ivs::app {

namespace {

using Type = PrometheusText::Type;

void render_process(PrometheusText& out, const StatusSnapshot& snapshot) {
  const HealthSnapshot& health = snapshot.health;
  out.family("ivs_info", Type::kGauge, "Build and identity of this media server (always 1)");
  out.sample("ivs_info", 1,
             {{"version", health.version},
              {"server_id", health.server_id},
              {"egress_mode", snapshot.egress_mode}});
  out.family("ivs_uptime_seconds", Type::kGauge, "Seconds since the process started");
  out.sample("ivs_uptime_seconds", health.uptime_seconds);
  out.family("ivs_registered", Type::kGauge,
             "1 while registered with the API server and heartbeats get through");
  out.sample("ivs_registered", health.api_reachable ? 1 : 0);
  out.family("ivs_websocket_connected", Type::kGauge, "1 while the API server WebSocket is up");
  out.sample("ivs_websocket_connected", snapshot.websocket_connected ? 1 : 0);
  out.family("ivs_shutting_down", Type::kGauge, "1 once graceful shutdown has begun");
  out.sample("ivs_shutting_down", health.shutting_down ? 1 : 0);
}

// Simulcast publishers only (a single-layer publisher adds no series).
void render_simulcast(PrometheusText& out, const PublisherStatus& publisher) {
  if (publisher.layers.empty()) {
    return;
  }
  out.family("ivs_simulcast_layer_bitrate_bps", Type::kGauge,
             "Bitrate of each simulcast layer of the publisher over the last second");
  for (const auto& layer : publisher.layers) {
    out.sample("ivs_simulcast_layer_bitrate_bps", layer.bitrate_kbps * 1000.0,
               {{"rid", layer.rid}});
  }
  out.family("ivs_simulcast_layer_height", Type::kGauge,
             "Picture height of each simulcast layer, from its SPS (0 until known)");
  for (const auto& layer : publisher.layers) {
    out.sample("ivs_simulcast_layer_height", layer.height.value_or(0), {{"rid", layer.rid}});
  }
  out.family("ivs_simulcast_chosen_layer", Type::kGauge,
             "1 for the simulcast layer the stages and default WHEP viewers get");
  for (const auto& layer : publisher.layers) {
    out.sample("ivs_simulcast_chosen_layer", layer.chosen ? 1 : 0, {{"rid", layer.rid}});
  }
  out.family("ivs_simulcast_switches_total", Type::kCounter,
             "Times the forwarded simulcast layer changed (the first choice included)");
  out.sample("ivs_simulcast_switches_total", static_cast<double>(publisher.simulcast_switches));
}

// INGEST_PULL_URL only: the edge's pull from its origin.
void render_ingest_pull(PrometheusText& out, const IngestPullStatus& pull) {
  out.family("ivs_ingest_pull_connected", Type::kGauge,
             "1 while the WHEP pull from the origin (INGEST_PULL_URL) is connected");
  out.sample("ivs_ingest_pull_connected", pull.state == "connected" ? 1 : 0);
  out.family("ivs_ingest_pull_attempts_total", Type::kCounter,
             "WHEP pull attempts toward the origin, failed ones included");
  out.sample("ivs_ingest_pull_attempts_total", static_cast<double>(pull.attempts));
  out.family("ivs_ingest_pull_connects_total", Type::kCounter,
             "WHEP pull attempts that connected (each one a publisher switch for the stages)");
  out.sample("ivs_ingest_pull_connects_total", static_cast<double>(pull.connects));
}

void render_publisher(PrometheusText& out, const ChannelStatus& channel) {
  const PublisherStatus& publisher = channel.publisher;
  out.family("ivs_publisher_live", Type::kGauge,
             "1 while a WHIP publisher or the pulled upstream (INGEST_PULL_URL) feeds the relay");
  out.sample("ivs_publisher_live", publisher.live ? 1 : 0);
  out.family("ivs_publisher_bitrate_kbps", Type::kGauge,
             "Publisher bitrate over the last seconds (kbit/s)");
  out.sample("ivs_publisher_bitrate_kbps", publisher.video_bitrate_kbps, {{"kind", "video"}});
  out.sample("ivs_publisher_bitrate_kbps", publisher.audio_bitrate_kbps, {{"kind", "audio"}});
  out.family("ivs_publisher_packets_total", Type::kCounter,
             "RTP packets received from the current publisher");
  out.sample("ivs_publisher_packets_total", static_cast<double>(publisher.video_packets),
             {{"kind", "video"}});
  out.sample("ivs_publisher_packets_total", static_cast<double>(publisher.audio_packets),
             {{"kind", "audio"}});
  out.family("ivs_publisher_packets_lost_total", Type::kCounter,
             "Publisher packets never received, even after NACK");
  out.sample("ivs_publisher_packets_lost_total", static_cast<double>(publisher.packets_lost));
  out.family("ivs_publisher_nacks_sent_total", Type::kCounter,
             "NACK packets sent to the publisher");
  out.sample("ivs_publisher_nacks_sent_total", static_cast<double>(publisher.nacks_sent));
  out.family("ivs_publisher_keyframe_requests_total", Type::kCounter,
             "PLI/FIR sent to the publisher after rate limiting");
  out.sample("ivs_publisher_keyframe_requests_total",
             static_cast<double>(publisher.keyframe_requests));
  out.family("ivs_publisher_keyframes_total", Type::kCounter, "Keyframes received");
  out.sample("ivs_publisher_keyframes_total", static_cast<double>(publisher.keyframes));
  render_simulcast(out, publisher);
  out.family("ivs_publisher_warnings", Type::kGauge,
             "Active publisher warnings (e.g. video outside IVS limits)");
  out.sample("ivs_publisher_warnings", static_cast<double>(publisher.warnings.size()));
  out.family("ivs_whip_publishes_total", Type::kCounter, "Publisher offers accepted");
  out.sample("ivs_whip_publishes_total", static_cast<double>(channel.publishes));
  out.family("ivs_whep_viewers", Type::kGauge, "Connected WHEP viewers");
  out.sample("ivs_whep_viewers", static_cast<double>(channel.viewers));
  out.family("ivs_whep_viewers_on_workers", Type::kGauge,
             "Connected WHEP viewers whose media the media workers send");
  out.sample("ivs_whep_viewers_on_workers", static_cast<double>(channel.viewers_on_workers));
}

void render_stage_states(PrometheusText& out, const StatusSnapshot& snapshot) {
  static constexpr std::array kStates = {
      engine::StageState::pending, engine::StageState::connecting, engine::StageState::connected,
      engine::StageState::tracked, engine::StageState::backoff,    engine::StageState::failed,
      engine::StageState::closing};
  std::map<engine::StageState, std::size_t> counts;
  for (const StageStatusView& stage : snapshot.stages) {
    ++counts[stage.status.state];
  }
  out.family("ivs_stages", Type::kGauge, "Stages by state");
  for (const engine::StageState state : kStates) {
    out.sample("ivs_stages", static_cast<double>(counts[state]),
               {{"state", engine::to_string(state)}});
  }
}

// One family at a time (the format wants a family's samples together).
template <class Value>
void stage_family(PrometheusText& out, const StatusSnapshot& snapshot, const char* name, Type type,
                  const char* help, Value value) {
  out.family(name, type, help);
  for (const StageStatusView& stage : snapshot.stages) {
    if (stage.media) {
      if (const auto sample = value(*stage.media)) {
        out.sample(name, *sample, {{"stage", stage.status.stage_arn}});
      }
    }
  }
}

void render_stage_media(PrometheusText& out, const StatusSnapshot& snapshot) {
  using Sample = std::optional<double>;
  stage_family(out, snapshot, "ivs_stage_bitrate_kbps", Type::kGauge,
               "Bitrate sent to the stage (kbit/s)",
               [](const EgressStats& s) -> Sample { return s.bitrate_kbps; });
  stage_family(out, snapshot, "ivs_stage_packets_sent_total", Type::kCounter,
               "RTP packets sent to the stage",
               [](const EgressStats& s) -> Sample { return static_cast<double>(s.packets_sent); });
  stage_family(out, snapshot, "ivs_stage_rtt_ms", Type::kGauge,
               "Round-trip time from the stage's receiver reports (ms)",
               [](const EgressStats& s) -> Sample { return s.rtt_ms; });
  stage_family(out, snapshot, "ivs_stage_fraction_lost", Type::kGauge,
               "Fraction lost in the stage's last receiver report (0..1)",
               [](const EgressStats& s) -> Sample { return s.fraction_lost; });
  stage_family(out, snapshot, "ivs_stage_packets_lost", Type::kGauge,
               "Cumulative packets lost as the stage reports it",
               [](const EgressStats& s) -> Sample { return static_cast<double>(s.packets_lost); });
  stage_family(
      out, snapshot, "ivs_stage_nacks_received_total", Type::kCounter, "NACKs from the stage",
      [](const EgressStats& s) -> Sample { return static_cast<double>(s.nacks_received); });
  stage_family(out, snapshot, "ivs_stage_keyframe_requests_received_total", Type::kCounter,
               "PLI/FIR from the stage",
               [](const EgressStats& s) -> Sample { return static_cast<double>(s.plis_received); });
  stage_family(out, snapshot, "ivs_stage_send_drops_total", Type::kCounter,
               "Packets for the stage dropped before or by the kernel (send queue full, refused)",
               [](const EgressStats& s) -> Sample { return static_cast<double>(s.send_drops); });
  stage_family(out, snapshot, "ivs_stage_retransmitted_total", Type::kCounter,
               "Packets resent to the stage from history",
               [](const EgressStats& s) -> Sample { return static_cast<double>(s.retransmitted); });
}

void render_counter_map(PrometheusText& out, const char* name, const char* help, const char* label,
                        const std::map<std::string, std::uint64_t, std::less<>>& values) {
  out.family(name, Type::kCounter, help);
  for (const auto& [key, value] : values) {
    out.sample(name, static_cast<double>(value), {{label, key}});
  }
}

void render_security(PrometheusText& out, const SecurityCounters& security) {
  render_counter_map(out, "ivs_auth_failures_total",
                     "Failed authentications (wrong or missing token), by endpoint", "endpoint",
                     security.auth_failures);
  render_counter_map(out, "ivs_auth_throttled_total",
                     "Requests answered 429 without checking credentials, after too many "
                     "failures from their address (AUTH_FAILURE_LIMIT)",
                     "endpoint", security.auth_throttled);
  render_counter_map(out, "ivs_http_refusals_total",
                     "HTTP connections and requests the overload limits refused, by reason "
                     "(docs/security.md)",
                     "reason", security.http_refusals);
  out.family("ivs_http_connections", Type::kGauge, "Open HTTP connections on PORT");
  out.sample("ivs_http_connections", static_cast<double>(security.http_connections));
}

void render_forward_delay(PrometheusText& out, const ForwardDelayHistogram& delay) {
  out.family("ivs_forward_delay_seconds", Type::kHistogram,
             "Per ingest RTP packet: receipt on the ingest socket to the last leg's socket send");
  out.histogram("ivs_forward_delay_seconds", ForwardDelayHistogram::kUpperBounds, delay.counts(),
                delay.sum_seconds());
}

}  // namespace

std::string render_metrics(const StatusSnapshot& snapshot) {
  PrometheusText out;
  render_process(out, snapshot);
  render_publisher(out, snapshot.channel);
  if (snapshot.ingest_pull) {
    render_ingest_pull(out, *snapshot.ingest_pull);
  }
  render_forward_delay(out, snapshot.channel.forward_delay);
  render_stage_states(out, snapshot);
  render_stage_media(out, snapshot);
  render_security(out, snapshot.security);
  if (snapshot.aws_api_requests) {
    out.family("ivs_aws_api_requests_total", Type::kCounter,
               "Requests sent to the IVS Real-Time API (STAGE_SOURCE=ivs)");
    out.sample("ivs_aws_api_requests_total", static_cast<double>(*snapshot.aws_api_requests));
    render_counter_map(out, "ivs_aws_api_errors_total",
                       "IVS API answers that were errors, by kind (throttled requests are retried "
                       "with backoff)",
                       "kind", snapshot.aws_api_errors);
  }
  out.family("ivs_stage_attempts_total", Type::kCounter, "Connection attempts made per stage");
  for (const StageStatusView& stage : snapshot.stages) {
    out.sample("ivs_stage_attempts_total", stage.status.attempts,
               {{"stage", stage.status.stage_arn}});
  }
  return out.text();
}

}  // namespace ivs::app
