// The table of every configuration variable (docs/configuration.md mirrors it) and the
// validators behind the one-line start-up errors.
#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>

#include "app/config.hpp"

namespace ivs::app {

namespace {

bool parse_integer(std::string_view value, long long& out) {
  if (value.empty()) {
    return false;
  }
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), out);
  return error == std::errc() && end == value.data() + value.size();
}

std::string integer_between(std::string_view value, long long low, long long high,
                            std::string_view what) {
  long long parsed = 0;
  if (!parse_integer(value, parsed) || parsed < low || parsed > high) {
    return std::string(what) + " from " + std::to_string(low) + " to " + std::to_string(high);
  }
  return {};
}

std::string lower(std::string_view value) {
  std::string out(value);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string one_of(std::string_view value, std::initializer_list<std::string_view> accepted) {
  for (const auto candidate : accepted) {
    if (value == candidate) {
      return {};
    }
  }
  std::string out = "one of";
  for (const auto candidate : accepted) {
    out += (out == "one of" ? " " : ", ");
    out += candidate;
  }
  return out;
}

}  // namespace

bool parse_boolean(std::string_view value) {
  const std::string v = lower(value);
  return v == "true" || v == "1" || v == "yes" || v == "on";
}

namespace validators {

std::string port(std::string_view value) {
  return integer_between(value, 0, 65535, "an integer port (0 = any free port)");
}
std::string port_nonzero(std::string_view value) {
  return integer_between(value, 1, 65535, "an integer port");
}
std::string interval_ms(std::string_view value) {
  return integer_between(value, 100, 86400000, "an integer number of milliseconds");
}
std::string boolean(std::string_view value) {
  const std::string v = lower(value);
  for (const char* ok : {"true", "false", "1", "0", "yes", "no", "on", "off"}) {
    if (v == ok) {
      return {};
    }
  }
  return "true or false (also 1/0, yes/no, on/off)";
}
std::string log_level(std::string_view value) {
  return one_of(value, {"debug", "info", "warn", "error"});
}
std::string log_format(std::string_view value) {
  return one_of(value, {"text", "json"});
}
std::string node_env(std::string_view value) {
  return one_of(value, {"development", "production", "test"});
}
std::string http_url(std::string_view value) {
  const auto parsed = boost::urls::parse_absolute_uri(value);
  if (!parsed) {
    return "an absolute http:// or https:// URL with a host";
  }
  const auto scheme = lower(parsed->scheme());
  if ((scheme != "http" && scheme != "https") || parsed->encoded_host().empty()) {
    return "an absolute http:// or https:// URL with a host";
  }
  return {};
}
std::string non_empty(std::string_view value) {
  return value.empty() ? "a non-empty value" : std::string();
}
std::string ip_address_or_empty(std::string_view value) {
  if (value.empty()) {
    return {};
  }
  boost::system::error_code error;
  boost::asio::ip::make_address(std::string(value), error);
  return error ? "an IPv4 or IPv6 address, or empty" : std::string();
}
std::string connect_limit(std::string_view value) {
  return integer_between(value, 1, 1000, "an integer");
}

}  // namespace validators

std::span<const ConfigVariable> config_variables() {
  namespace v = validators;
  static const std::array<ConfigVariable, 22> table = {{
      {"NODE_ENV", "development",
       "Run mode: development, production (API_SECRET_KEY and MEDIA_SERVER_SECRET required) "
       "or test",
       false, v::node_env},
      {"PORT", "3001", "HTTP port of the media server (health, WHIP, status)", false, v::port},
      {"SERVER_ID", "media-server-01", "Identity sent to the API server", false, v::non_empty},
      {"SERVER_IP", "localhost", "Address announced to the API server on register", false,
       v::non_empty},
      {"API_SERVER_URL", "http://localhost:3000", "Base URL of the API server (http or https)",
       false, v::http_url},
      {"API_SECRET_KEY", "", "Sent as x-api-key on every API server request", true, nullptr},
      {"MEDIA_SERVER_SECRET", "", "Sent as x-media-auth on register, token and WebSocket", true,
       nullptr},
      {"AWS_REGION", "us-east-1", "AWS region (kept for the API server side and scale-out)", false,
       v::non_empty},
      {"AWS_ACCESS_KEY_ID", "", "AWS access key (not used by the media server itself)", true,
       nullptr},
      {"AWS_SECRET_ACCESS_KEY", "", "AWS secret key (not used by the media server itself)", true,
       nullptr},
      {"WHIP_ENDPOINT", "https://global.whip.live-video.net",
       "IVS WHIP endpoint when neither the token response nor the token names one", false,
       v::http_url},
      {"LOG_LEVEL", "info", "debug, info, warn or error", false, v::log_level},
      {"HEARTBEAT_INTERVAL", "30000", "Heartbeat period to the API server (ms)", false,
       v::interval_ms},
      {"STAGE_SYNC_INTERVAL", "60000", "Full stage list resync period (ms)", false, v::interval_ms},
      {"ENABLE_AUTO_SYNC", "true", "Resync the stage list every STAGE_SYNC_INTERVAL", false,
       v::boolean},
      {"LOG_FORMAT", "text", "text (human readable) or json (one JSON object per line)", false,
       v::log_format},
      {"SHUTDOWN_TIMEOUT", "10000", "Longest graceful shutdown before exit is forced (ms)", false,
       v::interval_ms},
      {"WHIP_INGEST_TOKEN", "", "Bearer token a publisher must present on POST /whip", true,
       nullptr},
      {"RTC_UDP_PORT", "50000", "UDP port for WebRTC media (ICE, DTLS, SRTP)", false, v::port},
      {"RTC_ANNOUNCED_IP", "",
       "Address put in ICE candidates; empty = SERVER_IP if it is an "
       "IP address, else detected",
       false, v::ip_address_or_empty},
      {"MAX_CONCURRENT_CONNECTS", "8", "Stage connection attempts in flight at once", false,
       v::connect_limit},
      {"API_REQUEST_TIMEOUT", "10000", "Timeout of one API server request (ms)", false,
       v::interval_ms},
  }};
  return table;
}

}  // namespace ivs::app
