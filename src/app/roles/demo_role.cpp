#include "app/roles/demo_role.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <string_view>
#include <utility>

#include "app/roles/demo_children.hpp"
#include "app/roles/demo_ivs.hpp"

namespace ivs::app {

namespace {

using demo::add_ivs_media_settings;
using demo::Children;
using demo::ChildSpec;
using demo::Event;
using demo::ivs_fake_spec;
using demo::print_ivs_create_stage_hint;
using demo::url;

// How long a server may take to answer its health URL after it was started. The media server's
// /health/ready waits for its registration with the API server, which is quick on loopback; the
// margin is for a loaded machine.
constexpr std::chrono::seconds kReadyDeadline{30};
// How long each child may take to stop after SIGTERM before it is killed: longer than the media
// server's own SHUTDOWN_TIMEOUT (10 s by default), as the systemd unit's TimeoutStopSec is.
constexpr std::chrono::seconds kStopGrace{15};

// Each flag and the environment variable it overrides.
constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kFlags = {{
    {"--api-port", "DEMO_API_PORT"},
    {"--media-port", "DEMO_MEDIA_PORT"},
    {"--stage-port", "DEMO_STAGE_PORT"},
    {"--rtc-udp-port", "DEMO_RTC_UDP_PORT"},
    {"--stage-rtc-udp-port", "DEMO_STAGE_RTC_UDP_PORT"},
    {"--stages", "DEMO_STAGES"},
    {"--host", "DEMO_HOST"},
    {"--log-dir", "DEMO_LOG_DIR"},
    {"--token", "WHIP_INGEST_TOKEN"},
}};

std::optional<std::string_view> variable_of_flag(std::string_view flag) {
  for (const auto& [name, variable] : kFlags) {
    if (name == flag) {
      return variable;
    }
  }
  return std::nullopt;
}

// The flags folded into the environment's names, so one lookup serves both.
struct Knobs {
  Environment values;
  bool publisher = true;
};

Result<Knobs> apply_flags(const std::vector<std::string>& args, Environment environment) {
  Knobs knobs{std::move(environment)};
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> value;
    if (const auto equals = flag.find('='); equals != std::string::npos) {
      value = flag.substr(equals + 1);
      flag.resize(equals);
    }
    if (flag == "--no-publisher" && !value) {
      knobs.publisher = false;
      continue;
    }
    if (flag == "--ivs" && !value) {
      knobs.values["DEMO_STAGE_SOURCE"] = "ivs";
      continue;
    }
    const auto variable = variable_of_flag(flag);
    if (!variable) {
      return make_error("unknown argument \"" + args[i] + "\" (see media-server demo --help)");
    }
    if (!value && i + 1 >= args.size()) {
      return make_error(flag + " needs a value");
    }
    knobs.values[std::string(*variable)] = value ? *value : args[++i];
  }
  return knobs;
}

Result<std::uint16_t> parse_port(const Environment& environment, std::string_view variable,
                                 std::uint16_t fallback) {
  const auto found = environment.find(variable);
  if (found == environment.end() || found->second.empty()) {
    return fallback;
  }
  const std::string& text = found->second;
  unsigned port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc{} || end != text.data() + text.size() || port == 0 || port > 65535) {
    return make_error(std::string(variable) + ": \"" + text + "\" is not a port number (1-65535)");
  }
  return static_cast<std::uint16_t>(port);
}

// "demo-" and 24 hex digits: a token nobody else on the network can guess.
std::string generate_token() {
  std::random_device random;
  std::string token = "demo-";
  for (int i = 0; i < 12; ++i) {
    static const char kHex[] = "0123456789abcdef";
    const unsigned byte = random() & 0xffU;
    token += kHex[byte >> 4];
    token += kHex[byte & 0xfU];
  }
  return token;
}

// Two servers given one port would make the second fail to start with a bind error in its log;
// saying so before anything starts is clearer.
Status check_distinct_ports(const DemoOptions& options) {
  if (options.api_port == options.media_port || options.api_port == options.stage_port ||
      options.media_port == options.stage_port) {
    return make_error("DEMO_API_PORT, DEMO_MEDIA_PORT and DEMO_STAGE_PORT must differ (" +
                      std::to_string(options.api_port) + ", " + std::to_string(options.media_port) +
                      ", " + std::to_string(options.stage_port) + ")");
  }
  if (options.rtc_udp_port == options.stage_rtc_udp_port) {
    return make_error("DEMO_RTC_UDP_PORT and DEMO_STAGE_RTC_UDP_PORT must differ (both " +
                      std::to_string(options.rtc_udp_port) + ")");
  }
  return Ok{};
}

Status read_ports(const Environment& environment, DemoOptions& options) {
  const std::array<std::pair<std::string_view, std::uint16_t*>, 5> ports = {{
      {"DEMO_API_PORT", &options.api_port},
      {"DEMO_MEDIA_PORT", &options.media_port},
      {"DEMO_STAGE_PORT", &options.stage_port},
      {"DEMO_RTC_UDP_PORT", &options.rtc_udp_port},
      {"DEMO_STAGE_RTC_UDP_PORT", &options.stage_rtc_udp_port},
  }};
  for (const auto& [variable, target] : ports) {
    auto port = parse_port(environment, variable, *target);
    if (!port) {
      return port.error();
    }
    *target = *port;
  }
  return check_distinct_ports(options);
}

}  // namespace

Result<DemoOptions> parse_demo_options(const std::vector<std::string>& args,
                                       const Environment& environment) {
  auto knobs = apply_flags(args, environment);
  if (!knobs) {
    return knobs.error();
  }
  const Environment& values = knobs->values;
  DemoOptions options;
  if (auto ports = read_ports(values, options); !ports) {
    return ports.error();
  }
  options.host = value_or(values, "DEMO_HOST", options.host);
  options.stages = value_or(values, "DEMO_STAGES", options.stages);
  options.log_dir = value_or(values, "DEMO_LOG_DIR", options.log_dir);
  options.ingest_token = value_or(values, "WHIP_INGEST_TOKEN", generate_token());
  options.api_key = value_or(values, "API_SECRET_KEY", options.api_key);
  options.media_secret = value_or(values, "MEDIA_SERVER_SECRET", options.media_secret);
  options.publisher = knobs->publisher;
  const std::string source = value_or(values, "DEMO_STAGE_SOURCE", "api");
  if (source != "api" && source != "ivs") {
    return make_error("DEMO_STAGE_SOURCE: \"" + source + "\" is not api or ivs");
  }
  options.ivs = source == "ivs";
  return options;
}

std::string demo_usage() {
  return "usage: media-server demo [--no-publisher] [--ivs] [--FLAG VALUE ...]\n\n"
         "Starts the whole system on this machine as child processes of this executable: the\n"
         "reference API server with three stages, the local stage role (the stand-in for Amazon\n"
         "IVS Real-Time stages), the media server, and the test publisher (generated H.264 +\n"
         "Opus over WHIP; --no-publisher leaves publishing to OBS or the browser page). Prints\n"
         "the URLs and the OBS settings; Ctrl-C or SIGTERM stops everything in reverse order.\n"
         "--ivs (DEMO_STAGE_SOURCE=ivs) runs the media server with STAGE_SOURCE=ivs against\n"
         "`ivs-fake`, a local stand-in for the IVS Real-Time API (SigV4, ListStages,\n"
         "CreateParticipantToken), in place of the API server.\n\n"
         "  flag                    environment              default\n"
         "  --api-port N            DEMO_API_PORT            3000        API server HTTP port\n"
         "  --media-port N          DEMO_MEDIA_PORT          3001        media server HTTP port\n"
         "  --stage-port N          DEMO_STAGE_PORT          3002        stage role HTTP port\n"
         "  --rtc-udp-port N        DEMO_RTC_UDP_PORT        50000       media server UDP port\n"
         "  --stage-rtc-udp-port N  DEMO_STAGE_RTC_UDP_PORT  50002       stage role UDP port\n"
         "  --stages N|a,b,c        DEMO_STAGES              3           stages created at start\n"
         "  --host ADDRESS          DEMO_HOST                127.0.0.1   in URLs and ICE "
         "candidates\n"
         "  --log-dir DIR           DEMO_LOG_DIR             demo-logs   <name>.log per process\n"
         "  --token T               WHIP_INGEST_TOKEN        (generated) the ingest bearer token\n"
         "                          API_SECRET_KEY           demo-api-key\n"
         "                          MEDIA_SERVER_SECRET      demo-media-secret\n\n"
         "Exit status: 0 after Ctrl-C or SIGTERM, 1 when a server did not start or ended on its\n"
         "own (its log's last lines are printed), 2 for bad usage.\n";
}

namespace {

// The three servers in start order, with what scripts/demo.sh has always given each of them.
std::vector<ChildSpec> server_specs(const DemoOptions& o) {
  const std::string api_url = url("127.0.0.1", o.api_port, "");
  ChildSpec api{"api-server", {"api-server"}, {}, o.api_port, "/api/keys"};
  api.environment = {{"PORT", std::to_string(o.api_port)},
                     {"API_SECRET_KEY", o.api_key},
                     {"MEDIA_SERVER_SECRET", o.media_secret},
                     {"API_INITIAL_STAGES", o.stages},
                     // Each demo starts afresh, and writes nothing into the directory it runs in.
                     {"API_DATA_DIR", ""},
                     {"STAGE_WHIP_URL_BASE", url(o.host, o.stage_port, "/whip")}};
  ChildSpec stage{"stage", {"stage"}, {}, o.stage_port, "/health"};
  stage.environment = {{"STAGE_PORT", std::to_string(o.stage_port)},
                       {"STAGE_RTC_UDP_PORT", std::to_string(o.stage_rtc_udp_port)},
                       {"STAGE_BIND_IP", "127.0.0.1"},
                       {"STAGE_ANNOUNCED_IP", o.host},
                       {"STAGE_API_SERVER_URL", api_url}};
  ChildSpec media{"media-server", {"serve"}, {}, o.media_port, "/health/ready"};
  media.environment = {{"PORT", std::to_string(o.media_port)},
                       {"API_SERVER_URL", api_url},
                       {"API_SECRET_KEY", o.api_key},
                       {"MEDIA_SERVER_SECRET", o.media_secret},
                       {"HEARTBEAT_INTERVAL", "5000"},
                       {"WHIP_INGEST_TOKEN", o.ingest_token},
                       {"RTC_UDP_PORT", std::to_string(o.rtc_udp_port)},
                       {"RTC_BIND_IP", "127.0.0.1"},
                       {"RTC_ANNOUNCED_IP", o.host},
                       {"SERVER_IP", o.host}};
  if (o.ivs) {
    add_ivs_media_settings(o, media);
    return {ivs_fake_spec(o), stage, media};
  }
  return {api, stage, media};
}

ChildSpec publisher_spec(const DemoOptions& o) {
  return ChildSpec{
      "publisher",
      {"publish", "--url", url("127.0.0.1", o.media_port, "/whip"), "--token", o.ingest_token},
      {},
      0,
      ""};
}

void print_urls(const DemoOptions& o) {
  std::printf(
      "\n"
      "  Dashboard        %s            (publisher, every stage, create/delete)\n"
      "  Publish page     %s     (camera or test pattern, token below)\n"
      "  Stages           %s            (every stage's video over WHEP)\n"
      "  Status JSON      %s\n"
      "  %s       %s               (%s)\n"
      "  Logs             %s/\n",
      url(o.host, o.media_port, "/").c_str(), url(o.host, o.media_port, "/publish").c_str(),
      url(o.host, o.stage_port, "/").c_str(), url(o.host, o.media_port, "/api/status").c_str(),
      o.ivs ? "IVS stand-in" : "API server  ", url(o.host, o.api_port, "").c_str(),
      o.ivs ? "STAGE_SOURCE=ivs, SigV4 with the demo's AWS keys"
            : ("x-api-key: " + o.api_key).c_str(),
      o.log_dir.c_str());
}

void print_obs_settings(const DemoOptions& o) {
  std::printf(
      "\n"
      "  OBS (30 or newer): Settings -> Stream\n"
      "      Service        WHIP\n"
      "      Server         %s\n"
      "      Bearer Token   %s\n"
      "    Settings -> Output (Advanced): x264, Profile baseline, Keyframe Interval 1 s,\n"
      "    bitrate <= 6000 Kbps, no B-frames (x264 options: bframes=0); Video: <= 1280x720.\n",
      url(o.host, o.media_port, "/whip").c_str(), o.ingest_token.c_str());
}

void print_info(const DemoOptions& o, const Children& children) {
  print_urls(o);
  print_obs_settings(o);
  if (o.publisher) {
    // A new WHIP publisher replaces the current one, so OBS takes over even while the test
    // publisher runs; stopping it first just makes the switch obvious on the dashboard.
    std::printf(
        "  The test publisher is streaming now. OBS replaces it when it starts streaming; or\n"
        "  stop it first with: kill %d (the servers keep running)\n",
        static_cast<int>(children.pid(children.count() - 1)));
  }
  if (o.ivs) {
    print_ivs_create_stage_hint(o);
  } else {
    std::printf(
        "\n"
        "  Create a stage:  curl -X POST -H 'x-api-key: %s' -H 'content-type: application/json' "
        "\\\n"
        "                     -d '{\"name\":\"stage-4\"}' %s\n"
        "  It shows video on the stages page within a second.\n",
        o.api_key.c_str(), url("127.0.0.1", o.api_port, "/api/stages").c_str());
  }
  std::printf("\n  Running: %s.\n  Press Ctrl-C to stop.\n", children.running_names().c_str());
}

// Stops what runs and gives the role's exit status for how the run ended.
int finish(Children& children, int status) {
  std::printf("\n==> stopping in reverse start order (Ctrl-C again kills them at once)\n");
  children.stop_all(kStopGrace);
  std::printf("==> stopped\n");
  return status;
}

int report_ended_child(Children& children, std::size_t index) {
  const std::string tail = children.log_tail(index, 30);
  std::fprintf(stderr, "==> %s ended on its own (%s); the last lines of its log %s:\n%s",
               children.name(index).c_str(), children.how_it_ended(index).c_str(),
               children.log_path(index).c_str(), tail.c_str());
  // The usual reason on a developer's machine: an earlier demo or another server holds a port.
  if (tail.find("in use") != std::string::npos) {
    std::fprintf(stderr,
                 "    A port is taken: stop what holds it, or pick free ports with the "
                 "DEMO_*_PORT variables (media-server demo --help).\n");
  }
  return finish(children, 1);
}

// A stop signal ends the demo normally; a child that ended makes it fail.
int end_on(Children& children, const Event& event) {
  if (event.kind == Event::Kind::kChildEnded) {
    return report_ended_child(children, event.child);
  }
  std::printf("\n==> SIG%s received\n", sigabbrev_np(event.signal));
  return finish(children, 0);
}

// Starts one server and waits for its health URL; nullopt means "go on".
std::optional<int> start_server(Children& children, const ChildSpec& spec) {
  if (auto started = children.start(spec); !started) {
    std::fprintf(stderr, "==> %s\n", started.error().message.c_str());
    return finish(children, 1);
  }
  const std::size_t index = children.count() - 1;
  auto ready = children.wait_ready(index, kReadyDeadline);
  if (!ready) {
    std::fprintf(stderr, "==> %s; the last lines of its log %s:\n%s", ready.error().message.c_str(),
                 children.log_path(index).c_str(), children.log_tail(index, 30).c_str());
    return finish(children, 1);
  }
  if (ready->kind != Event::Kind::kReady) {
    return end_on(children, *ready);
  }
  std::printf("    %-12s ready (pid %d)\n", spec.name.c_str(),
              static_cast<int>(children.pid(index)));
  return std::nullopt;
}

// Waits for Ctrl-C, SIGTERM or a child that ends. The test publisher ending cleanly is not a
// failure: it does so when stopped to make way for OBS.
int supervise(Children& children, const DemoOptions& options) {
  for (;;) {
    const Event event = children.wait_event(std::chrono::hours(1));
    if (event.kind == Event::Kind::kTimeout) {
      continue;
    }
    if (event.kind == Event::Kind::kChildEnded && options.publisher &&
        event.child == children.count() - 1 && children.exited_cleanly(event.child)) {
      std::printf("==> the test publisher ended (exit code 0); the servers keep running\n");
      continue;
    }
    return end_on(children, event);
  }
}

int run(Children& children, const DemoOptions& options) {
  std::printf("==> starting the system (logs in %s/)\n", options.log_dir.c_str());
  for (const ChildSpec& spec : server_specs(options)) {
    if (auto status = start_server(children, spec)) {
      return *status;
    }
  }
  if (options.publisher) {
    std::printf(
        "==> starting the test publisher (the first run generates test media with "
        "ffmpeg)\n");
    if (auto started = children.start(publisher_spec(options)); !started) {
      std::fprintf(stderr, "==> %s\n", started.error().message.c_str());
      return finish(children, 1);
    }
  }
  print_info(options, children);
  return supervise(children, options);
}

}  // namespace

int run_demo_role(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::fputs(demo_usage().c_str(), stdout);
      return 0;
    }
  }
  auto options = parse_demo_options(args, process_environment());
  if (!options) {
    std::fprintf(stderr, "media-server demo: %s\n", options.error().message.c_str());
    return 2;
  }
  std::error_code error;
  std::filesystem::create_directories(options->log_dir, error);
  if (error) {
    std::fprintf(stderr,
                 "media-server demo: cannot create the log directory %s: %s (set DEMO_LOG_DIR "
                 "to a writable directory)\n",
                 options->log_dir.c_str(), error.message().c_str());
    return 2;
  }
  // Line-buffered even into a file or pipe, so whoever watches the output sees each step when
  // it happens; and nothing is left in the buffer for fork() to duplicate.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  demo::block_supervisor_signals();
  Children children(options->log_dir);
  return run(children, *options);
}

}  // namespace ivs::app
