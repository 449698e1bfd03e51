// The api-server role's variable table and loader; see api_server_config.hpp.
#include "app/api_server/api_server_config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <map>

namespace ivs::app::api_server {
namespace {

constexpr std::size_t kMaxInitialStages = 100;

bool parse_count(std::string_view value, long long& out) {
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), out);
  return !value.empty() && error == std::errc() && end == value.data() + value.size();
}

std::string account_id(std::string_view value) {
  const bool ok = value.size() == 12 && std::all_of(value.begin(), value.end(),
                                                    [](char c) { return c >= '0' && c <= '9'; });
  return ok ? std::string() : "exactly 12 digits (an AWS account id)";
}

std::string token_minutes(std::string_view value) {
  long long minutes = 0;
  return parse_count(value, minutes) && minutes >= 1 && minutes <= 20160
             ? std::string()
             : "an integer number of minutes from 1 to 20160 (the IVS token range)";
}

std::string region(std::string_view value) {
  const bool ok =
      !value.empty() && value.size() <= 32 && std::all_of(value.begin(), value.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      });
  return ok ? std::string() : "an AWS region name such as us-east-1";
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// "3" -> three unnamed stages; "a,b" -> stages named a and b; "" -> none.
Result<std::vector<std::string>> parse_initial_stages(std::string_view value) {
  std::vector<std::string> names;
  if (value.empty())
    return names;
  long long count = 0;
  if (parse_count(value, count)) {
    if (count < 0 || count > static_cast<long long>(kMaxInitialStages)) {
      return make_error("a count from 0 to " + std::to_string(kMaxInitialStages));
    }
    names.resize(static_cast<std::size_t>(count));
    return names;
  }
  std::size_t start = 0;
  while (start <= value.size()) {
    const auto comma = value.find(',', start);
    const auto name = value.substr(start, comma == std::string_view::npos ? comma : comma - start);
    if (!valid_name(name) || names.size() >= kMaxInitialStages) {
      return make_error("a count, or comma-separated names of [A-Za-z0-9_-] (at most " +
                        std::to_string(kMaxInitialStages) + ")");
    }
    names.emplace_back(name);
    if (comma == std::string_view::npos)
      break;
    start = comma + 1;
  }
  return names;
}

std::string initial_stages(std::string_view value) {
  auto parsed = parse_initial_stages(value);
  return parsed ? std::string() : parsed.error().message;
}

std::string non_empty_secret(std::string_view value) {
  return value.empty() ? "a secret (required by the api-server role)" : std::string();
}

}  // namespace

std::span<const ConfigVariable> api_server_variables() {
  namespace v = validators;
  constexpr std::size_t kMin = kMinProductionSecretLength;
  static const std::array<ConfigVariable, 17> table = {{
      {"NODE_ENV", "development",
       "development, production (secrets must then be at least 16 characters) or test", false,
       v::node_env},
      {"PORT", "3000", "HTTP port of the API server", false, v::port},
      {"API_BIND_ADDRESS", "0.0.0.0", "Address the API server listens on", false,
       v::ip_address_or_empty},
      {"API_RATE_LIMIT", "100",
       "Requests per second one client address may make, bursts of twice that (0 = no limit; "
       "/health* exempt). Media servers behind one NAT address share it",
       false, v::rate_per_second},
      {"API_SECRET_KEY", "", "Expected x-api-key on every protected route", true, non_empty_secret,
       kMin},
      {"MEDIA_SERVER_SECRET", "", "Expected x-media-auth on register, token and /ws", true,
       non_empty_secret, kMin},
      {"TOKEN_ROTATION_GRACE", "600000",
       "After SIGHUP rotates API_SECRET_KEY or MEDIA_SERVER_SECRET, how long the previous value "
       "keeps working (ms; 0 = at once), so the media servers can be given the new one after",
       false, v::interval_or_zero_ms},
      {"AWS_REGION", "us-east-1", "Region in the stage ARNs", false, region},
      {"AWS_ACCOUNT_ID", "123456789012", "Account id in the stage ARNs", false, account_id},
      {"LOG_LEVEL", "info", "debug, info, warn or error", false, v::log_level},
      {"LOG_FORMAT", "text", "text or json", false, v::log_format},
      {"STAGE_WHIP_URL_BASE", "http://127.0.0.1:3002/whip",
       "Tokens carry whip_url = this + \"/\" + stage id (the local stage role)", false,
       v::http_url},
      {"API_TOKEN_DURATION_MINUTES", "720", "Participant token lifetime (IVS: 1..20160)", false,
       token_minutes},
      {"API_DATA_DIR", "api-server-data",
       "Directory (created 0700) keeping the signing key and the stages across restarts; empty = "
       "memory only, a new key per start",
       false, nullptr},
      {"API_TOKEN_KEY_FILE", "",
       "PEM file of the P-384 signing key, created if missing; empty = API_DATA_DIR/token-key.pem",
       false, nullptr},
      {"API_STATE_FILE", "",
       "JSON file the stages are saved to on change and loaded from; empty = "
       "API_DATA_DIR/state.json",
       false, nullptr},
      {"API_INITIAL_STAGES", "", "Stages created at start if none exist: a count or names a,b,c",
       false, initial_stages},
  }};
  return table;
}

Result<ApiServerConfig> load_api_server_config(const Environment& environment,
                                               const Environment& dotenv) {
  std::map<std::string, std::string, std::less<>> values;
  for (const ConfigVariable& variable : api_server_variables()) {
    Result<Config::Effective> found = effective_value(variable, environment, dotenv);
    if (!found) {
      return found.error();
    }
    std::string value = std::move(found->value);
    if (variable.validate != nullptr) {
      if (const std::string accepted = variable.validate(value); !accepted.empty()) {
        const std::string shown = variable.secret ? "(unset)" : "\"" + value + "\"";
        std::string message = "configuration: ";
        message.append(variable.name).append("=").append(shown);
        message.append(" is not valid; expected ").append(accepted);
        return make_error(std::move(message));
      }
    }
    values.emplace(std::string(variable.name), std::move(value));
  }
  const auto get = [&](std::string_view name) -> const std::string& {
    return values.find(name)->second;
  };
  if (get("NODE_ENV") == "production") {
    for (const ConfigVariable& variable : api_server_variables()) {
      if (auto problem = check_production_secret(variable, get(variable.name)); !problem.empty()) {
        return make_error(std::move(problem));
      }
    }
  }
  ApiServerConfig config;
  config.port = static_cast<std::uint16_t>(std::stoi(get("PORT")));
  config.bind_address = get("API_BIND_ADDRESS").empty() ? "0.0.0.0" : get("API_BIND_ADDRESS");
  config.rate_limit_per_ip = std::stod(get("API_RATE_LIMIT"));
  config.api_secret_key = get("API_SECRET_KEY");
  config.media_server_secret = get("MEDIA_SERVER_SECRET");
  config.token_rotation_grace = std::chrono::milliseconds(std::stoll(get("TOKEN_ROTATION_GRACE")));
  config.aws_region = get("AWS_REGION");
  config.aws_account_id = get("AWS_ACCOUNT_ID");
  config.log_level = get("LOG_LEVEL");
  config.log_format = get("LOG_FORMAT");
  config.whip_url_base = get("STAGE_WHIP_URL_BASE");
  while (config.whip_url_base.ends_with('/'))
    config.whip_url_base.pop_back();
  config.token_duration = std::chrono::minutes(std::stoi(get("API_TOKEN_DURATION_MINUTES")));
  // Both files default to the data directory, so a restart (or kill -9) keeps the key every
  // issued token is signed with and the stages every media server is publishing to.
  config.data_dir = get("API_DATA_DIR");
  config.token_key_file = get("API_TOKEN_KEY_FILE");
  config.state_file = get("API_STATE_FILE");
  if (!config.data_dir.empty()) {
    if (config.token_key_file.empty()) {
      config.token_key_file = config.data_dir + "/token-key.pem";
    }
    if (config.state_file.empty()) {
      config.state_file = config.data_dir + "/state.json";
    }
  }
  config.initial_stage_names = *parse_initial_stages(get("API_INITIAL_STAGES"));
  return config;
}

std::string format_api_server_help() {
  std::string out =
      "usage: media-server api-server\n"
      "The reference API server (docs/api-server.md). Environment variables:\n";
  for (const ConfigVariable& variable : api_server_variables()) {
    char line[512];
    std::snprintf(
        line, sizeof(line), "  %-28s %-28s %s\n", std::string(variable.name).c_str(),
        variable.default_value.empty() ? "(unset)" : std::string(variable.default_value).c_str(),
        std::string(variable.description).c_str());
    out += line;
  }
  return out;
}

}  // namespace ivs::app::api_server
