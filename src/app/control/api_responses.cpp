#include "app/control/api_responses.hpp"

#include "app/control/jwt.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>

namespace ivs::app {

namespace json = boost::json;

namespace {

Result<json::value> parse_json(std::string_view body, std::string_view what) {
  boost::system::error_code error;
  json::value value = json::parse(body, error);
  if (error) {
    return make_error(std::string(what) + ": malformed JSON (" + error.message() + ")");
  }
  return value;
}

const json::string* string_member(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr ? value->if_string() : nullptr;
}

// The first non-empty string among `keys` in `object`.
std::optional<std::string> first_string(const json::object& object,
                                        std::initializer_list<std::string_view> keys) {
  for (const auto key : keys) {
    if (const auto* s = string_member(object, key); s != nullptr && !s->empty()) {
      return std::string(*s);
    }
  }
  return std::nullopt;
}

const json::array* find_stage_array(const json::value& root) {
  if (const auto* array = root.if_array()) {
    return array;
  }
  const auto* object = root.if_object();
  if (object == nullptr) {
    return nullptr;
  }
  if (const auto* stages = object->if_contains("stages"); stages && stages->is_array()) {
    return &stages->get_array();
  }
  if (const auto* data = object->if_contains("data")) {
    if (data->is_array()) {
      return &data->get_array();
    }
    if (const auto* inner = data->if_object()) {
      if (const auto* stages = inner->if_contains("stages"); stages && stages->is_array()) {
        return &stages->get_array();
      }
    }
  }
  return nullptr;
}

}  // namespace

Result<StageList> parse_stage_list(std::string_view body) {
  auto root = parse_json(body, "stage list");
  if (!root) {
    return root.error();
  }
  const json::array* array = find_stage_array(*root);
  if (array == nullptr) {
    return make_error(
        "stage list: expected a JSON array, or an object with an array under \"stages\", "
        "\"data\" or \"data.stages\"");
  }
  StageList out;
  for (const auto& item : *array) {
    std::optional<std::string> arn;
    if (const auto* s = item.if_string(); s != nullptr && !s->empty()) {
      arn = std::string(*s);
    } else if (const auto* object = item.if_object()) {
      arn = first_string(*object, {"stageArn", "arn"});
    }
    if (!arn) {
      ++out.skipped_items;
    } else if (std::find(out.stage_arns.begin(), out.stage_arns.end(), *arn) ==
               out.stage_arns.end()) {
      out.stage_arns.push_back(std::move(*arn));
    }
  }
  return out;
}

const char* to_string(WhipUrlSource source) {
  switch (source) {
    case WhipUrlSource::response:
      return "response";
    case WhipUrlSource::token_claim:
      return "token claim";
    case WhipUrlSource::configured_endpoint:
      return "WHIP_ENDPOINT";
  }
  return "";
}

Result<TokenInfo> parse_token_response(std::string_view body,
                                       std::string_view configured_whip_endpoint) {
  auto root = parse_json(body, "token response");
  if (!root) {
    return root.error();
  }
  const auto* object = root->if_object();
  if (object == nullptr) {
    return make_error("token response: expected a JSON object");
  }
  // Fields are looked up at the top level first, then under "data".
  std::vector<const json::object*> scopes = {object};
  if (const auto* data = object->if_contains("data"); data && data->is_object()) {
    scopes.push_back(&data->get_object());
  }
  auto lookup = [&](std::initializer_list<std::string_view> keys) -> std::optional<std::string> {
    for (const auto* scope : scopes) {
      if (auto found = first_string(*scope, keys)) {
        return found;
      }
    }
    return std::nullopt;
  };
  TokenInfo info;
  auto token = lookup({"token"});
  if (!token) {
    return make_error("token response: no string \"token\" at the top level or under \"data\"");
  }
  info.token = std::move(*token);
  info.participant_id = lookup({"participantId"}).value_or("");
  if (auto url = lookup({"whipUrl", "whip_url"})) {
    info.whip_url = std::move(*url);
    info.whip_url_source = WhipUrlSource::response;
  } else if (auto claim = jwt_string_claim(info.token, "whip_url"); claim && !claim->empty()) {
    info.whip_url = std::move(*claim);
    info.whip_url_source = WhipUrlSource::token_claim;
  } else {
    info.whip_url = std::string(configured_whip_endpoint);
    info.whip_url_source = WhipUrlSource::configured_endpoint;
  }
  return info;
}

std::optional<std::string> jwt_string_claim(std::string_view jwt, std::string_view claim) {
  const auto first_dot = jwt.find('.');
  if (first_dot == std::string_view::npos) {
    return std::nullopt;
  }
  const auto second_dot = jwt.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos) {
    return std::nullopt;
  }
  auto payload = jwt::base64url_decode(jwt.substr(first_dot + 1, second_dot - first_dot - 1));
  if (!payload) {
    return std::nullopt;
  }
  boost::system::error_code error;
  const json::value value = json::parse(as_text(*payload), error);
  if (error || !value.is_object()) {
    return std::nullopt;
  }
  if (const auto* s = string_member(value.get_object(), claim)) {
    return std::string(*s);
  }
  return std::nullopt;
}

Result<StageNotification> parse_notification(std::string_view text) {
  auto root = parse_json(text, "WebSocket message");
  if (!root) {
    return root.error();
  }
  const auto* object = root->if_object();
  if (object == nullptr) {
    return make_error("WebSocket message: expected a JSON object");
  }
  const auto* type = string_member(*object, "type");
  if (type == nullptr) {
    return make_error("WebSocket message: no string \"type\"");
  }
  StageNotification out;
  out.type = std::string(*type);
  if (out.type == "stage_created") {
    out.kind = StageNotification::Kind::stage_created;
  } else if (out.type == "stage_deleted") {
    out.kind = StageNotification::Kind::stage_deleted;
  } else {
    return out;
  }
  const auto* data = object->if_contains("data");
  const json::object* data_object = data != nullptr ? data->if_object() : nullptr;
  std::optional<std::string> arn;
  if (data_object != nullptr) {
    arn = first_string(*data_object, {"stageArn", "arn"});
    out.timestamp = first_string(*data_object, {"timestamp"}).value_or("");
  }
  if (!arn) {
    return make_error("WebSocket message: " + out.type + " without data.stageArn");
  }
  out.stage_arn = std::move(*arn);
  return out;
}

std::string register_request_body(std::string_view server_id, std::string_view ip_address,
                                  std::uint16_t port) {
  return json::serialize(
      json::object{{"serverId", server_id}, {"ipAddress", ip_address}, {"port", port}});
}

std::string token_request_body(std::string_view server_id, std::string_view stage_arn) {
  return json::serialize(json::object{{"serverId", server_id}, {"stageArn", stage_arn}});
}

std::string heartbeat_request_body(std::string_view server_id, bool publisher_active,
                                   std::size_t connected_stages) {
  return json::serialize(json::object{{"serverId", server_id},
                                      {"publisherActive", publisher_active},
                                      {"connectedStages", connected_stages}});
}

std::vector<std::string> list_after_events(std::vector<std::string> listed,
                                           const std::vector<StageNotification>& events) {
  for (const StageNotification& event : events) {
    const auto found = std::find(listed.begin(), listed.end(), event.stage_arn);
    if (event.kind == StageNotification::Kind::stage_created && found == listed.end()) {
      listed.push_back(event.stage_arn);
    } else if (event.kind == StageNotification::Kind::stage_deleted && found != listed.end()) {
      listed.erase(found);
    }
  }
  return listed;
}

}  // namespace ivs::app
