// The table of every configuration variable (docs/configuration.md mirrors it) and the
// validators behind the one-line start-up errors.
#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>

#include "app/control/shard_peers.hpp"
#include "app/roles/config.hpp"
#include "io/redact.hpp"
#include "proto/text.hpp"

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
  const std::string v = proto::text::to_lower(value);
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
std::string interval_or_zero_ms(std::string_view value) {
  return integer_between(value, 0, 86400000, "an integer number of milliseconds (0 = none)");
}
std::string boolean(std::string_view value) {
  const std::string v = proto::text::to_lower(value);
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
  const auto scheme = proto::text::to_lower(parsed->scheme());
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

std::string worker_count(std::string_view value) {
  return value == "auto" ? std::string() : integer_between(value, 1, 64, "auto or an integer");
}

std::string send_batching(std::string_view value) {
  return one_of(value, {"auto", "io_uring", "sendmmsg"});
}

std::string ip_address(std::string_view value) {
  boost::system::error_code error;
  boost::asio::ip::make_address(std::string(value), error);
  return error ? "an IPv4 or IPv6 address (e.g. 0.0.0.0)" : std::string();
}
std::string publisher_policy(std::string_view value) {
  return one_of(value, {"replace", "refuse"});
}
std::string viewer_limit(std::string_view value) {
  return integer_between(value, 0, 100000, "an integer");
}
std::string bitrate_kbps(std::string_view value) {
  // IVS accepts at most 8.5 Mbit/s per stage; a cap above it would let a publisher exceed it.
  return integer_between(value, 100, 8500, "an integer number of kbit/s");
}
std::string video_limits_policy(std::string_view value) {
  return one_of(value, {"warn", "reject"});
}
// SERVER_ID travels in an HTTP header (the WebSocket's serverId) and in JSON bodies: a CR, LF
// or quote in it would split a header or a document, so only a plain name is accepted.
std::string server_id(std::string_view value) {
  const bool ok = !value.empty() && value.size() <= 128 &&
                  std::all_of(value.begin(), value.end(), [](unsigned char c) {
                    return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
                  });
  return ok ? std::string()
            : "a non-empty name of at most 128 letters, digits, '.', '_' or '-' (it is sent in "
              "HTTP headers and JSON)";
}
// The media plane's UDP port is IPv4 (app/relay/media_plane.hpp): an IPv6 address would pass a
// general address check and then fail at start-up with a less helpful message.
std::string ipv4_address(std::string_view value) {
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(std::string(value), error);
  return error || !address.is_v4() ? "an IPv4 address (e.g. 0.0.0.0 or 127.0.0.1)" : std::string();
}
std::string cors_origins(std::string_view value) {
  auto parsed = parse_cors_origins(value);
  return parsed ? std::string() : parsed.error().message;
}
std::string connection_limit(std::string_view value) {
  return integer_between(value, 1, 100000, "an integer");
}
std::string count_or_zero(std::string_view value) {
  return integer_between(value, 0, 100000, "an integer (0 = no limit)");
}
std::string header_timeout_ms(std::string_view value) {
  // Above 10 s a trickled header holds a connection long enough to matter (slowloris).
  return integer_between(value, 100, 10000, "an integer number of milliseconds");
}
std::string connect_timeout_ms(std::string_view value) {
  return integer_between(value, 1000, 60000, "an integer number of milliseconds");
}
std::string rate_per_second(std::string_view value) {
  return integer_between(value, 0, 1000000, "an integer number of requests per second (0 = none)");
}
std::string cidr_list_or_empty(std::string_view value) {
  if (value.empty()) {
    return {};
  }
  auto parsed = parse_ip_network_list(value);
  return parsed ? std::string()
                : "comma-separated IP addresses or CIDR networks (" + parsed.error().message + ")";
}
std::string stage_source(std::string_view value) {
  return one_of(value, {"api", "ivs"});
}
std::string stage_tag(std::string_view value) {
  return value.empty() || (value.find('=') != std::string_view::npos && value.front() != '=')
             ? std::string()
             : "a tag as key=value (e.g. media-server=relay), or empty";
}
std::string token_minutes(std::string_view value) {
  return integer_between(value, 1, 20160, "an integer number of minutes");
}
std::string http_url_or_empty(std::string_view value) {
  return value.empty() ? std::string() : http_url(value);
}
std::string whip_destinations(std::string_view value) {
  auto parsed = parse_whip_destinations(value);
  return parsed ? std::string() : parsed.error().message;
}
std::string shard_peers(std::string_view value) {
  auto parsed = parse_shard_peers(value);
  return parsed ? std::string() : parsed.error().message;
}
std::string shard_self(std::string_view value) {
  if (value.empty()) {
    return {};
  }
  auto parsed = parse_shard_peers(value);
  return parsed && parsed->size() == 1 ? std::string()
                                       : "this server's address as one 'ip:port' "
                                         "(e.g. 10.0.3.7:3001)";
}
}  // namespace validators

Result<std::vector<std::string>> parse_cors_origins(std::string_view value) {
  std::vector<std::string> origins;
  if (value == "*") {
    return origins;
  }
  std::size_t start = 0;
  while (start <= value.size()) {
    auto end = value.find(',', start);
    if (end == std::string_view::npos) {
      end = value.size();
    }
    std::string_view origin = value.substr(start, end - start);
    while (!origin.empty() && origin.front() == ' ') {
      origin.remove_prefix(1);
    }
    while (!origin.empty() && origin.back() == ' ') {
      origin.remove_suffix(1);
    }
    // An origin is scheme://host[:port] exactly as a browser sends it: no path, no slash.
    const auto parsed = boost::urls::parse_absolute_uri(origin);
    const bool ok = parsed && (parsed->scheme() == "http" || parsed->scheme() == "https") &&
                    !parsed->encoded_host().empty() && parsed->encoded_path().empty() &&
                    !parsed->has_query() && !parsed->has_userinfo();
    if (!ok) {
      return Error{
          "* or comma-separated origins such as https://app.example.com (scheme, host "
          "and port only; got '" +
          std::string(origin) + "')"};
    }
    origins.emplace_back(origin);
    start = end + 1;
  }
  return origins;
}

Result<std::vector<WhipDestination>> parse_whip_destinations(std::string_view value) {
  std::vector<WhipDestination> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t end = value.find_first_of(";\n", start);
    if (end == std::string_view::npos) {
      end = value.size();
    }
    std::string_view entry = value.substr(start, end - start);
    start = end + 1;
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < entry.size()) {
      while (i < entry.size() && std::isspace(static_cast<unsigned char>(entry[i]))) {
        ++i;
      }
      std::size_t j = i;
      while (j < entry.size() && !std::isspace(static_cast<unsigned char>(entry[j]))) {
        ++j;
      }
      if (j > i) {
        words.emplace_back(entry.substr(i, j - i));
      }
      i = j;
    }
    if (words.empty()) {
      continue;
    }
    // The entry as an error may show it: the URL redacted, every other word a secret.
    std::string shown = io::redact_url(words[0]);
    for (std::size_t w = 1; w < words.size(); ++w) {
      shown += " ***";
    }
    if (words.size() > 2) {
      return Error{"entries of the form '<url> [token]' separated by ';' (entry '" + shown +
                   "' has " + std::to_string(words.size()) + " words)"};
    }
    if (!validators::http_url(words[0]).empty()) {
      return Error{"entries of the form '<url> [token]' with an http(s) URL (got '" + shown + "')"};
    }
    out.push_back(WhipDestination{words[0], words.size() == 2 ? words[1] : std::string()});
  }
  return out;
}

std::span<const ConfigVariable> config_variables() {
  namespace v = validators;
  constexpr std::size_t kMin = kMinProductionSecretLength;
  static const std::array<ConfigVariable, 75> table = {{
      {"NODE_ENV", "development",
       "Run mode: development, production (API_SECRET_KEY and MEDIA_SERVER_SECRET required) "
       "or test",
       false, v::node_env},
      {"PORT", "3001", "HTTP port of the media server (health, WHIP, status)", false, v::port},
      {"SERVER_ID", "media-server-01", "Identity sent to the API server", false, v::server_id},
      {"SERVER_IP", "localhost", "Address announced to the API server on register", false,
       v::non_empty},
      {"API_SERVER_URL", "http://localhost:3000", "Base URL of the API server (http or https)",
       false, v::http_url},
      {"API_SECRET_KEY", "", "Sent as x-api-key on every API server request", true, nullptr, kMin,
       true},
      {"MEDIA_SERVER_SECRET", "", "Sent as x-media-auth on register, token and WebSocket", true,
       nullptr, kMin, true},
      {"AWS_REGION", "us-east-1",
       "AWS region of the IVS stages (STAGE_SOURCE=ivs) and of STS; kept for the API server side",
       false, v::non_empty},
      {"AWS_ACCESS_KEY_ID", "",
       "AWS access key, first in the credentials chain (used with STAGE_SOURCE=ivs)", true,
       nullptr},
      {"AWS_SECRET_ACCESS_KEY", "", "AWS secret key of AWS_ACCESS_KEY_ID (STAGE_SOURCE=ivs)", true,
       nullptr},
      {"STAGE_SOURCE", "api",
       "Where stages and tokens come from: api (the API server) or ivs (Amazon IVS Real-Time "
       "directly, with AWS credentials; docs/ivs-direct.md)",
       false, v::stage_source},
      {"IVS_STAGE_TAG", "",
       "STAGE_SOURCE=ivs: publish only to stages carrying this tag, as key=value (empty = every "
       "stage in AWS_REGION)",
       false, v::stage_tag},
      {"IVS_TOKEN_DURATION", "720",
       "STAGE_SOURCE=ivs: participant token lifetime in minutes (IVS accepts 1 to 20160)", false,
       v::token_minutes},
      {"IVS_API_MAX_RATE", "40",
       "STAGE_SOURCE=ivs: most IVS API requests per second this server sends (IVS allows 50 "
       "CreateParticipantToken per second per account; 0 = unpaced)",
       false, v::rate_per_second},
      {"IVS_TOKEN_PRIVATE_KEY_FILE", "",
       "STAGE_SOURCE=ivs: PEM P-384 private key to self-sign participant tokens (with "
       "IVS_PUBLIC_KEY_ARN; no API call per stage)",
       false, nullptr},
      {"IVS_PUBLIC_KEY_ARN", "",
       "STAGE_SOURCE=ivs: ARN of the imported public key of IVS_TOKEN_PRIVATE_KEY_FILE (the "
       "tokens' kid)",
       false, nullptr},
      {"AWS_SESSION_TOKEN", "", "Session token of temporary AWS_ACCESS_KEY_ID credentials", true,
       nullptr},
      {"AWS_PROFILE", "", "Profile of the shared AWS files (empty = default)", false, nullptr},
      {"AWS_SHARED_CREDENTIALS_FILE", "",
       "AWS shared credentials file (empty = ~/.aws/credentials)", false, nullptr},
      {"AWS_CONFIG_FILE", "", "AWS shared config file (empty = ~/.aws/config)", false, nullptr},
      {"AWS_ROLE_ARN", "",
       "Role to assume with the web identity token (EKS service accounts set it)", false, nullptr},
      {"AWS_WEB_IDENTITY_TOKEN_FILE", "",
       "Web identity token file for STS AssumeRoleWithWebIdentity (EKS sets it)", false, nullptr},
      {"AWS_ROLE_SESSION_NAME", "",
       "Session name when assuming AWS_ROLE_ARN (empty = "
       "ivs-media-server)",
       false, nullptr},
      {"AWS_ENDPOINT_URL_IVS_REALTIME", "",
       "IVS Real-Time endpoint (empty = https://ivsrealtime.<AWS_REGION>.amazonaws.com)", false,
       v::http_url_or_empty},
      {"AWS_ENDPOINT_URL_STS", "", "STS endpoint (empty = https://sts.<AWS_REGION>.amazonaws.com)",
       false, v::http_url_or_empty},
      {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "",
       "EC2 instance metadata endpoint (empty = http://169.254.169.254)", false,
       v::http_url_or_empty},
      {"AWS_EC2_METADATA_DISABLED", "false",
       "true: never ask the EC2 instance metadata service for credentials", false, v::boolean},
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
      {"WHIP_INGEST_TOKEN", "",
       "Bearer token a publisher must present on POST /whip (also the dashboard's admin token)",
       true, nullptr, kMin, true},
      {"TOKEN_ROTATION_GRACE", "600000",
       "After SIGHUP rotated WHIP_INGEST_TOKEN, WHEP_TOKEN or ADMIN_TOKEN, how long the previous "
       "value still works (ms; 0 = not at all)",
       false, v::interval_or_zero_ms},
      {"WHIP_INGEST_ALLOWED_CIDRS", "",
       "Client addresses allowed to POST /whip: comma-separated IPs or CIDR networks (e.g. "
       "203.0.113.0/24, 2001:db8::/32); empty = any address",
       false, v::cidr_list_or_empty},
      {"RTC_UDP_PORT", "50000", "UDP port for WebRTC media (ICE, DTLS, SRTP)", false, v::port},
      {"RTC_ANNOUNCED_IP", "",
       "Address put in ICE candidates; empty = SERVER_IP if it is an "
       "IP address, else detected",
       false, v::ip_address_or_empty},
      {"MAX_CONCURRENT_CONNECTS", "8", "Stage connection attempts in flight at once", false,
       v::connect_limit},
      {"MEDIA_WORKERS", "auto",
       "Threads that send to stages (auto: one per core; 1: everything on the main thread)", false,
       v::worker_count},
      {"EGRESS_SEND_BATCHING", "auto",
       "How a media thread hands its stage sockets' packets to the kernel each loop turn "
       "(auto: one io_uring submission for all when the kernel allows it, else sendmmsg; "
       "io_uring; sendmmsg: one call per socket)",
       false, v::send_batching},
      {"API_REQUEST_TIMEOUT", "10000", "Timeout of one API server request (ms)", false,
       v::interval_ms},
      {"RTC_BIND_IP", "0.0.0.0", "Local IPv4 address the RTC UDP port binds to", false,
       v::ipv4_address},
      {"WHIP_PUBLISHER_POLICY", "replace",
       "What a second authenticated publisher gets: replace (the old one is dropped, OBS "
       "restarts) or refuse (409)",
       false, v::publisher_policy},
      {"WHEP_TOKEN", "",
       "Bearer token WHEP viewers must present on POST /whep; empty = WHEP closed unless "
       "WHEP_OPEN=true",
       true, nullptr, kMin, true},
      {"WHEP_OPEN", "false", "Serve WHEP without a token when WHEP_TOKEN is unset", false,
       v::boolean},
      {"WHEP_MAX_VIEWERS", "100", "Most connected WHEP viewers at once", false, v::viewer_limit},
      {"WHEP_MAX_CONNECTING", "20",
       "Most WHEP viewer sessions still connecting (ICE/DTLS) at once, on top of WHEP_MAX_VIEWERS",
       false, v::connection_limit},
      {"WHEP_MAX_CONNECTING_PER_IP", "8",
       "Most WHEP viewer sessions one client address may have connecting at once (0 = no limit)",
       false, v::count_or_zero},
      {"SESSION_CONNECT_TIMEOUT", "10000",
       "A WHIP/WHEP session not connected (ICE + DTLS) within this is removed (ms)", false,
       v::connect_timeout_ms},
      {"INGEST_MAX_BITRATE", "6000",
       "Most a WHIP publisher is asked to send (kbit/s; sent as REMB next to transport-cc "
       "feedback; IVS takes at most 8500)",
       false, v::bitrate_kbps},
      {"VIDEO_LIMITS_POLICY", "warn",
       "Publisher video outside IVS limits (Baseline, <= 720p): warn (log + /api/status) or "
       "reject (the WHIP POST fails)",
       false, v::video_limits_policy},
      {"STAGE_REPUBLISH_INTERVAL", "82800000",
       "Age at which a stage's WHIP session is replaced make-before-break (ms; IVS ends "
       "sessions at 24 h)",
       false, v::interval_ms},
      {"WHIP_DESTINATIONS", "",
       "Static WHIP destinations without an API server: entries '<url> [token]' separated by ';'",
       true, v::whip_destinations},
      {"INGEST_PULL_URL", "",
       "WHEP URL of another media server (an origin) this one pulls the broadcast from, as an "
       "edge feeding its own stages (docs/scale-out.md); empty = WHIP publishers only",
       false, v::http_url_or_empty},
      {"SHARD_PEERS", "",
       "Media servers that share the stages (this one included): 'host:port' entries, each a "
       "headless Service name or an address; each stage is published by one live peer "
       "(rendezvous hashing, docs/scale-out.md); empty = this server publishes every stage",
       false, v::shard_peers},
      {"SHARD_SELF", "",
       "This server's 'ip:port' as the SHARD_PEERS entries resolve to it; empty = "
       "SERVER_IP:PORT",
       false, v::shard_self},
      {"SHARD_REFRESH_INTERVAL", "2000",
       "How often SHARD_PEERS is resolved again and each peer's /health/ready probed (ms)", false,
       v::interval_ms},
      {"SHARD_HANDOVER_GRACE", "5000",
       "How long a stage that moved to another peer stays published here, so the new owner "
       "connects before this one lets go (ms)",
       false, v::interval_or_zero_ms},
      {"INGEST_PULL_TOKEN", "", "Bearer token for INGEST_PULL_URL (the origin's WHEP_TOKEN)", true,
       nullptr},
      {"HTTP_BIND_IP", "0.0.0.0",
       "Local address the HTTP listener (PORT, HEALTH_PORT) binds to: 0.0.0.0 every IPv4 "
       "address, :: every address, or one of this machine's",
       false, v::ip_address},
      {"TLS_CERT_FILE", "",
       "PEM certificate chain for HTTPS on PORT (with TLS_KEY_FILE; read again on SIGHUP); "
       "empty = plain HTTP",
       false, nullptr, 0, true},
      {"TLS_KEY_FILE", "", "PEM private key of TLS_CERT_FILE (unencrypted; keep it 0600)", false,
       nullptr, 0, true},
      {"HEALTH_PORT", "0",
       "A second HTTP port serving only /health* (0 = none: probes use PORT's reserved slots)",
       false, v::port},
      {"HTTP_MAX_CONNECTIONS", "1024",
       "HTTP connections at once; beyond it the longest-idle header-waiting one is shed", false,
       v::connection_limit},
      {"HTTP_MAX_CONNECTIONS_PER_IP", "64",
       "HTTP connections one client address may hold (0 = no limit)", false, v::count_or_zero},
      {"HTTP_RESERVED_HEALTH_CONNECTIONS", "32",
       "Extra HTTP connection slots kept for /health* when every other slot is busy", false,
       v::count_or_zero},
      {"HTTP_HEADER_TIMEOUT", "10000",
       "Time a client has to send a whole request header (ms; also the keep-alive idle limit)",
       false, v::header_timeout_ms},
      {"HTTP_REQUEST_TIMEOUT", "30000",
       "Time a client has to send a request body once its header is in (ms)", false,
       v::interval_ms},
      {"HTTP_RATE_LIMIT", "100",
       "Requests per second one client address may make, bursts of twice that (0 = no limit; "
       "/health* exempt)",
       false, v::rate_per_second},
      {"ADMIN_TOKEN", "",
       "Bearer token of the dashboard's create/delete stage buttons; empty = WHIP_INGEST_TOKEN",
       true, nullptr, kMin, true},
      {"CORS_ALLOW_ORIGINS", "*",
       "Origins whose pages may read the HTTP answers (WHIP/WHEP from a browser): * or "
       "comma-separated https://host[:port]",
       false, v::cors_origins},
      {"AUTH_FAILURE_LIMIT", "10",
       "Failed authentications per client address within AUTH_FAILURE_WINDOW before it gets 429 "
       "(0 = no limit)",
       false, v::count_or_zero},
      {"AUTH_FAILURE_WINDOW", "60000", "The window AUTH_FAILURE_LIMIT counts in (ms)", false,
       v::interval_ms},
  }};
  return table;
}

}  // namespace ivs::app
