// `media-server demo`: the whole system on one machine, from this one executable. It starts, as
// child processes running other roles of the same binary,
//   1. the reference API server with three stages (`api-server`), or with --ivs the stand-in
//      for the IVS Real-Time API (`ivs-fake`) with three stages tagged media-server=demo,
//   2. the local stand-in for Amazon IVS Real-Time stages (`stage`),
//   3. the media server (`serve`), which registers, learns the stages and publishes to each,
//   4. the test publisher (`publish`: generated H.264 + Opus over WHIP), unless --no-publisher,
// waits for each server to answer on its health URL, prints the URLs to open and the OBS
// settings, and on Ctrl-C or SIGTERM stops them in reverse start order. scripts/demo.sh builds
// the binary and then runs this role; docs/demo.md describes both.
//
// Its knobs are the environment variables scripts/demo.sh has always read (DEMO_API_PORT, ...)
// or the matching flags, which win (demo_usage() lists them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/roles/config.hpp"
#include "proto/result.hpp"

namespace ivs::app {

struct DemoOptions {
  std::string host = "127.0.0.1";            // DEMO_HOST: shown in URLs and put in ICE candidates
  std::uint16_t api_port = 3000;             // DEMO_API_PORT
  std::uint16_t media_port = 3001;           // DEMO_MEDIA_PORT
  std::uint16_t stage_port = 3002;           // DEMO_STAGE_PORT
  std::uint16_t rtc_udp_port = 50000;        // DEMO_RTC_UDP_PORT (the media server's)
  std::uint16_t stage_rtc_udp_port = 50002;  // DEMO_STAGE_RTC_UDP_PORT
  std::string stages = "3";                  // DEMO_STAGES: a count or names a,b,c
  std::string log_dir = "demo-logs";         // DEMO_LOG_DIR
  std::string ingest_token;                  // WHIP_INGEST_TOKEN; generated when unset
  std::string api_key = "demo-api-key";      // API_SECRET_KEY
  std::string media_secret = "demo-media-secret";  // MEDIA_SERVER_SECRET
  bool publisher = true;                           // false with --no-publisher
  // --ivs (DEMO_STAGE_SOURCE=ivs): the `ivs-fake` stand-in for the IVS Real-Time API replaces
  // the API server, and the media server runs with STAGE_SOURCE=ivs (docs/ivs-direct.md).
  bool ivs = false;
};

// The options from `environment` overridden by `args` (the role's arguments without its name).
// Errors name the variable or flag and say what is expected.
Result<DemoOptions> parse_demo_options(const std::vector<std::string>& args,
                                       const Environment& environment);
std::string demo_usage();

// The role entry point (argv[0] is the role name). Exit status: 0 after Ctrl-C or SIGTERM,
// 1 when a server did not start or ended on its own, 2 for bad usage.
int run_demo_role(int argc, char** argv);

}  // namespace ivs::app
