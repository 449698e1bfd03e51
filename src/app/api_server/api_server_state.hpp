// The reference API server's in-memory model (DESIGN.md §2.1): the stages that exist and the
// media servers that registered, with their last heartbeat. Plain values with no I/O, so route
// handlers are pure functions over it and the role only adds sockets, clocks and a state file.
//
// Stage identity follows Amazon IVS: a stage ARN is
//   arn:aws:ivs:<region>:<12-digit account>:stage/<12 alphanumerics>
// and the trailing id is the stage's short name in URLs (DELETE /api/stages/{id}) and in the
// token's "topic" claim.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/random.hpp"
#include "proto/result.hpp"
#include "proto/time.hpp"

namespace ivs::app::api_server {

// IVS allows 1,000 stages per account and region; the reference server keeps the same bound
// so that a runaway script cannot grow memory without limit.
inline constexpr std::size_t kMaxStages = 1000;
// Media servers that may be registered at once (a bound on memory, not an IVS quota).
inline constexpr std::size_t kMaxServers = 10000;

struct Stage {
  std::string id;   // 12 alphanumerics, the last ARN segment
  std::string arn;  // arn:aws:ivs:region:account:stage/id
  std::string name;
  WallTime created_at;
};

struct MediaServerRecord {
  std::string server_id;
  std::string ip_address;
  std::uint16_t port = 0;
  WallTime registered_at;
  std::optional<WallTime> last_heartbeat;
  bool publisher_active = false;
  std::int64_t connected_stages = 0;
  std::uint64_t heartbeats = 0;
};

// What a stage change means to connected media servers: one WebSocket push each.
struct StageEvent {
  enum class Type { created, deleted };
  Type type;
  std::string stage_arn;
  WallTime timestamp;
};

class ApiServerState {
 public:
  ApiServerState(std::string region, std::string account_id)
      : region_(std::move(region)), account_id_(std::move(account_id)) {}

  // Creates a stage with a fresh random id; fails only at the kMaxStages bound.
  Result<Stage> create_stage(std::string name, WallTime now, engine::RandomSource& random);
  // Adds a stage with a known id (state file reload); false if the id exists already.
  bool restore_stage(Stage stage);
  // Removes by id or by full ARN; the removed stage, or nothing when unknown.
  std::optional<Stage> delete_stage(std::string_view id_or_arn, WallTime now);
  const Stage* find_stage(std::string_view id_or_arn) const;
  const std::vector<Stage>& stages() const { return stages_; }

  // Inserts or replaces (a re-registration keeps nothing from before: the media server restarted
  // or the API server forgot it). Fails only at the kMaxServers bound for a new id.
  Status register_server(MediaServerRecord record);
  MediaServerRecord* find_server(std::string_view server_id);
  const std::map<std::string, MediaServerRecord, std::less<>>& servers() const { return servers_; }

  std::string stage_arn(std::string_view id) const;
  const std::string& region() const { return region_; }
  const std::string& account_id() const { return account_id_; }

  // Events raised by changes since the last call, oldest first (the role pushes them out).
  std::vector<StageEvent> take_events();

 private:
  std::string region_;
  std::string account_id_;
  std::vector<Stage> stages_;  // creation order, which is also the listing order
  std::map<std::string, MediaServerRecord, std::less<>> servers_;
  std::vector<StageEvent> events_;
};

// "2026-11-24T04:23:45.123Z" (ISO 8601 / RFC 3339 in UTC with milliseconds).
std::string format_iso8601(WallTime time);

// Random alphanumerics [A-Za-z0-9], the alphabet of IVS stage and participant ids.
std::string random_alphanumeric(engine::RandomSource& random, std::size_t length);

// Wire forms.
boost::json::object stage_json(const Stage& stage);
boost::json::object server_json(const MediaServerRecord& server);
// {"type":"stage_created"|"stage_deleted","data":{"stageArn","timestamp"}}
std::string stage_event_message(const StageEvent& event);

// The state file holds the stages only: media servers re-register on their own, and a stale
// registration would report servers that are gone.
std::string serialize_stages(const ApiServerState& state);
// Restores the stages from serialize_stages() output; the error names what is wrong.
Status restore_stages(ApiServerState& state, std::string_view text);

}  // namespace ivs::app::api_server
