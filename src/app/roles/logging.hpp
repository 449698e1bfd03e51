// Logging for every role (seed "監控和日誌": LOG_LEVEL debug/info/warn/error; DESIGN.md §6:
// secrets never logged, tokens only as a short hash).
//
// Two formats, written to stderr so stdout stays free for `--print-config` and `--help`:
//   text (default)  2026-01-02 03:04:05.678 [info] registered with the API server ...
//   json            {"time":"2026-01-02T03:04:05.678Z","level":"info","msg":"...",
//                    "service":"media-server","serverId":"media-server-01"}
// The JSON formatter escapes the message itself (quotes, backslashes, control characters), so a
// hostile stage ARN or error text can never break the one-object-per-line contract.
#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <string_view>

#include "proto/result.hpp"

namespace ivs::app {

struct LoggingOptions {
  std::string level = "info";   // debug | info | warn | error
  std::string format = "text";  // text | json
  std::string service = "media-server";
  std::string server_id;  // added to every JSON line when non-empty
};

// Installs the default spdlog logger (stderr) with the level and format asked for.
Status setup_logging(const LoggingOptions& options);

// A formatter producing one JSON object per line; exposed for tests.
std::unique_ptr<spdlog::formatter> make_json_formatter(std::string service, std::string server_id);

// JSON string escaping (RFC 8259 §7) without the surrounding quotes.
std::string json_escape(std::string_view text);

// "sha256:1a2b3c4d": enough to tell two tokens apart in logs, useless to an attacker.
// An empty secret is shown as "(none)".
std::string secret_fingerprint(std::string_view secret);

}  // namespace ivs::app
