// scripts/demo.sh --ivs (issue 14); see demo_ivs.hpp.
#include "app/roles/demo_ivs.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string_view>
#include <vector>

namespace ivs::app::demo {
namespace {

// The AWS credentials the media server signs with and the stand-in expects, in --ivs mode.
constexpr std::string_view kDemoAccessKey = "AKIADEMOIVSFAKE";
constexpr std::string_view kDemoSecretKey = "demo-ivs-fake-secret";
// The tag the demo's stages carry and the media server filters on (IVS_STAGE_TAG).
constexpr std::string_view kDemoTagKey = "media-server";
constexpr std::string_view kDemoTagValue = "demo";

// DEMO_STAGES for ivs-fake: "3" -> "demo-1=media-server:demo;demo-2=...", "a,b" -> "a=...;b=...".
std::string ivs_fake_stages(const std::string& stages) {
  std::vector<std::string> names;
  unsigned count = 0;
  const auto [end, error] = std::from_chars(stages.data(), stages.data() + stages.size(), count);
  if (error == std::errc{} && end == stages.data() + stages.size()) {
    for (unsigned i = 1; i <= count; ++i) {
      names.push_back("demo-" + std::to_string(i));
    }
  } else {
    for (std::size_t start = 0; start <= stages.size();) {
      const std::size_t comma = std::min(stages.find(',', start), stages.size());
      if (comma > start) {
        names.push_back(stages.substr(start, comma - start));
      }
      start = comma + 1;
    }
  }
  std::string spec;
  for (const std::string& name : names) {
    spec += (spec.empty() ? "" : ";") + name + "=" + std::string(kDemoTagKey) + ":" +
            std::string(kDemoTagValue);
  }
  return spec;
}

}  // namespace

std::string url(const std::string& host, std::uint16_t port, std::string_view path) {
  return "http://" + host + ":" + std::to_string(port) + std::string(path);
}

// --ivs: the stand-in for the IVS Real-Time API in the API server's place (its port, and the
// /api/keys the stage role verifies tokens with), and the media server's ivs-mode settings.
ChildSpec ivs_fake_spec(const DemoOptions& o) {
  ChildSpec fake{"ivs-fake", {"ivs-fake"}, {}, o.api_port, "/health"};
  fake.environment = {{"IVS_FAKE_PORT", std::to_string(o.api_port)},
                      {"IVS_FAKE_STAGES", ivs_fake_stages(o.stages)},
                      {"IVS_FAKE_ACCESS_KEY_ID", std::string(kDemoAccessKey)},
                      {"IVS_FAKE_SECRET_ACCESS_KEY", std::string(kDemoSecretKey)},
                      {"AWS_REGION", "us-east-1"},
                      {"STAGE_WHIP_URL_BASE", url(o.host, o.stage_port, "/whip")}};
  return fake;
}

void add_ivs_media_settings(const DemoOptions& o, ChildSpec& media) {
  media.environment.insert(
      {{"STAGE_SOURCE", "ivs"},
       {"AWS_ENDPOINT_URL_IVS_REALTIME", url("127.0.0.1", o.api_port, "")},
       {"AWS_REGION", "us-east-1"},
       {"AWS_ACCESS_KEY_ID", std::string(kDemoAccessKey)},
       {"AWS_SECRET_ACCESS_KEY", std::string(kDemoSecretKey)},
       {"IVS_STAGE_TAG", std::string(kDemoTagKey) + "=" + std::string(kDemoTagValue)},
       {"STAGE_SYNC_INTERVAL", "5000"}});
}

void print_ivs_create_stage_hint(const DemoOptions& o) {
  // The stand-in's own control route; the media server finds the stage at its next
  // ListStages (STAGE_SYNC_INTERVAL, 5 s in the demo).
  std::printf(
      "\n"
      "  Create a stage:  curl -X POST -H 'content-type: application/json' \\\n"
      "                     -d '{\"name\":\"stage-4\",\"tags\":{\"%s\":\"%s\"}}' %s\n"
      "  It shows video on the stages page within the next listing (5 s).\n",
      std::string(kDemoTagKey).c_str(), std::string(kDemoTagValue).c_str(),
      url("127.0.0.1", o.api_port, "/_fake/stages").c_str());
}

}  // namespace ivs::app::demo
