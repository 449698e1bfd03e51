// The health documents are the seed's JSON field for field; readiness follows registration and
// shutdown; /api/status lists every desired stage honestly.
#include "app/web/health.hpp"
#include "app/egress/tracking_only_egress.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace ivs::app {
namespace {

namespace json = boost::json;

HealthSnapshot sample() {
  HealthSnapshot s;
  s.server_id = "media-server-01";
  s.version = "1.0.0";
  s.uptime_seconds = 1234.5604;
  s.publisher_active = false;
  s.connected_stages = 0;
  s.active_connections = 3;
  s.registered = true;
  return s;
}

TEST(Health, DocumentHasExactlyTheSeedFields) {
  const auto doc = json::parse(health_json("healthy", sample())).as_object();
  EXPECT_EQ(doc.size(), 6u);
  EXPECT_EQ(doc.at("status").as_string(), "healthy");
  EXPECT_EQ(doc.at("service").as_string(), "Media Server");
  EXPECT_EQ(doc.at("version").as_string(), "1.0.0");
  EXPECT_EQ(doc.at("serverId").as_string(), "media-server-01");
  EXPECT_TRUE(doc.at("uptime").is_double());
  EXPECT_DOUBLE_EQ(doc.at("uptime").as_double(), 1234.56);
  const auto& stats = doc.at("stats").as_object();
  EXPECT_EQ(stats.size(), 3u);
  EXPECT_EQ(stats.at("publisherActive").as_bool(), false);
  EXPECT_EQ(stats.at("connectedStages").to_number<int>(), 0);
  EXPECT_EQ(stats.at("activeConnections").to_number<int>(), 3);
}

TEST(Health, UptimeIsAPlainDecimalFloatEvenWhenWhole) {
  HealthSnapshot s = sample();
  s.uptime_seconds = 2.0;
  const std::string text = health_json("healthy", s);
  EXPECT_NE(text.find("\"uptime\":2.000,"), std::string::npos) << text;  // not "2E0"
  EXPECT_TRUE(json::parse(text).at("uptime").is_double());
  EXPECT_NE(health_json("healthy", sample()).find("\"uptime\":1234.560,"), std::string::npos);
}

TEST(Health, FieldOrderFollowsTheSeed) {
  const std::string text = health_json("healthy", sample());
  EXPECT_EQ(text.rfind("{\"status\":\"healthy\",\"service\":\"Media Server\",\"version\":", 0), 0u)
      << text;
}

TEST(Health, ReadyFollowsRegistrationAndShutdown) {
  HealthSnapshot s = sample();
  s.registered = false;
  auto response = health_response(HealthProbe::ready, s);
  EXPECT_EQ(response.result(), io::http::status::service_unavailable);
  EXPECT_EQ(json::parse(response.body()).at("status").as_string(), "not_ready");
  EXPECT_EQ(response[io::http::field::content_type], "application/json");

  s.registered = true;
  s.api_reachable = true;
  EXPECT_EQ(health_response(HealthProbe::ready, s).result(), io::http::status::ok);

  s.shutting_down = true;
  response = health_response(HealthProbe::ready, s);
  EXPECT_EQ(response.result(), io::http::status::service_unavailable);
  EXPECT_EQ(json::parse(response.body()).at("status").as_string(), "shutting_down");
}

// Issue 13, item 13: once registered, an API server outage made /health/ready answer 503, so
// whoever could take the API server down could pull every media server out of its load
// balancer mid-broadcast. Now readiness needs one registration; an outage after it shows as
// "degraded" (200) on every probe.
TEST(Health, AnApiOutageAfterRegistrationIsDegradedNotUnready) {
  HealthSnapshot s = sample();
  s.registered = true;
  s.api_reachable = false;
  for (const auto probe : {HealthProbe::ready, HealthProbe::live, HealthProbe::basic}) {
    const auto response = health_response(probe, s);
    EXPECT_EQ(response.result(), io::http::status::ok);
    EXPECT_EQ(json::parse(response.body()).at("status").as_string(), "degraded");
  }
  s.api_reachable = true;
  EXPECT_EQ(json::parse(health_response(HealthProbe::ready, s).body()).at("status").as_string(),
            "healthy");
}

TEST(Health, LiveAndBasicAnswer200WhateverTheRegistration) {
  HealthSnapshot s = sample();
  s.registered = false;
  s.shutting_down = true;
  EXPECT_EQ(health_response(HealthProbe::live, s).result(), io::http::status::ok);
  EXPECT_EQ(health_response(HealthProbe::basic, s).result(), io::http::status::ok);
}

TEST(Status, ListsStagesWithStateSinceErrorAndNote) {
  StatusSnapshot snapshot;
  snapshot.health = sample();
  snapshot.egress_mode = "tracking-only";
  snapshot.egress_note = kTrackingOnlyNote;
  StageStatusView tracked;
  tracked.status.stage_arn = "arn:a";
  tracked.status.state = engine::StageState::tracked;
  tracked.status.note = snapshot.egress_note;
  tracked.status.attempts = 1;
  tracked.since_iso8601 = "2026-01-01T00:00:00.000Z";
  StageStatusView failing;
  failing.status.stage_arn = "arn:b";
  failing.status.state = engine::StageState::backoff;
  failing.status.last_error = "token: HTTP 500";
  failing.status.attempts = 4;
  failing.status.failures = 4;
  failing.next_event_in_seconds = 7.5;
  snapshot.stages = {tracked, failing};

  const auto doc = json::parse(status_json(snapshot)).as_object();
  EXPECT_EQ(doc.at("publisher").at("active").as_bool(), false);
  EXPECT_EQ(doc.at("egress").at("mode").as_string(), "tracking-only");
  EXPECT_EQ(doc.at("stats").at("desiredStages").to_number<int>(), 2);
  EXPECT_TRUE(doc.at("lastStageSync").is_null());
  const auto& stages = doc.at("stages").as_array();
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[0].at("state").as_string(), "tracked");  // never "connected"
  EXPECT_EQ(stages[0].at("note").as_string(), snapshot.egress_note);
  EXPECT_TRUE(stages[0].at("lastError").is_null());
  EXPECT_EQ(stages[0].at("since").as_string(), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(stages[1].at("state").as_string(), "backoff");
  EXPECT_EQ(stages[1].at("lastError").as_string(), "token: HTTP 500");
  EXPECT_EQ(stages[1].at("attempts").to_number<int>(), 4);
  EXPECT_DOUBLE_EQ(stages[1].at("nextEventInSeconds").as_double(), 7.5);
}

TEST(Status, Iso8601) {
  EXPECT_EQ(iso8601_from_unix_micros(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_from_unix_micros(1761181323456789), "2025-10-23T01:02:03.456Z");
}

// relay-contracts.md: the publisher object, viewers, egressMode and per-stage media fields.
TEST(Status, ShowsThePublisherViewersAndStageMedia) {
  StatusSnapshot snapshot;
  snapshot.health = sample();
  snapshot.egress_mode = "whip";
  snapshot.channel.viewers = 3;
  PublisherStatus& p = snapshot.channel.publisher;
  p.live = true;
  p.since = WallTime{1767225600000000};
  p.profile = "Constrained Baseline";
  p.level = 31;
  p.width = 1280;
  p.height = 720;
  p.video_bitrate_kbps = 2500.5;
  p.nacks_sent = 4;
  p.warnings = {"too big"};
  StageStatusView publishing;
  publishing.status.stage_arn = "arn:a";
  publishing.media = EgressStats{};
  publishing.media->bitrate_kbps = 2400;
  publishing.media->rtt_ms = 12.5;
  publishing.media->nacks_received = 2;
  StageStatusView idle;
  idle.status.stage_arn = "arn:b";
  snapshot.stages = {publishing, idle};

  const auto doc = json::parse(status_json(snapshot)).as_object();
  EXPECT_EQ(doc.at("egressMode").as_string(), "whip");
  EXPECT_EQ(doc.at("viewers").to_number<int>(), 3);
  const auto& publisher = doc.at("publisher");
  EXPECT_TRUE(publisher.at("live").as_bool());
  EXPECT_EQ(publisher.at("since").as_string(), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(publisher.at("codec").as_string(), "H264");
  EXPECT_EQ(publisher.at("profile").as_string(), "Constrained Baseline");
  EXPECT_EQ(publisher.at("level").to_number<int>(), 31);
  EXPECT_EQ(publisher.at("width").to_number<int>(), 1280);
  EXPECT_DOUBLE_EQ(publisher.at("videoBitrateKbps").to_number<double>(), 2500.5);
  EXPECT_EQ(publisher.at("nacksSent").to_number<int>(), 4);
  EXPECT_EQ(publisher.at("warnings").as_array().size(), 1u);
  const auto& stages = doc.at("stages").as_array();
  EXPECT_DOUBLE_EQ(stages[0].at("bitrateKbps").to_number<double>(), 2400);
  EXPECT_DOUBLE_EQ(stages[0].at("rttMs").to_number<double>(), 12.5);
  EXPECT_TRUE(stages[0].at("fractionLost").is_null());
  EXPECT_EQ(stages[0].at("nacksReceived").to_number<int>(), 2);
  EXPECT_TRUE(stages[1].at("bitrateKbps").is_null());
}

}  // namespace
}  // namespace ivs::app
