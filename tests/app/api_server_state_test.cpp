// The API server's model: ids, ARNs, events, timestamps and the state file round trip.
#include <gtest/gtest.h>

#include <set>

#include "app/api_server/api_server_state.hpp"

namespace ivs::app::api_server {
namespace {

TEST(ApiServerStateTest, StageIdsAreTwelveAlphanumericsAndUnique) {
  engine::SeededRandom random(7);
  ApiServerState state("eu-west-1", "111122223333");
  std::set<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    auto stage = state.create_stage("", WallTime{}, random);
    ASSERT_TRUE(stage.ok());
    EXPECT_EQ(stage->id.size(), 12u);
    EXPECT_TRUE(std::all_of(stage->id.begin(), stage->id.end(),
                            [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }));
    EXPECT_EQ(stage->arn, "arn:aws:ivs:eu-west-1:111122223333:stage/" + stage->id);
    ids.insert(stage->id);
  }
  EXPECT_EQ(ids.size(), 200u);
}

TEST(ApiServerStateTest, StageCountIsBoundedLikeTheIvsQuota) {
  engine::SeededRandom random(1);
  ApiServerState state("us-east-1", "123456789012");
  for (std::size_t i = 0; i < kMaxStages; ++i) {
    ASSERT_TRUE(state.create_stage("", WallTime{}, random).ok());
  }
  EXPECT_FALSE(state.create_stage("", WallTime{}, random).ok());
}

TEST(ApiServerStateTest, DeleteOfUnknownStageRaisesNoEvent) {
  engine::SeededRandom random(1);
  ApiServerState state("us-east-1", "123456789012");
  EXPECT_FALSE(state.delete_stage("missing", WallTime{}));
  EXPECT_TRUE(state.take_events().empty());
}

TEST(ApiServerStateTest, ReRegistrationReplacesTheRecord) {
  ApiServerState state("us-east-1", "123456789012");
  MediaServerRecord first{"m1", "10.0.0.1", 3001, WallTime{1}, WallTime{2}, true, 4, 9};
  ASSERT_TRUE(state.register_server(first).ok());
  ASSERT_TRUE(state.register_server(MediaServerRecord{"m1", "10.0.0.2", 3005, WallTime{3}}).ok());
  const auto* record = state.find_server("m1");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(record->ip_address, "10.0.0.2");
  EXPECT_FALSE(record->last_heartbeat.has_value());
  EXPECT_EQ(record->heartbeats, 0u);
  EXPECT_EQ(state.servers().size(), 1u);
}

TEST(ApiServerStateTest, FormatsIso8601InUtcWithMilliseconds) {
  EXPECT_EQ(format_iso8601(WallTime{0}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(WallTime{1'800'000'000'123'456}), "2027-01-15T08:00:00.123Z");
}

TEST(ApiServerStateTest, StageEventMessageHasTheSeedShape) {
  const StageEvent event{StageEvent::Type::deleted, "arn:aws:ivs:x", WallTime{0}};
  const auto message = boost::json::parse(stage_event_message(event)).as_object();
  EXPECT_EQ(message.at("type").as_string(), "stage_deleted");
  EXPECT_EQ(message.at("data").at("stageArn").as_string(), "arn:aws:ivs:x");
  EXPECT_EQ(message.at("data").at("timestamp").as_string(), "1970-01-01T00:00:00.000Z");
}

TEST(ApiServerStateTest, StagesSurviveTheStateFileRoundTrip) {
  engine::SeededRandom random(3);
  ApiServerState original("us-east-1", "123456789012");
  const auto a = *original.create_stage("alpha", WallTime{1000}, random);
  const auto b = *original.create_stage("beta", WallTime{2000}, random);
  const auto text = serialize_stages(original);

  ApiServerState restored("us-east-1", "123456789012");
  ASSERT_TRUE(restore_stages(restored, text).ok());
  ASSERT_EQ(restored.stages().size(), 2u);
  EXPECT_EQ(restored.stages()[0].arn, a.arn);
  EXPECT_EQ(restored.stages()[1].name, "beta");
  EXPECT_EQ(restored.stages()[1].created_at.unix_micros, b.created_at.unix_micros);
  EXPECT_TRUE(restored.take_events().empty());  // Restoring is not news to anyone.
}

TEST(ApiServerStateTest, BadStateFilesAreRefusedWithAReason) {
  ApiServerState state("us-east-1", "123456789012");
  EXPECT_FALSE(restore_stages(state, "not json").ok());
  EXPECT_FALSE(restore_stages(state, R"({"stages":{}})").ok());
  EXPECT_FALSE(
      restore_stages(state, R"({"stages":[{"id":"../x","name":"a","createdAtMicros":1}]})").ok());
  EXPECT_TRUE(state.stages().empty());
}

}  // namespace
}  // namespace ivs::app::api_server
