// GET /metrics renders the status snapshot: the figures an operator alerts on must be there,
// labelled by stage, and families must not repeat (Prometheus rejects a repeated TYPE line).
#include "app/web/metrics.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

namespace ivs::app {
namespace {

StatusSnapshot sample_snapshot() {
  StatusSnapshot snapshot;
  snapshot.health.server_id = "media-server-01";
  snapshot.health.version = "1.2.3";
  snapshot.health.registered = true;
  snapshot.egress_mode = "whip";
  snapshot.channel.publisher.live = true;
  snapshot.channel.publisher.video_bitrate_kbps = 2500;
  snapshot.channel.publisher.video_packets = 1000;
  snapshot.channel.viewers = 2;
  StageStatusView connected;
  connected.status.stage_arn = "arn:aws:ivs:us-east-1:123456789012:stage/abcdefABCDEF";
  connected.status.state = engine::StageState::connected;
  connected.status.attempts = 1;
  EgressStats media;
  media.packets_sent = 900;
  media.rtt_ms = 12.5;
  media.send_drops = 3;
  connected.media = media;
  StageStatusView backoff;
  backoff.status.stage_arn = "arn:aws:ivs:us-east-1:123456789012:stage/zzzzzzzzzzzz";
  backoff.status.state = engine::StageState::backoff;
  backoff.status.attempts = 3;
  snapshot.stages = {connected, backoff};
  return snapshot;
}

TEST(Metrics, PublisherStagesAndPerStageMediaArePresent) {
  const std::string text = render_metrics(sample_snapshot());
  EXPECT_NE(text.find("ivs_stage_send_drops_total{stage=\"arn:aws:ivs:us-east-1:123456789012:stage/"
                      "abcdefABCDEF\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("ivs_publisher_live 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ivs_publisher_bitrate_kbps{kind=\"video\"} 2500\n"), std::string::npos);
  EXPECT_NE(text.find("ivs_whep_viewers 2\n"), std::string::npos);
  EXPECT_NE(text.find("ivs_stages{state=\"connected\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ivs_stages{state=\"backoff\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ivs_stage_packets_sent_total{stage=\"arn:aws:ivs:us-east-1:123456789012:"
                      "stage/abcdefABCDEF\"} 900\n"),
            std::string::npos);
  EXPECT_NE(text.find("ivs_stage_rtt_ms{stage=\"arn:aws:ivs:us-east-1:123456789012:stage/"
                      "abcdefABCDEF\"} 12.5\n"),
            std::string::npos);
  // A stage without media (backoff) has no media series, but its attempts are counted.
  EXPECT_EQ(text.find("ivs_stage_rtt_ms{stage=\"arn:aws:ivs:us-east-1:123456789012:stage/zzz"),
            std::string::npos);
  EXPECT_NE(text.find("ivs_stage_attempts_total{stage=\"arn:aws:ivs:us-east-1:123456789012:stage/"
                      "zzzzzzzzzzzz\"} 3\n"),
            std::string::npos);
}

TEST(Metrics, EveryFamilyIsDeclaredOnceAndEverySampleBelongsToADeclaredFamily) {
  std::istringstream lines(render_metrics(sample_snapshot()));
  std::set<std::string> families;
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(families.insert(name).second) << "family declared twice: " << name;
    } else if (!line.empty() && line[0] != '#') {
      std::string name = line.substr(0, line.find_first_of("{ "));
      // A histogram's samples carry the family name plus _bucket, _sum or _count.
      for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
        const std::string base = name.substr(0, name.size() - std::min(name.size(), suffix.size()));
        if (name.ends_with(suffix) && families.count(base)) {
          name = base;
        }
      }
      EXPECT_TRUE(families.count(name)) << "sample before its family: " << line;
    }
  }
  EXPECT_GT(families.size(), 15u);
}

// Simulcast: one series per layer, exactly one chosen; a single-layer publisher adds none.
TEST(Metrics, SimulcastLayersAndTheChosenOneOnlyForSimulcastPublishers) {
  EXPECT_EQ(render_metrics(sample_snapshot()).find("ivs_simulcast_"), std::string::npos);
  StatusSnapshot snapshot = sample_snapshot();
  auto& publisher = snapshot.channel.publisher;
  SimulcastLayerStatus high;
  high.rid = "h";
  high.height = 720;
  high.bitrate_kbps = 2500;
  high.chosen = true;
  SimulcastLayerStatus low;
  low.rid = "l";
  low.height = 180;
  low.bitrate_kbps = 150;
  publisher.layers = {high, low};
  publisher.chosen_layer = "h";
  publisher.simulcast_switches = 2;
  const std::string text = render_metrics(snapshot);
  EXPECT_NE(text.find("ivs_simulcast_chosen_layer{rid=\"h\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ivs_simulcast_chosen_layer{rid=\"l\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("ivs_simulcast_layer_bitrate_bps{rid=\"h\"} 2500000\n"), std::string::npos);
  EXPECT_NE(text.find("ivs_simulcast_layer_height{rid=\"l\"} 180\n"), std::string::npos);
  EXPECT_NE(text.find("ivs_simulcast_switches_total 2\n"), std::string::npos);
}

}  // namespace
}  // namespace ivs::app

namespace ivs::app {
namespace {

// The fan-out benchmark reads p50/p99 of the added forwarding delay from these buckets.
TEST(Metrics, ForwardDelayIsACumulativeHistogram) {
  StatusSnapshot snapshot = sample_snapshot();
  snapshot.channel.forward_delay.observe(std::chrono::microseconds(80));
  snapshot.channel.forward_delay.observe(std::chrono::microseconds(300));
  snapshot.channel.forward_delay.observe(std::chrono::milliseconds(400));
  const std::string text = render_metrics(snapshot);
  EXPECT_NE(text.find("# TYPE ivs_forward_delay_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("ivs_forward_delay_seconds_bucket{le=\"0.00005\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("ivs_forward_delay_seconds_bucket{le=\"0.0001\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ivs_forward_delay_seconds_bucket{le=\"0.0005\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("ivs_forward_delay_seconds_bucket{le=\"0.25\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("ivs_forward_delay_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("ivs_forward_delay_seconds_count 3\n"), std::string::npos);
}

}  // namespace
}  // namespace ivs::app
