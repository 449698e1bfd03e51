// Configuration from the environment plus an optional `.env` file (DESIGN.md §2.3; the seed's
// variable table keeps its names and defaults). The variables are one table (config_table.cpp):
// name, default, description, secret flag and validator, so `--help`, `--print-config` and the
// loader can never disagree about what exists.
//
// Precedence: real environment > `.env` in the working directory > table default. A bad value
// stops the program with ONE line naming the variable, the value and what is accepted
// (ConfigError), exit code 2. Secrets are never printed, not in `--print-config` ("***" or
// "(unset)") and not in errors (a secret's bad value is described, never echoed; io/redact.hpp).
// With NODE_ENV=production every secret the server itself checks must be at least
// `production_min_length` characters (docs/security.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/ip_network.hpp"
#include "proto/result.hpp"

namespace ivs::app {

// Variable name -> raw value. Tests build these by hand; only main() reads the real environment.
using Environment = std::map<std::string, std::string, std::less<>>;

struct ConfigVariable {
  std::string_view name;
  std::string_view default_value;  // "" means unset
  std::string_view description;
  bool secret = false;
  // Empty when `value` is acceptable, else what is accepted ("an integer from 1 to 65535").
  std::string (*validate)(std::string_view value) = nullptr;
  // NODE_ENV=production: the shortest accepted value when set (0: no minimum). Secrets this
  // server verifies get kMinProductionSecretLength; third-party credentials keep 0.
  std::size_t production_min_length = 0;
  // SIGHUP applies a new value without a restart (secret_reload.hpp): the verified and sent
  // secrets are rotated, the TLS files read again. Any other variable needs a restart.
  bool reloadable = false;
};

inline constexpr std::size_t kMinProductionSecretLength = 16;

// The one-line error for a secret shorter than its production minimum, naming the variable and
// what to do; empty when `value` is acceptable (unset secrets are judged elsewhere).
std::string check_production_secret(const ConfigVariable& variable, std::string_view value);

// Every variable the program reads, in documentation order.
std::span<const ConfigVariable> config_variables();

// One static WHIP destination (WHIP_DESTINATIONS), for users without an API server.
struct WhipDestination {
  std::string url;
  std::string token;  // bearer token; empty: no Authorization header
};

// WHIP_DESTINATIONS syntax: entries separated by `;` or newlines, each `<url>` or
// `<url> <bearer-token>` (whitespace between). Errors name the entry.
Result<std::vector<WhipDestination>> parse_whip_destinations(std::string_view value);

// Where a value came from; secret_file: a <NAME>_FILE variable named the file it was read from.
enum class ValueSource { default_value, dotenv, environment, secret_file };

struct Config {
  std::string node_env;  // development | production | test
  bool production = false;
  std::uint16_t port = 3001;
  std::string server_id;
  std::string server_ip;
  std::string api_server_url;
  std::string api_secret_key;
  std::string media_server_secret;
  std::string aws_region;
  std::string aws_access_key_id;
  std::string aws_secret_access_key;
  std::string whip_endpoint;
  std::string log_level;   // debug | info | warn | error
  std::string log_format;  // text | json
  std::chrono::milliseconds heartbeat_interval{30000};
  std::chrono::milliseconds stage_sync_interval{60000};
  bool enable_auto_sync = true;
  std::chrono::milliseconds shutdown_timeout{10000};
  std::string whip_ingest_token;
  // TOKEN_ROTATION_GRACE: how long a rotated token's previous value keeps working.
  std::chrono::milliseconds token_rotation_grace{600000};
  // WHIP_INGEST_ALLOWED_CIDRS: the addresses that may publish; empty = any.
  std::vector<IpNetwork> whip_ingest_allowed;
  std::uint16_t rtc_udp_port = 50000;
  std::string rtc_announced_ip;  // empty: SERVER_IP if it is an address, else detected
  std::size_t max_concurrent_connects = 8;
  // MEDIA_WORKERS: threads that run the stage legs (app/relay/media_workers.hpp); 0 = one per core.
  std::size_t media_workers = 0;
  // EGRESS_SEND_BATCHING: auto, io_uring or sendmmsg (io/udp_send_batch.hpp).
  std::string egress_send_batching = "auto";
  std::chrono::milliseconds api_request_timeout{10000};
  std::string rtc_bind_ip = "0.0.0.0";   // where the RTC UDP port is bound
  bool refuse_second_publisher = false;  // WHIP_PUBLISHER_POLICY=refuse: 409 instead of replace
  std::string whep_token;                // empty: WHEP is closed unless whep_open
  bool whep_open = false;                // WHEP_OPEN: WHEP without a token
  std::size_t whep_max_viewers = 100;
  std::size_t whep_max_connecting = 20;        // WHEP_MAX_CONNECTING
  std::size_t whep_max_connecting_per_ip = 8;  // WHEP_MAX_CONNECTING_PER_IP
  // SESSION_CONNECT_TIMEOUT: a WHIP/WHEP session not connected (ICE + DTLS) by then is removed.
  std::chrono::milliseconds session_connect_timeout{10000};
  // The HTTP listener's overload limits (io/http_server.hpp, docs/security.md).
  std::string http_bind_ip = "0.0.0.0";  // HTTP_BIND_IP: PORT's and HEALTH_PORT's address
  // TLS_CERT_FILE, TLS_KEY_FILE: HTTPS on PORT when both are set (load_config refuses one alone).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::uint16_t health_port = 0;  // HEALTH_PORT: 0 = health on PORT only (reserved slots)
  std::size_t http_max_connections = 1024;
  std::size_t http_max_connections_per_ip = 64;
  std::size_t http_reserved_connections = 32;
  std::chrono::milliseconds http_header_timeout{10000};
  std::chrono::milliseconds http_request_timeout{30000};
  double http_rate_limit = 100;  // requests per second per address; 0 = none
  // ADMIN_TOKEN: the dashboard's stage buttons; empty = WHIP_INGEST_TOKEN (logged at start).
  std::string admin_token;
  // CORS_ALLOW_ORIGINS: empty = any origin ("*"); else the origins whose pages may read answers.
  std::vector<std::string> cors_allow_origins;
  std::size_t auth_failure_limit = 10;
  std::chrono::milliseconds auth_failure_window{60000};
  bool reject_video_over_ivs_limits = false;  // VIDEO_LIMITS_POLICY=reject
  std::chrono::milliseconds stage_republish_interval{23LL * 3600 * 1000};
  std::vector<WhipDestination> whip_destinations;  // WHIP_DESTINATIONS, parsed
  std::string ingest_pull_url;           // INGEST_PULL_URL: an origin's WHEP endpoint; "" = none
  std::string ingest_pull_token;         // INGEST_PULL_TOKEN
  std::vector<std::string> shard_peers;  // SHARD_PEERS, "host:port" entries; empty = no sharding
  std::string shard_self;                // SHARD_SELF, or SERVER_IP:PORT
  std::chrono::milliseconds shard_refresh{2000};
  std::chrono::milliseconds shard_handover_grace{5000};
  // INGEST_MAX_BITRATE: the REMB cap toward publishers (kbit/s).
  std::uint64_t ingest_max_bitrate_kbps = 6000;

  // The effective raw value of every table variable and where it came from.
  struct Effective {
    std::string value;
    ValueSource source = ValueSource::default_value;
  };
  std::map<std::string, Effective, std::less<>> effective;
};

// The value of `variable` by precedence: environment, then `.env`, then the default. A secret
// may instead be given as <NAME>_FILE=<path> in either layer (Docker and Kubernetes secrets,
// which mount files): the file's contents with trailing newlines removed, at that layer's
// precedence. Errors name the variable, the path and what to do: NAME and NAME_FILE both set in
// one layer, a file that cannot be read, or one larger than 64 KiB.
Result<Config::Effective> effective_value(const ConfigVariable& variable,
                                          const Environment& environment,
                                          const Environment& dotenv);

// Builds the configuration; the error is the single line to print before exiting with code 2.
Result<Config> load_config(const Environment& environment, const Environment& dotenv = {});

// `.env` syntax: KEY=VALUE per line; blank lines and `#` comments ignored; optional `export `
// prefix; values may be "double quoted" (with \n \t \" \\ escapes) or 'single quoted'
// (literal); unquoted values end at ` #`. Errors name the line number.
Result<Environment> parse_dotenv(std::string_view text);
// Reads and parses `path`; a missing file is an empty environment, not an error.
Result<Environment> load_dotenv_file(const std::string& path);
// The process environment (main() only).
Environment process_environment();
// The value of `name` in `environment`, or `fallback` when it is missing or empty (the knobs
// of roles outside the configuration table: the demo's, the IVS stand-in's).
std::string value_or(const Environment& environment, std::string_view name,
                     const std::string& fallback);

// `NAME=value  # source` lines for `--print-config`, secrets redacted.
std::string format_effective_config(const Config& config);
// The variable table for `--help`: name, default, description.
std::string format_config_help();

// Validators, exposed for tests and for other roles' variables.
namespace validators {
std::string port(std::string_view value);
std::string port_nonzero(std::string_view value);
std::string interval_ms(std::string_view value);
std::string interval_or_zero_ms(std::string_view value);
std::string boolean(std::string_view value);
std::string log_level(std::string_view value);
std::string log_format(std::string_view value);
std::string node_env(std::string_view value);
std::string http_url(std::string_view value);
std::string non_empty(std::string_view value);
std::string ip_address_or_empty(std::string_view value);
std::string connect_limit(std::string_view value);
std::string whip_destinations(std::string_view value);
std::string cidr_list_or_empty(std::string_view value);
std::string ip_address(std::string_view value);
std::string publisher_policy(std::string_view value);
std::string send_batching(std::string_view value);
std::string viewer_limit(std::string_view value);
std::string bitrate_kbps(std::string_view value);
std::string video_limits_policy(std::string_view value);
std::string connection_limit(std::string_view value);
std::string server_id(std::string_view value);
std::string ipv4_address(std::string_view value);
std::string cors_origins(std::string_view value);
std::string count_or_zero(std::string_view value);
std::string header_timeout_ms(std::string_view value);
std::string connect_timeout_ms(std::string_view value);
std::string rate_per_second(std::string_view value);
std::string stage_source(std::string_view value);
std::string stage_tag(std::string_view value);
std::string token_minutes(std::string_view value);
std::string http_url_or_empty(std::string_view value);
std::string worker_count(std::string_view value);
std::string shard_peers(std::string_view value);
std::string shard_self(std::string_view value);
}  // namespace validators

bool parse_boolean(std::string_view value);

// CORS_ALLOW_ORIGINS: "*" -> {} (any); "https://a.example, http://b:8080" -> those origins.
Result<std::vector<std::string>> parse_cors_origins(std::string_view value);

}  // namespace ivs::app
