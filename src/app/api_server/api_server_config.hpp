// Configuration of the `api-server` role, from the environment plus an optional `.env` file,
// with the same precedence, one-line errors and secret redaction as the media server's
// (app/roles/config.hpp). The names shared with the media server mean the same thing (PORT,
// API_SECRET_KEY, MEDIA_SERVER_SECRET, AWS_REGION, LOG_LEVEL, LOG_FORMAT); only PORT's default
// differs (3000, where the media server's API_SERVER_URL points by default).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "app/roles/config.hpp"
#include "proto/result.hpp"

namespace ivs::app::api_server {

struct ApiServerConfig {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 3000;
  // API_RATE_LIMIT: requests per second per client address (0 = none).
  double rate_limit_per_ip = 100;
  std::string api_secret_key;
  std::string media_server_secret;
  // TOKEN_ROTATION_GRACE: how long the previous secrets keep working after a SIGHUP rotation.
  std::chrono::milliseconds token_rotation_grace{600000};
  std::string aws_region = "us-east-1";
  std::string aws_account_id = "123456789012";
  std::string log_level = "info";
  std::string log_format = "text";
  std::string whip_url_base = "http://127.0.0.1:3002/whip";
  std::chrono::minutes token_duration{720};
  std::string data_dir;        // API_DATA_DIR; empty: nothing survives a restart
  std::string token_key_file;  // empty: a fresh key per start
  std::string state_file;      // empty: stages live in memory only
  // Stages created at start when the state is empty: API_INITIAL_STAGES is a count ("3") or a
  // comma-separated list of names ("lobby,main,overflow").
  std::vector<std::string> initial_stage_names;
};

// Every variable this role reads, for `--help` and the loader.
std::span<const ConfigVariable> api_server_variables();

// Both secrets are required: an API server without them would either reject every media server
// or accept anyone. With NODE_ENV=production each must be at least 16 characters. The error is the
// single line to print before exiting with code 2.
Result<ApiServerConfig> load_api_server_config(const Environment& environment,
                                               const Environment& dotenv = {});

std::string format_api_server_help();

}  // namespace ivs::app::api_server
