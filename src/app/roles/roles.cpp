#include "app/roles/roles.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <cstdio>
#include <optional>

#include "app/aws/ivs_setup.hpp"
#include "app/publisher/test_publisher.hpp"
#include "app/roles/demo_role.hpp"
#include "app/roles/ivs_fake_role.hpp"
#include "app/roles/logging.hpp"
#include "app/roles/media_server.hpp"
#include "app/roles/stage_role.hpp"

#include "app/api_server/api_server_role.hpp"
#include "app/web/web_routes.hpp"

namespace ivs::app {

const char* version();  // version.cpp

namespace {

int run_api_server_role(int argc, char** argv) {
  return run_api_server(argc, argv);
}
int run_stage(int argc, char** argv) {
  return run_stage_role(argc, argv, [](io::HttpRouter& router) { add_stage_pages(router); });
}
int run_publish(int argc, char** argv) {
  return run_publish_role(argc, argv);
}

}  // namespace

std::span<const Role> roles() {
  static const std::array<Role, 6> table = {{
      {"serve", "the media server (default): control plane, health, status", run_serve_role},
      {"api-server", "reference API server (stages, tokens, WebSocket notifications)",
       run_api_server_role},
      {"stage", "local stand-in for IVS Real-Time stages (WHIP in, WHEP out)", run_stage},
      {"publish", "test publisher: generated H.264 + Opus over WHIP", run_publish},
      {"demo", "the whole system on this machine: api-server, stage, serve, publish",
       run_demo_role},
      {"ivs-fake", "local stand-in for the IVS Real-Time API (SigV4-checked, throttled)",
       run_ivs_fake_role},
  }};
  return table;
}

const Role* find_role(std::string_view name) {
  for (const Role& role : roles()) {
    if (role.name == name) {
      return &role;
    }
  }
  return nullptr;
}

std::optional<Config> load_config_or_report() {
  auto dotenv = load_dotenv_file(".env");
  if (!dotenv) {
    std::fprintf(stderr, "configuration: %s\n", dotenv.error().message.c_str());
    return std::nullopt;
  }
  auto config = load_config(process_environment(), *dotenv);
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return std::nullopt;
  }
  return std::move(*config);
}

int run_serve_role(int argc, char** argv) {
  if (argc > 1) {
    std::fprintf(stderr, "media-server serve: unexpected argument \"%s\" (see --help)\n", argv[1]);
    return 2;
  }
  auto config = load_config_or_report();
  if (!config) {
    return 2;
  }
  LoggingOptions logging;
  logging.level = config->log_level;
  logging.format = config->log_format;
  logging.server_id = config->server_id;
  if (auto status = setup_logging(logging); !status) {
    std::fprintf(stderr, "configuration: %s\n", status.error().message.c_str());
    return 2;
  }
  spdlog::info("media-server {} starting as {} ({})", version(), config->server_id,
               config->node_env);
  if (config->api_secret_key.empty() || config->media_server_secret.empty()) {
    spdlog::warn(
        "API_SECRET_KEY or MEDIA_SERVER_SECRET is unset: the API server will likely "
        "refuse us");
  }
  return run_media_server(*config);
}

int print_help() {
  std::printf(
      "media-server %s: one WHIP ingest re-published over WHIP to every Amazon IVS stage\n\n"
      "usage: media-server [ROLE] | --help | --version | --print-config\n\nroles:\n",
      version());
  for (const Role& role : roles()) {
    std::printf("  %-12.*s %.*s\n", static_cast<int>(role.name.size()), role.name.data(),
                static_cast<int>(role.summary.size()), role.summary.data());
  }
  std::printf(
      "\nconfiguration (environment, or KEY=VALUE lines in ./.env; the environment wins; every\n"
      "secret can instead be read from a file: <NAME>_FILE=/run/secrets/<name>):\n%s",
      format_config_help().c_str());
  return 0;
}

int print_version() {
  std::printf("media-server %s\n", version());
  return 0;
}

int print_config() {
  auto config = load_config_or_report();
  if (!config) {
    return 2;
  }
  std::fputs(format_effective_config(*config).c_str(), stdout);
  std::fputs(aws::describe_ivs_credentials(*config).c_str(), stdout);
  return 0;
}

}  // namespace ivs::app
