// Every response shape the tolerant parser accepts (DESIGN.md §2.1), the WHIP URL precedence,
// WebSocket messages, and malformed input turning into clear errors.
#include "app/control/api_responses.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace ivs::app {
namespace {

const std::vector<std::string> kAB = {"arn:aws:ivs:us-east-1:1:stage/a",
                                      "arn:aws:ivs:us-east-1:1:stage/b"};

std::vector<std::string> stages_of(std::string_view body) {
  auto parsed = parse_stage_list(body);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? parsed->stage_arns : std::vector<std::string>{};
}

TEST(StageList, BareArrayOfStrings) {
  EXPECT_EQ(stages_of(R"(["arn:aws:ivs:us-east-1:1:stage/a","arn:aws:ivs:us-east-1:1:stage/b"])"),
            kAB);
}
TEST(StageList, BareArrayOfObjectsWithStageArn) {
  EXPECT_EQ(stages_of(R"([{"stageArn":"arn:aws:ivs:us-east-1:1:stage/a","name":"x"},
                          {"stageArn":"arn:aws:ivs:us-east-1:1:stage/b"}])"),
            kAB);
}
TEST(StageList, ObjectsWithArn) {
  EXPECT_EQ(stages_of(R"([{"arn":"arn:aws:ivs:us-east-1:1:stage/a"},
                          {"arn":"arn:aws:ivs:us-east-1:1:stage/b"}])"),
            kAB);
}
TEST(StageList, UnderStagesCanonicalShape) {
  EXPECT_EQ(stages_of(R"({"stages":[{"stageArn":"arn:aws:ivs:us-east-1:1:stage/a","name":"s0"},
                                    {"stageArn":"arn:aws:ivs:us-east-1:1:stage/b","name":"s1"}]})"),
            kAB);
}
TEST(StageList, UnderData) {
  EXPECT_EQ(stages_of(R"({"success":true,"data":["arn:aws:ivs:us-east-1:1:stage/a",
                                                 {"arn":"arn:aws:ivs:us-east-1:1:stage/b"}]})"),
            kAB);
}
TEST(StageList, UnderDataStages) {
  EXPECT_EQ(stages_of(R"({"data":{"stages":[{"stageArn":"arn:aws:ivs:us-east-1:1:stage/a"},
                                            "arn:aws:ivs:us-east-1:1:stage/b"],"count":2}})"),
            kAB);
}
TEST(StageList, EmptyListsAreValid) {
  EXPECT_TRUE(stages_of("[]").empty());
  EXPECT_TRUE(stages_of(R"({"stages":[]})").empty());
}
TEST(StageList, StageArnPreferredOverArn) {
  EXPECT_EQ(stages_of(R"([{"stageArn":"arn:one","arn":"arn:two"}])"),
            std::vector<std::string>{"arn:one"});
}
TEST(StageList, UnrecognisableItemsSkippedAndCountedDuplicatesRemoved) {
  auto parsed = parse_stage_list(R"([42,{"name":"x"},"",null,"arn:a","arn:a",{"stageArn":7}])");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->stage_arns, std::vector<std::string>{"arn:a"});
  EXPECT_EQ(parsed->skipped_items, 5u);
}
TEST(StageList, MalformedJsonIsAClearError) {
  for (const char* body : {"", "{", "[\"arn:a\",", "<html>502 Bad Gateway</html>", "nul"}) {
    auto parsed = parse_stage_list(body);
    ASSERT_FALSE(parsed.ok()) << body;
    EXPECT_NE(parsed.error().message.find("malformed JSON"), std::string::npos) << body;
  }
}
TEST(StageList, WrongShapeIsAClearError) {
  for (const char* body :
       {R"({"items":[]})", R"("arn:a")", "42", R"({"data":{"x":[]}})", R"({"stages":"arn:a"})"}) {
    auto parsed = parse_stage_list(body);
    ASSERT_FALSE(parsed.ok()) << body;
    EXPECT_NE(parsed.error().message.find("expected a JSON array"), std::string::npos);
  }
}

// A JWT whose payload is {"whip_url":"https://claim.example/whip","sub":"p1"}.
std::string jwt_with_claim() {
  return "eyJhbGciOiJFUzM4NCJ9."
         "eyJ3aGlwX3VybCI6Imh0dHBzOi8vY2xhaW0uZXhhbXBsZS93aGlwIiwic3ViIjoicDEifQ.c2ln";
}

TEST(Jwt, ReadsStringClaimWithoutVerifying) {
  EXPECT_EQ(jwt_string_claim(jwt_with_claim(), "whip_url"), "https://claim.example/whip");
  EXPECT_EQ(jwt_string_claim(jwt_with_claim(), "sub"), "p1");
  EXPECT_FALSE(jwt_string_claim(jwt_with_claim(), "missing").has_value());
  EXPECT_FALSE(jwt_string_claim("opaque-token", "whip_url").has_value());
  EXPECT_FALSE(jwt_string_claim("a.!!!.c", "whip_url").has_value());
  EXPECT_FALSE(jwt_string_claim("a.bm90IGpzb24.c", "whip_url").has_value());  // "not json"
}

constexpr std::string_view kDefault = "https://global.whip.live-video.net";

TEST(TokenResponse, CanonicalShape) {
  auto info = parse_token_response(
      R"({"token":"tok","participantId":"p-1","whipUrl":"https://r.example/whip","expirationTime":"2030-01-01T00:00:00Z"})",
      kDefault);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->token, "tok");
  EXPECT_EQ(info->participant_id, "p-1");
  EXPECT_EQ(info->whip_url, "https://r.example/whip");
  EXPECT_EQ(info->whip_url_source, WhipUrlSource::response);
}
TEST(TokenResponse, UnderData) {
  auto info = parse_token_response(
      R"({"success":true,"data":{"token":"tok","participantId":"p-2","whip_url":"https://d.example/"}})",
      kDefault);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->token, "tok");
  EXPECT_EQ(info->participant_id, "p-2");
  EXPECT_EQ(info->whip_url, "https://d.example/");
}
TEST(TokenResponse, SnakeCaseWhipUrlAtTopLevel) {
  auto info =
      parse_token_response(R"({"token":"tok","whip_url":"https://snake.example/"})", kDefault);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->whip_url, "https://snake.example/");
  EXPECT_EQ(info->participant_id, "");
}
TEST(TokenResponse, ResponseUrlBeatsTokenClaim) {
  auto info = parse_token_response(
      R"({"token":")" + jwt_with_claim() + R"(","whipUrl":"https://response.example/"})", kDefault);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->whip_url, "https://response.example/");
  EXPECT_EQ(info->whip_url_source, WhipUrlSource::response);
}
TEST(TokenResponse, TokenClaimBeatsConfiguredEndpoint) {
  auto info = parse_token_response(R"({"token":")" + jwt_with_claim() + R"("})", kDefault);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->whip_url, "https://claim.example/whip");
  EXPECT_EQ(info->whip_url_source, WhipUrlSource::token_claim);
}
TEST(TokenResponse, FallsBackToConfiguredEndpoint) {
  auto info = parse_token_response(R"({"token":"opaque"})", kDefault);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->whip_url, kDefault);
  EXPECT_EQ(info->whip_url_source, WhipUrlSource::configured_endpoint);
  EXPECT_STREQ(to_string(info->whip_url_source), "WHIP_ENDPOINT");
}
TEST(TokenResponse, EmptyWhipUrlIsIgnored) {
  auto info = parse_token_response(R"({"token":"opaque","whipUrl":""})", kDefault);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->whip_url, kDefault);
}
TEST(TokenResponse, MissingTokenOrMalformedIsAClearError) {
  for (const char* body : {R"({"participantId":"p"})", R"({"token":""})", R"({"token":5})",
                           R"({"data":"tok"})", "[]"}) {
    auto info = parse_token_response(body, kDefault);
    ASSERT_FALSE(info.ok()) << body;
    EXPECT_NE(info.error().message.find("token response"), std::string::npos);
  }
  auto broken = parse_token_response("{\"token\":", kDefault);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find("malformed JSON"), std::string::npos);
}

TEST(Notification, StageCreatedAndDeleted) {
  auto created = parse_notification(
      R"({"type":"stage_created","data":{"stageArn":"arn:a","timestamp":"2025-10-23T01:02:03Z"}})");
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->kind, StageNotification::Kind::stage_created);
  EXPECT_EQ(created->stage_arn, "arn:a");
  EXPECT_EQ(created->timestamp, "2025-10-23T01:02:03Z");
  auto deleted = parse_notification(R"({"type":"stage_deleted","data":{"stageArn":"arn:b"}})");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->kind, StageNotification::Kind::stage_deleted);
  EXPECT_EQ(deleted->stage_arn, "arn:b");
}
TEST(Notification, UnknownTypeIsOtherNotAnError) {
  auto other = parse_notification(R"({"type":"welcome","data":{"serverId":"x"}})");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->kind, StageNotification::Kind::other);
  EXPECT_EQ(other->type, "welcome");
}
TEST(Notification, MalformedIsAnError) {
  for (const char* text : {"not json", "[]", R"({"data":{}})", R"({"type":"stage_created"})",
                           R"({"type":"stage_deleted","data":{"stageArn":""}})"}) {
    EXPECT_FALSE(parse_notification(text).ok()) << text;
  }
}

// Events that overtook a list answer are applied on top of it, in order: a create the answer
// predates is added, a delete it predates is removed, a create then delete leaves nothing, and
// events the answer already reflects change nothing.
TEST(Notification, ListAfterEventsAppliesThemInOrder) {
  auto event = [](StageNotification::Kind kind, std::string arn) {
    StageNotification n;
    n.kind = kind;
    n.stage_arn = std::move(arn);
    return n;
  };
  using K = StageNotification::Kind;
  const std::vector<std::string> listed = {"arn:a", "arn:b"};
  EXPECT_EQ(list_after_events(listed, {}), listed);
  EXPECT_EQ(list_after_events(listed, {event(K::stage_created, "arn:c")}),
            (std::vector<std::string>{"arn:a", "arn:b", "arn:c"}));
  EXPECT_EQ(list_after_events(listed, {event(K::stage_deleted, "arn:a")}),
            (std::vector<std::string>{"arn:b"}));
  EXPECT_EQ(list_after_events(listed,
                              {event(K::stage_created, "arn:c"), event(K::stage_deleted, "arn:c")}),
            listed);
  EXPECT_EQ(list_after_events(listed,
                              {event(K::stage_deleted, "arn:b"), event(K::stage_created, "arn:b")}),
            (std::vector<std::string>{"arn:a", "arn:b"}));
  EXPECT_EQ(list_after_events(listed,
                              {event(K::stage_created, "arn:a"), event(K::stage_deleted, "arn:z")}),
            listed);
}

TEST(RequestBodies, MatchTheContract) {
  const auto reg = boost::json::parse(register_request_body("ms-1", "10.0.0.1", 3001));
  EXPECT_EQ(reg.at("serverId").as_string(), "ms-1");
  EXPECT_EQ(reg.at("ipAddress").as_string(), "10.0.0.1");
  EXPECT_EQ(reg.at("port").to_number<int>(), 3001);
  const auto tok = boost::json::parse(token_request_body("ms-1", "arn:\"q\""));
  EXPECT_EQ(tok.at("stageArn").as_string(), "arn:\"q\"");
  const auto beat = boost::json::parse(heartbeat_request_body("ms-1", false, 5));
  EXPECT_EQ(beat.at("publisherActive").as_bool(), false);
  EXPECT_EQ(beat.at("connectedStages").to_number<int>(), 5);
}

}  // namespace
}  // namespace ivs::app
