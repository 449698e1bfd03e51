// The media server's health and status documents (DESIGN.md §2.2; the seed's "健康檢查" JSON).
// Pure functions from a snapshot to a response, so the exact JSON is unit tested without
// sockets. The seed's document, field for field:
//   {"status","service":"Media Server","version","serverId","uptime" (seconds, float),
//    "stats":{"publisherActive","connectedStages","activeConnections"}}
//   /health        200 "healthy" while the loop answers; "degraded" while the API server is
//                  unreachable after registration (media keeps flowing; stage changes wait)
//   /health/live   200 as /health (K8s liveness)
//   /health/ready  200 once registered with the API server, "degraded" during a later API
//                  outage (issue 13: an API outage must not pull every media server out of its
//                  load balancer); 503 "not_ready" before the first registration, 503
//                  "shutting_down" during shutdown
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/egress/egress_session.hpp"
#include "app/web/media_status.hpp"
#include "engine/stage_reconciler.hpp"
#include "io/http_types.hpp"

namespace ivs::app {

struct HealthSnapshot {
  std::string server_id;
  std::string version;
  double uptime_seconds = 0;
  bool publisher_active = false;
  std::size_t connected_stages = 0;    // stages actually published to
  std::size_t active_connections = 0;  // open egress sessions (any mode)
  bool registered = false;             // registered with the API server at least once
  bool api_reachable = false;          // registered AND the last heartbeat got through
  bool shutting_down = false;
};

enum class HealthProbe { basic, ready, live };

io::HttpResponse health_response(HealthProbe probe, const HealthSnapshot& snapshot);
std::string health_json(std::string_view status, const HealthSnapshot& snapshot);

// One stage on /api/status, times already converted to wall-clock text.
struct StageStatusView {
  engine::StageStatus status;
  std::string since_iso8601;
  double since_seconds_ago = 0;
  double next_event_in_seconds = -1;  // < 0: none
  std::optional<EgressStats> media;   // while the session publishes media
};

// What the HTTP edge refused and why (issue 13, docs/security.md), for /metrics. Names are the
// label values: endpoints ("whip", "whep", "dashboard") and refusal reasons.
struct SecurityCounters {
  std::map<std::string, std::uint64_t, std::less<>> auth_failures;   // by endpoint
  std::map<std::string, std::uint64_t, std::less<>> auth_throttled;  // 429s, by endpoint
  // Connections refused at accept ("per_ip", "full"), shed ("evicted"), closed without a whole
  // header ("header_timeout"); requests answered early ("rate_limited", "before_body",
  // "reserved_slot").
  std::map<std::string, std::uint64_t, std::less<>> http_refusals;
  std::size_t http_connections = 0;  // open on PORT
};

struct StatusSnapshot {
  HealthSnapshot health;
  std::string egress_mode;  // "whip" or "tracking-only"
  std::string egress_note;  // why stages are tracked, not published to; empty otherwise
  bool websocket_connected = false;
  std::string last_sync_iso8601;  // empty before the first successful sync
  // STAGE_SOURCE=ivs: the IVS stage source as a JSON object (app/aws/ivs_setup.hpp); empty in
  // api mode, shown as {"kind":"api"}.
  std::string stage_source_json;
  // STAGE_SOURCE=ivs, for /metrics: IVS API requests sent, and answers by error kind
  // ("throttled", "access_denied", "clock_skew"); empty in api mode.
  std::optional<std::uint64_t> aws_api_requests;
  std::map<std::string, std::uint64_t, std::less<>> aws_api_errors;
  std::vector<StageStatusView> stages;
  // The WHIP ingest publisher ("publisher" object) and the WHEP viewer count ("viewers").
  ChannelStatus channel;
  std::optional<IngestPullStatus> ingest_pull;  // INGEST_PULL_URL set
  // SHARD_PEERS: the peer set and who owns which stage, as a JSON object; "" without sharding.
  std::string shard_json;
  SecurityCounters security;  // /metrics only
};

std::string status_json(const StatusSnapshot& snapshot);

// "2026-01-02T03:04:05.678Z" from microseconds since the Unix epoch.
std::string iso8601_from_unix_micros(std::int64_t micros);

}  // namespace ivs::app
