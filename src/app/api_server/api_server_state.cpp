// The reference API server's model; see api_server_state.hpp.
#include "app/api_server/api_server_state.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <utility>

namespace ivs::app::api_server {
namespace {

constexpr std::string_view kAlphanumerics =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::size_t kStageIdLength = 12;

bool matches(const Stage& stage, std::string_view id_or_arn) {
  return stage.id == id_or_arn || stage.arn == id_or_arn;
}

// A stage id as IVS forms them; state files are checked against it so a hand-edited file
// cannot inject ids that break URLs.
bool valid_stored_stage_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return kAlphanumerics.find(c) != std::string_view::npos;
  });
}

}  // namespace

Result<Stage> ApiServerState::create_stage(std::string name, WallTime now,
                                           engine::RandomSource& random) {
  if (stages_.size() >= kMaxStages) {
    return make_error("stage limit reached (" + std::to_string(kMaxStages) + " per region)");
  }
  std::string id;
  do {
    id = random_alphanumeric(random, kStageIdLength);
  } while (find_stage(id) != nullptr);
  Stage stage{id, stage_arn(id), name.empty() ? "stage-" + id : std::move(name), now};
  stages_.push_back(stage);
  events_.push_back(StageEvent{StageEvent::Type::created, stage.arn, now});
  return stage;
}

bool ApiServerState::restore_stage(Stage stage) {
  if (find_stage(stage.id) != nullptr || stages_.size() >= kMaxStages)
    return false;
  stage.arn = stage_arn(stage.id);
  stages_.push_back(std::move(stage));
  return true;
}

std::optional<Stage> ApiServerState::delete_stage(std::string_view id_or_arn, WallTime now) {
  const auto it = std::find_if(stages_.begin(), stages_.end(),
                               [&](const Stage& stage) { return matches(stage, id_or_arn); });
  if (it == stages_.end())
    return std::nullopt;
  Stage removed = std::move(*it);
  stages_.erase(it);
  events_.push_back(StageEvent{StageEvent::Type::deleted, removed.arn, now});
  return removed;
}

const Stage* ApiServerState::find_stage(std::string_view id_or_arn) const {
  const auto it = std::find_if(stages_.begin(), stages_.end(),
                               [&](const Stage& stage) { return matches(stage, id_or_arn); });
  return it == stages_.end() ? nullptr : &*it;
}

Status ApiServerState::register_server(MediaServerRecord record) {
  const auto it = servers_.find(record.server_id);
  if (it != servers_.end()) {
    it->second = std::move(record);
    return Ok{};
  }
  if (servers_.size() >= kMaxServers) {
    return make_error("media server limit reached (" + std::to_string(kMaxServers) + ")");
  }
  std::string key = record.server_id;
  servers_.emplace(std::move(key), std::move(record));
  return Ok{};
}

MediaServerRecord* ApiServerState::find_server(std::string_view server_id) {
  const auto it = servers_.find(server_id);
  return it == servers_.end() ? nullptr : &it->second;
}

std::string ApiServerState::stage_arn(std::string_view id) const {
  return "arn:aws:ivs:" + region_ + ":" + account_id_ + ":stage/" + std::string(id);
}

std::vector<StageEvent> ApiServerState::take_events() {
  return std::exchange(events_, {});
}

std::string format_iso8601(WallTime time) {
  const std::int64_t micros = time.unix_micros;
  std::int64_t seconds = micros / 1'000'000;
  std::int64_t remainder = micros % 1'000'000;
  if (remainder < 0) {
    remainder += 1'000'000;
    seconds -= 1;
  }
  const std::time_t as_time_t = static_cast<std::time_t>(seconds);
  std::tm parts{};
  gmtime_r(&as_time_t, &parts);
  char buffer[96];  // Room for any int the format can print, so nothing is ever truncated.
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<int>(remainder / 1000));
  return buffer;
}

std::string random_alphanumeric(engine::RandomSource& random, std::size_t length) {
  std::string out;
  out.reserve(length);
  for (std::size_t i = 0; i < length; ++i) {
    out += kAlphanumerics[random.uniform(kAlphanumerics.size())];
  }
  return out;
}

boost::json::object stage_json(const Stage& stage) {
  return boost::json::object{
      {"id", stage.id},
      {"stageArn", stage.arn},
      {"name", stage.name},
      {"createdAt", format_iso8601(stage.created_at)},
  };
}

boost::json::object server_json(const MediaServerRecord& server) {
  boost::json::object out{
      {"serverId", server.server_id},
      {"ipAddress", server.ip_address},
      {"port", server.port},
      {"registeredAt", format_iso8601(server.registered_at)},
      {"lastHeartbeat", nullptr},
      {"publisherActive", server.publisher_active},
      {"connectedStages", server.connected_stages},
      {"heartbeats", server.heartbeats},
  };
  if (server.last_heartbeat)
    out["lastHeartbeat"] = format_iso8601(*server.last_heartbeat);
  return out;
}

std::string stage_event_message(const StageEvent& event) {
  const boost::json::object message{
      {"type", event.type == StageEvent::Type::created ? "stage_created" : "stage_deleted"},
      {"data", {{"stageArn", event.stage_arn}, {"timestamp", format_iso8601(event.timestamp)}}},
  };
  return boost::json::serialize(message);
}

std::string serialize_stages(const ApiServerState& state) {
  boost::json::array stages;
  for (const auto& stage : state.stages()) {
    stages.push_back(boost::json::object{
        {"id", stage.id},
        {"name", stage.name},
        {"createdAtMicros", stage.created_at.unix_micros},
    });
  }
  return boost::json::serialize(boost::json::object{{"version", 1}, {"stages", std::move(stages)}});
}

Status restore_stages(ApiServerState& state, std::string_view text) {
  boost::system::error_code error;
  const auto value = boost::json::parse(text, error);
  if (error)
    return make_error("state file is not JSON: " + error.message());
  const auto* stages = value.is_object() ? value.as_object().if_contains("stages") : nullptr;
  if (stages == nullptr || !stages->is_array()) {
    return make_error("state file has no \"stages\" array");
  }
  for (const auto& item : stages->as_array()) {
    const auto* object = item.if_object();
    const auto* id = object ? object->if_contains("id") : nullptr;
    const auto* name = object ? object->if_contains("name") : nullptr;
    const auto* created = object ? object->if_contains("createdAtMicros") : nullptr;
    if (id == nullptr || !id->is_string() || !valid_stored_stage_id(id->as_string()) ||
        name == nullptr || !name->is_string() || created == nullptr || !created->is_int64()) {
      return make_error(
          "state file: each stage needs an alphanumeric id, a name and "
          "createdAtMicros");
    }
    state.restore_stage(Stage{std::string(id->as_string()), "", std::string(name->as_string()),
                              WallTime{created->as_int64()}});
  }
  return Ok{};
}

}  // namespace ivs::app::api_server
