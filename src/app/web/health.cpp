#include "app/web/health.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <cstdio>
#include <ctime>

namespace ivs::app {

namespace json = boost::json;

namespace {

// Seconds with millisecond precision: 1234.56 is what the seed shows, and 1234.567 is what a
// float of seconds looks like after rounding away the noise.
double round_millis(double seconds) {
  return std::round(seconds * 1000.0) / 1000.0;
}

// Boost.JSON prints doubles in exponent form ("2.035E0"); the seed's documents show plain
// decimals ("uptime": 1234.56), so numbers are written here with fixed millisecond precision.
void write_plain(const json::value& value, std::string& out) {
  switch (value.kind()) {
    case json::kind::double_: {
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, "%.3f", value.get_double());
      out += buffer;
      break;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& member : value.get_object()) {
        out += first ? "" : ",";
        first = false;
        out += json::serialize(json::string(member.key()));
        out += ':';
        write_plain(member.value(), out);
      }
      out += '}';
      break;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : value.get_array()) {
        out += first ? "" : ",";
        first = false;
        write_plain(item, out);
      }
      out += ']';
      break;
    }
    default:
      out += json::serialize(value);
  }
}

std::string serialize_plain(const json::value& value) {
  std::string out;
  write_plain(value, out);
  return out;
}

json::value optional_number(const std::optional<double>& value) {
  return value ? json::value(*value) : json::value(nullptr);
}

json::value optional_int(const std::optional<int>& value) {
  return value ? json::value(*value) : json::value(nullptr);
}

// The contract's per-stage media fields (relay-contracts.md); null while nothing is published.
void add_media_fields(const std::optional<EgressStats>& media, json::object& stage) {
  if (!media) {
    for (const char* key : {"bitrateKbps", "rttMs", "fractionLost", "packetsLost", "nacksReceived",
                            "plisReceived", "retransmitted", "sendDrops"}) {
      stage[key] = nullptr;
    }
    return;
  }
  stage["bitrateKbps"] = media->bitrate_kbps;
  stage["rttMs"] = optional_number(media->rtt_ms);
  stage["fractionLost"] = optional_number(media->fraction_lost);
  stage["packetsLost"] = media->packets_lost;
  stage["nacksReceived"] = media->nacks_received;
  stage["plisReceived"] = media->plis_received;
  stage["retransmitted"] = media->retransmitted;
  stage["sendDrops"] = media->send_drops;
}

json::array layers_json(const PublisherStatus& p) {
  json::array layers;
  for (const auto& layer : p.layers) {
    layers.emplace_back(
        json::object{{"rid", layer.rid},
                     {"ssrc", layer.ssrc ? json::value(*layer.ssrc) : json::value(nullptr)},
                     {"width", optional_int(layer.width)},
                     {"height", optional_int(layer.height)},
                     {"bitrateKbps", layer.bitrate_kbps},
                     {"active", layer.active},
                     {"fitsIvs", layer.fits},
                     {"chosen", layer.chosen},
                     {"packets", layer.packets}});
  }
  return layers;
}

json::object publisher_json(const PublisherStatus& p) {
  json::array warnings;
  for (const auto& warning : p.warnings) {
    warnings.emplace_back(warning);
  }
  return json::object{
      {"active", p.live},  // the seed's field, kept
      {"live", p.live},
      {"connecting", p.connecting},
      {"since", p.since ? json::value(iso8601_from_unix_micros(p.since->unix_micros))
                        : json::value(nullptr)},
      {"remoteAddress",
       p.remote_address.empty() ? json::value(nullptr) : json::value(p.remote_address)},
      {"source", p.source.empty() ? json::value(nullptr) : json::value(p.source)},
      {"codec", p.codec},
      {"profile", p.profile.empty() ? json::value(nullptr) : json::value(p.profile)},
      {"level", optional_int(p.level)},
      {"width", optional_int(p.width)},
      {"height", optional_int(p.height)},
      {"videoBitrateKbps", p.video_bitrate_kbps},
      {"audioBitrateKbps", p.audio_bitrate_kbps},
      {"packetsLost", p.packets_lost},
      {"nacksSent", p.nacks_sent},
      {"keyframeRequests", p.keyframe_requests},
      {"keyframes", p.keyframes},
      {"gopCachePackets", p.gop_cache_packets},
      {"videoPackets", p.video_packets},
      {"audioPackets", p.audio_packets},
      {"layers", layers_json(p)},
      {"chosenLayer", p.chosen_layer ? json::value(*p.chosen_layer) : json::value(nullptr)},
      {"simulcastSwitches", p.simulcast_switches},
      {"simulcastDropped", p.simulcast_dropped},
      {"warnings", std::move(warnings)}};
}

}  // namespace

std::string health_json(std::string_view status, const HealthSnapshot& s) {
  json::object stats{{"publisherActive", s.publisher_active},
                     {"connectedStages", s.connected_stages},
                     {"activeConnections", s.active_connections}};
  json::object body{{"status", status},
                    {"service", "Media Server"},
                    {"version", s.version},
                    {"serverId", s.server_id},
                    {"uptime", round_millis(s.uptime_seconds)},
                    {"stats", std::move(stats)}};
  return serialize_plain(body);
}

io::HttpResponse health_response(HealthProbe probe, const HealthSnapshot& snapshot) {
  if (probe == HealthProbe::ready) {
    if (snapshot.shutting_down) {
      return io::json_response(io::http::status::service_unavailable,
                               health_json("shutting_down", snapshot));
    }
    if (!snapshot.registered) {
      return io::json_response(io::http::status::service_unavailable,
                               health_json("not_ready", snapshot));
    }
  }
  const bool degraded = snapshot.registered && !snapshot.api_reachable;
  return io::json_response(io::http::status::ok,
                           health_json(degraded ? "degraded" : "healthy", snapshot));
}

std::string iso8601_from_unix_micros(std::int64_t micros) {
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  const int millis = static_cast<int>((micros % 1000000) / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[40];
  const auto n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buffer + n, sizeof buffer - n, ".%03dZ", millis);
  return buffer;
}

std::string status_json(const StatusSnapshot& snapshot) {
  const HealthSnapshot& h = snapshot.health;
  json::array stages;
  for (const auto& view : snapshot.stages) {
    const auto& s = view.status;
    json::object stage{
        {"stageArn", s.stage_arn},
        {"state", engine::to_string(s.state)},
        {"since", view.since_iso8601},
        {"sinceSecondsAgo", round_millis(view.since_seconds_ago)},
        {"lastError", s.last_error.empty() ? json::value(nullptr) : json::value(s.last_error)},
        {"attempts", s.attempts},
        {"consecutiveFailures", s.failures}};
    if (!s.note.empty()) {
      stage["note"] = s.note;
    }
    if (view.next_event_in_seconds >= 0) {
      stage["nextEventInSeconds"] = round_millis(view.next_event_in_seconds);
    }
    add_media_fields(view.media, stage);
    stages.push_back(std::move(stage));
  }
  json::object body{{"service", "Media Server"},
                    {"version", h.version},
                    {"serverId", h.server_id},
                    {"uptime", round_millis(h.uptime_seconds)},
                    // Registered and heartbeats getting through (as before /health/ready
                    // stopped following API outages).
                    {"registered", h.api_reachable},
                    {"shuttingDown", h.shutting_down},
                    {"websocketConnected", snapshot.websocket_connected},
                    {"lastStageSync", snapshot.last_sync_iso8601.empty()
                                          ? json::value(nullptr)
                                          : json::value(snapshot.last_sync_iso8601)},
                    {"publisher", publisher_json(snapshot.channel.publisher)},
                    {"viewers", snapshot.channel.viewers},
                    {"egressMode", snapshot.egress_mode},
                    {"egress", json::object{{"mode", snapshot.egress_mode},
                                            {"note", snapshot.egress_note.empty()
                                                         ? json::value(nullptr)
                                                         : json::value(snapshot.egress_note)}}},
                    {"stats", json::object{{"publisherActive", h.publisher_active},
                                           {"connectedStages", h.connected_stages},
                                           {"activeConnections", h.active_connections},
                                           {"desiredStages", snapshot.stages.size()}}},
                    {"stages", std::move(stages)}};
  if (const auto& pull = snapshot.ingest_pull) {
    body["ingestPull"] = json::object{
        {"url", pull->url},
        {"state", pull->state},
        {"attempts", pull->attempts},
        {"connects", pull->connects},
        {"lastError",
         pull->last_error.empty() ? json::value(nullptr) : json::value(pull->last_error)},
        {"connectedSince", pull->connected_since ? json::value(iso8601_from_unix_micros(
                                                       pull->connected_since->unix_micros))
                                                 : json::value(nullptr)},
        {"rtpReceived", pull->rtp_received}};
  } else {
    body["ingestPull"] = nullptr;
  }
  {
    boost::system::error_code shard_error;
    auto shard = json::parse(snapshot.shard_json, shard_error);
    body["shard"] = !shard_error && shard.is_object() ? shard : json::value(nullptr);
  }
  boost::system::error_code error;
  auto source = json::parse(snapshot.stage_source_json, error);
  body["stageSource"] = !error && source.is_object() ? source : json::object{{"kind", "api"}};
  return serialize_plain(body);
}

}  // namespace ivs::app
