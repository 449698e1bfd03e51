#include "app/control/stage_auth.hpp"

#include <boost/json.hpp>

#include "proto/text.hpp"

namespace ivs::app {

using proto::text::iequals;
using proto::text::trim;

bool resource_names_stage(std::string_view resource, std::string_view stage_id) {
  if (stage_id.empty()) {
    return false;
  }
  if (resource == stage_id) {
    return true;
  }
  const std::string suffix = "stage/" + std::string(stage_id);
  return resource.size() > suffix.size() &&
         resource.substr(resource.size() - suffix.size()) == suffix &&
         resource[resource.size() - suffix.size() - 1] == ':';
}

std::optional<StageAuthRefusal> check_stage_token(const jwt::Es384Key& key,
                                                  std::string_view authorization,
                                                  std::string_view stage_id,
                                                  std::int64_t now_unix_seconds) {
  authorization = trim(authorization);
  if (authorization.empty()) {
    return StageAuthRefusal{401,
                            "missing Authorization header: send \"Authorization: Bearer "
                            "<participant token>\""};
  }
  const auto space = authorization.find(' ');
  if (space == std::string_view::npos || !iequals(authorization.substr(0, space), "Bearer")) {
    return StageAuthRefusal{401, "the Authorization header must use the Bearer scheme"};
  }
  const std::string_view token = trim(authorization.substr(space + 1));
  auto verified = jwt::verify(key, token, now_unix_seconds);
  if (!verified) {
    return StageAuthRefusal{401, "participant token refused: " + verified.error().message};
  }
  const auto* resource = verified->claims.if_contains("resource");
  if (resource == nullptr || !resource->is_string()) {
    return StageAuthRefusal{403, "participant token has no \"resource\" claim naming a stage"};
  }
  if (!resource_names_stage(resource->as_string(), stage_id)) {
    return StageAuthRefusal{403, "participant token is for another stage (resource \"" +
                                     std::string(resource->as_string()) + "\", not stage \"" +
                                     std::string(stage_id) + "\")"};
  }
  if (const auto* capabilities = verified->claims.if_contains("capabilities");
      capabilities != nullptr && capabilities->is_object()) {
    const auto* publish = capabilities->as_object().if_contains("allow_publish");
    if (publish != nullptr && publish->is_bool() && !publish->as_bool()) {
      return StageAuthRefusal{403, "participant token does not allow publishing"};
    }
  }
  return std::nullopt;
}

Result<jwt::Es384Key> key_from_jwks(std::string_view body) {
  boost::system::error_code error;
  const boost::json::value json = boost::json::parse(body, error);
  if (error || !json.is_object()) {
    return make_error("keys: not a JSON object");
  }
  const auto& object = json.as_object();
  if (const auto* keys = object.if_contains("keys"); keys != nullptr && keys->is_array()) {
    std::string last_error = "keys: empty JWK Set";
    for (const auto& item : keys->as_array()) {
      if (!item.is_object()) {
        continue;
      }
      auto key = jwt::Es384Key::from_jwk(item.as_object());
      if (key) {
        return key;
      }
      last_error = "keys: " + key.error().message;
    }
    return make_error(last_error);
  }
  return jwt::Es384Key::from_jwk(object);
}

Result<std::map<std::string, StageFault>> parse_stage_faults(std::string_view text) {
  std::map<std::string, StageFault> faults;
  while (!text.empty()) {
    const auto end = text.find(';');
    const std::string_view entry = trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (entry.empty()) {
      continue;
    }
    const auto equals = entry.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return make_error("STAGE_FAULTS: \"" + std::string(entry) +
                        "\" is not <stageId>=500 or <stageId>=hang");
    }
    const std::string stage(trim(entry.substr(0, equals)));
    const std::string_view kind = trim(entry.substr(equals + 1));
    if (kind == "500") {
      faults[stage] = StageFault::http_500;
    } else if (kind == "hang") {
      faults[stage] = StageFault::hang;
    } else {
      return make_error("STAGE_FAULTS: unknown fault \"" + std::string(kind) + "\" for stage \"" +
                        stage + "\" (500 or hang)");
    }
  }
  return faults;
}

}  // namespace ivs::app
