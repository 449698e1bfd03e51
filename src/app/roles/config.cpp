#include "app/roles/config.hpp"

#include "app/control/shard_peers.hpp"
#include "proto/socket_address.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;  // NOLINT: POSIX; read only by process_environment()

namespace ivs::app {

namespace {

std::string_view trim_line(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

bool valid_key(std::string_view key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key[0]))) {
    return false;
  }
  for (const char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

// Parses the value part of one `.env` line (after `=`).
Result<std::string> parse_dotenv_value(std::string_view raw) {
  std::string_view text = trim_line(raw);
  if (text.empty()) {
    return std::string();
  }
  const char quote = text[0];
  if (quote == '"' || quote == '\'') {
    std::string out;
    std::size_t i = 1;
    for (; i < text.size() && text[i] != quote; ++i) {
      if (quote == '"' && text[i] == '\\' && i + 1 < text.size()) {
        const char next = text[++i];
        out += next == 'n' ? '\n' : next == 't' ? '\t' : next == 'r' ? '\r' : next;
      } else {
        out += text[i];
      }
    }
    if (i >= text.size()) {
      return make_error("unterminated quoted value");
    }
    const std::string_view rest = trim_line(text.substr(i + 1));
    if (!rest.empty() && rest[0] != '#') {
      return make_error("unexpected text after the closing quote");
    }
    return out;
  }
  // Unquoted: an inline comment starts at whitespace followed by '#'.
  for (std::size_t i = 1; i < text.size(); ++i) {
    if (text[i] == '#' && (text[i - 1] == ' ' || text[i - 1] == '\t')) {
      text = trim_line(text.substr(0, i));
      break;
    }
  }
  return std::string(text);
}

long long to_integer(const std::string& value) {
  return std::stoll(value);  // validated before it gets here
}

const char* source_name(ValueSource source) {
  switch (source) {
    case ValueSource::default_value:
      return "default";
    case ValueSource::dotenv:
      return ".env";
    case ValueSource::secret_file:
      return "file";
    case ValueSource::environment:
      return "environment";
  }
  return "";
}

void assign_fields(Config& c) {
  auto get = [&](std::string_view name) -> const std::string& {
    return c.effective.find(name)->second.value;
  };
  c.node_env = get("NODE_ENV");
  c.production = c.node_env == "production";
  c.port = static_cast<std::uint16_t>(to_integer(get("PORT")));
  c.server_id = get("SERVER_ID");
  c.server_ip = get("SERVER_IP");
  c.api_server_url = get("API_SERVER_URL");
  c.api_secret_key = get("API_SECRET_KEY");
  c.media_server_secret = get("MEDIA_SERVER_SECRET");
  c.aws_region = get("AWS_REGION");
  c.aws_access_key_id = get("AWS_ACCESS_KEY_ID");
  c.aws_secret_access_key = get("AWS_SECRET_ACCESS_KEY");
  c.whip_endpoint = get("WHIP_ENDPOINT");
  c.log_level = get("LOG_LEVEL");
  c.log_format = get("LOG_FORMAT");
  c.heartbeat_interval = std::chrono::milliseconds(to_integer(get("HEARTBEAT_INTERVAL")));
  c.stage_sync_interval = std::chrono::milliseconds(to_integer(get("STAGE_SYNC_INTERVAL")));
  c.enable_auto_sync = parse_boolean(get("ENABLE_AUTO_SYNC"));
  c.shutdown_timeout = std::chrono::milliseconds(to_integer(get("SHUTDOWN_TIMEOUT")));
  c.whip_ingest_token = get("WHIP_INGEST_TOKEN");
  c.rtc_udp_port = static_cast<std::uint16_t>(to_integer(get("RTC_UDP_PORT")));
  c.rtc_announced_ip = get("RTC_ANNOUNCED_IP");
  c.max_concurrent_connects = static_cast<std::size_t>(to_integer(get("MAX_CONCURRENT_CONNECTS")));
  c.api_request_timeout = std::chrono::milliseconds(to_integer(get("API_REQUEST_TIMEOUT")));
  c.media_workers = get("MEDIA_WORKERS") == "auto"
                        ? 0
                        : static_cast<std::size_t>(to_integer(get("MEDIA_WORKERS")));
  c.egress_send_batching = get("EGRESS_SEND_BATCHING");
  c.rtc_bind_ip = get("RTC_BIND_IP");
  c.refuse_second_publisher = get("WHIP_PUBLISHER_POLICY") == "refuse";
  c.whep_token = get("WHEP_TOKEN");
  c.whep_open = parse_boolean(get("WHEP_OPEN"));
  c.ingest_pull_url = get("INGEST_PULL_URL");
  c.ingest_pull_token = get("INGEST_PULL_TOKEN");
  if (auto peers = parse_shard_peers(get("SHARD_PEERS"))) {
    c.shard_peers = std::move(*peers);
  }
  c.shard_self = get("SHARD_SELF");
  // The default only when SERVER_IP is an address: the peer set is made of addresses, and a
  // name ("localhost", the default) would never be found in it.
  if (c.shard_self.empty() && SocketAddress::from_ip(c.server_ip, c.port)) {
    c.shard_self = SocketAddress::from_ip(c.server_ip, c.port)->to_string();
  }
  c.shard_refresh = std::chrono::milliseconds(to_integer(get("SHARD_REFRESH_INTERVAL")));
  c.shard_handover_grace = std::chrono::milliseconds(to_integer(get("SHARD_HANDOVER_GRACE")));
  c.whep_max_viewers = static_cast<std::size_t>(to_integer(get("WHEP_MAX_VIEWERS")));
  c.whep_max_connecting = static_cast<std::size_t>(to_integer(get("WHEP_MAX_CONNECTING")));
  c.whep_max_connecting_per_ip =
      static_cast<std::size_t>(to_integer(get("WHEP_MAX_CONNECTING_PER_IP")));
  c.session_connect_timeout = std::chrono::milliseconds(to_integer(get("SESSION_CONNECT_TIMEOUT")));
  c.http_bind_ip = get("HTTP_BIND_IP");
  c.tls_cert_file = get("TLS_CERT_FILE");
  c.tls_key_file = get("TLS_KEY_FILE");
  c.health_port = static_cast<std::uint16_t>(to_integer(get("HEALTH_PORT")));
  c.http_max_connections = static_cast<std::size_t>(to_integer(get("HTTP_MAX_CONNECTIONS")));
  c.http_max_connections_per_ip =
      static_cast<std::size_t>(to_integer(get("HTTP_MAX_CONNECTIONS_PER_IP")));
  c.http_reserved_connections =
      static_cast<std::size_t>(to_integer(get("HTTP_RESERVED_HEALTH_CONNECTIONS")));
  c.http_header_timeout = std::chrono::milliseconds(to_integer(get("HTTP_HEADER_TIMEOUT")));
  c.http_request_timeout = std::chrono::milliseconds(to_integer(get("HTTP_REQUEST_TIMEOUT")));
  c.http_rate_limit = static_cast<double>(to_integer(get("HTTP_RATE_LIMIT")));
  c.admin_token = get("ADMIN_TOKEN");
  c.token_rotation_grace = std::chrono::milliseconds(to_integer(get("TOKEN_ROTATION_GRACE")));
  if (!get("WHIP_INGEST_ALLOWED_CIDRS").empty()) {
    if (auto allowed = parse_ip_network_list(get("WHIP_INGEST_ALLOWED_CIDRS"))) {
      c.whip_ingest_allowed = std::move(*allowed);
    }
  }
  if (auto origins = parse_cors_origins(get("CORS_ALLOW_ORIGINS"))) {
    c.cors_allow_origins = std::move(*origins);
  }
  c.auth_failure_limit = static_cast<std::size_t>(to_integer(get("AUTH_FAILURE_LIMIT")));
  c.auth_failure_window = std::chrono::milliseconds(to_integer(get("AUTH_FAILURE_WINDOW")));
  c.ingest_max_bitrate_kbps = static_cast<std::uint64_t>(to_integer(get("INGEST_MAX_BITRATE")));
  c.reject_video_over_ivs_limits = get("VIDEO_LIMITS_POLICY") == "reject";
  c.stage_republish_interval =
      std::chrono::milliseconds(to_integer(get("STAGE_REPUBLISH_INTERVAL")));
  if (auto destinations = parse_whip_destinations(get("WHIP_DESTINATIONS"))) {
    c.whip_destinations = std::move(*destinations);
  }
}

}  // namespace

Result<Config> load_config(const Environment& environment, const Environment& dotenv) {
  Config config;
  for (const ConfigVariable& variable : config_variables()) {
    Result<Config::Effective> found = effective_value(variable, environment, dotenv);
    if (!found) {
      return found.error();
    }
    Config::Effective effective = std::move(*found);
    if (variable.validate != nullptr) {
      const std::string accepted = variable.validate(effective.value);
      if (!accepted.empty()) {
        // A secret's value is described, never echoed (WHIP_DESTINATIONS carries tokens; its
        // validator's message is itself redacted).
        const std::string shown =
            variable.secret ? "(secret, " + std::to_string(effective.value.size()) + " characters)"
                            : "\"" + effective.value + "\"";
        std::string message = "configuration: ";
        message.append(variable.name).append("=").append(shown);
        message.append(" is not valid; expected ").append(accepted);
        return make_error(std::move(message));
      }
    }
    config.effective.emplace(std::string(variable.name), std::move(effective));
  }
  assign_fields(config);
  if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
    return make_error(
        std::string("configuration: ") +
        (config.tls_cert_file.empty() ? "TLS_KEY_FILE is set but TLS_CERT_FILE is not"
                                      : "TLS_CERT_FILE is set but TLS_KEY_FILE is not") +
        "; set both (PEM certificate chain and its private key) for HTTPS, or neither");
  }
  if (!config.shard_peers.empty() && config.shard_self.empty()) {
    return make_error(
        "configuration: SHARD_PEERS is set but this server's own address is not known (SERVER_IP "
        "is not an IP address); set SHARD_SELF to its ip:port as the SHARD_PEERS entries resolve "
        "to it, e.g. SHARD_SELF=$(POD_IP):3001");
  }
  if (config.production) {
    for (const char* required : {"API_SECRET_KEY", "MEDIA_SERVER_SECRET"}) {
      if (config.effective.find(required)->second.value.empty()) {
        return make_error(std::string("configuration: ") + required +
                          " is unset; expected a secret (required when NODE_ENV=production)");
      }
    }
    for (const ConfigVariable& variable : config_variables()) {
      const std::string problem =
          check_production_secret(variable, config.effective.find(variable.name)->second.value);
      if (!problem.empty()) {
        return make_error(problem);
      }
    }
  }
  return config;
}

std::string check_production_secret(const ConfigVariable& variable, std::string_view value) {
  if (variable.production_min_length == 0 || value.empty() ||
      value.size() >= variable.production_min_length) {
    return {};
  }
  return "configuration: " + std::string(variable.name) + " is " + std::to_string(value.size()) +
         " characters long; NODE_ENV=production requires at least " +
         std::to_string(variable.production_min_length) +
         " (a guessable secret is no secret): generate one with `openssl rand -hex 32`";
}

Result<Environment> parse_dotenv(std::string_view text) {
  Environment out;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    std::string_view line = trim_line(text.substr(0, newline));
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    if (line.empty() || line[0] == '#') {
      continue;
    }
    if (line.starts_with("export ")) {
      line = trim_line(line.substr(7));
    }
    const auto equals = line.find('=');
    const std::string_view key = trim_line(line.substr(0, equals));
    if (equals == std::string_view::npos || !valid_key(key)) {
      return make_error(".env line " + std::to_string(line_number) + ": expected KEY=VALUE");
    }
    auto value = parse_dotenv_value(line.substr(equals + 1));
    if (!value) {
      return make_error(".env line " + std::to_string(line_number) + ": " + value.error().message);
    }
    out[std::string(key)] = std::move(*value);
  }
  return out;
}

Result<Environment> load_dotenv_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) {
      return Environment{};
    }
    return make_error(path + ": " + std::strerror(errno));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  auto parsed = parse_dotenv(contents.str());
  if (!parsed) {
    return make_error(path + ": " + parsed.error().message);
  }
  return parsed;
}

Environment process_environment() {
  Environment out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals != std::string_view::npos) {
      out.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
    }
  }
  return out;
}

std::string value_or(const Environment& environment, std::string_view name,
                     const std::string& fallback) {
  const auto found = environment.find(name);
  return found == environment.end() || found->second.empty() ? fallback : found->second;
}

std::string format_effective_config(const Config& config) {
  std::string out;
  for (const ConfigVariable& variable : config_variables()) {
    const auto& effective = config.effective.find(variable.name)->second;
    std::string shown = effective.value;
    if (variable.secret) {
      shown = effective.value.empty() ? "(unset)" : "***";
    } else if (shown.empty()) {
      shown = "(unset)";
    }
    out += std::string(variable.name) + "=" + shown + "  # " + source_name(effective.source) + "\n";
  }
  return out;
}

std::string format_config_help() {
  std::string out;
  for (const ConfigVariable& variable : config_variables()) {
    std::string line = "  " + std::string(variable.name);
    line.resize(std::max<std::size_t>(line.size() + 1, 26), ' ');
    std::string default_text =
        variable.default_value.empty() ? "(unset)" : std::string(variable.default_value);
    if (variable.secret) {
      default_text += ", secret";
    }
    out.append(line).append(variable.description);
    out.append(" [default: ").append(default_text).append("]\n");
  }
  return out;
}

}  // namespace ivs::app
