// The reference API server's routes, driven in memory: no sockets, a fixed wall clock and a
// seeded random source. These pin the contract of docs/api-server.md that the media server's
// API client and the process tests rely on.
#include <gtest/gtest.h>

#include "app/api_server/api_handlers.hpp"
#include "app/control/jwt.hpp"

namespace ivs::app::api_server {
namespace {

using io::http::status;
using io::http::verb;

constexpr std::int64_t kNowSeconds = 1'800'000'000;  // 2027-01-15T08:00:00Z
constexpr std::string_view kApiKey = "test-api-key";
constexpr std::string_view kMediaAuth = "test-media-secret";

class ApiHandlersTest : public ::testing::Test {
 protected:
  ApiHandlersTest()
      : key_(std::move(jwt::Es384Key::generate()).value()),
        handlers_(
            settings(), state_, key_, random_, [this] { return now_; },
            [this] { return monotonic_now_; }) {}

  static ApiServerSettings settings() {
    ApiServerSettings settings;
    settings.api_secret_key = std::string(kApiKey);
    settings.media_server_secret = std::string(kMediaAuth);
    settings.whip_url_base = "http://127.0.0.1:3002/whip";
    settings.token_duration = std::chrono::minutes(60);
    return settings;
  }

  io::HttpRequest request(verb method, std::string target, std::string body = {},
                          bool api_key = true, bool media_auth = true) {
    io::HttpRequest out{method, target, 11};
    if (api_key)
      out.set("x-api-key", kApiKey);
    if (media_auth)
      out.set("x-media-auth", kMediaAuth);
    out.body() = std::move(body);
    out.prepare_payload();
    return out;
  }

  io::HttpResponse call(verb method, std::string target, std::string body = {}) {
    return handlers_.handle(request(method, std::move(target), std::move(body)));
  }

  static boost::json::object json(const io::HttpResponse& response) {
    return boost::json::parse(response.body()).as_object();
  }

  Stage create(std::string name = "demo") {
    const auto response = call(verb::post, "/api/stages", R"({"name":")" + name + R"("})");
    EXPECT_EQ(response.result(), status::created) << response.body();
    const auto body = json(response);
    return Stage{std::string(body.at("id").as_string()),
                 std::string(body.at("stageArn").as_string()), name, now_};
  }

  void register_server(std::string id = "media-server-01") {
    const auto response =
        call(verb::post, "/api/media/register",
             R"({"serverId":")" + id + R"(","ipAddress":"127.0.0.1","port":3001})");
    ASSERT_EQ(response.result(), status::ok) << response.body();
  }

  engine::SeededRandom random_{42};
  WallTime now_{kNowSeconds * 1'000'000};
  Instant monotonic_now_{};
  ApiServerState state_{"us-west-2", "123456789012"};
  jwt::Es384Key key_;
  ApiHandlers handlers_;
};

TEST_F(ApiHandlersTest, CreatedStageHasAnIvsShapedArnAndIsListedEverywhere) {
  const auto stage = create("main");
  EXPECT_EQ(stage.id.size(), 12u);
  EXPECT_EQ(stage.arn, "arn:aws:ivs:us-west-2:123456789012:stage/" + stage.id);

  const auto media = json(call(verb::get, "/api/media/stages"));
  ASSERT_EQ(media.at("stages").as_array().size(), 1u);
  const auto& item = media.at("stages").as_array()[0].as_object();
  EXPECT_EQ(item.at("stageArn").as_string(), stage.arn);
  EXPECT_EQ(item.at("name").as_string(), "main");

  const auto admin = json(call(verb::get, "/api/stages"));
  EXPECT_EQ(admin.at("stages").as_array()[0].at("createdAt").as_string(),
            "2027-01-15T08:00:00.000Z");
}

TEST_F(ApiHandlersTest, StageChangesQueueWebSocketEvents) {
  const auto stage = create();
  ASSERT_EQ(call(verb::delete_, "/api/stages/" + stage.id).result(), status::ok);
  const auto events = state_.take_events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(stage_event_message(events[0]), R"({"type":"stage_created","data":{"stageArn":")" +
                                                stage.arn +
                                                R"(","timestamp":"2027-01-15T08:00:00.000Z"}})");
  EXPECT_EQ(events[1].type, StageEvent::Type::deleted);
  EXPECT_TRUE(state_.take_events().empty());
}

TEST_F(ApiHandlersTest, DeleteAcceptsIdEncodedArnAndRawArn) {
  const auto by_id = create("a");
  const auto by_encoded = create("b");
  const auto by_raw = create("c");
  EXPECT_EQ(call(verb::delete_, "/api/stages/" + by_id.id).result(), status::ok);
  std::string encoded = by_encoded.arn;
  encoded.replace(encoded.find("/"), 1, "%2F");
  for (std::size_t at; (at = encoded.find(':')) != std::string::npos;)
    encoded.replace(at, 1, "%3A");
  EXPECT_EQ(call(verb::delete_, "/api/stages/" + encoded).result(), status::ok);
  EXPECT_EQ(call(verb::delete_, "/api/stages/" + by_raw.arn).result(), status::ok);
  EXPECT_TRUE(state_.stages().empty());
  EXPECT_EQ(call(verb::delete_, "/api/stages/" + by_id.id).result(), status::not_found);
}

TEST_F(ApiHandlersTest, StageNameIsOptionalButValidated) {
  const auto unnamed = call(verb::post, "/api/stages");
  ASSERT_EQ(unnamed.result(), status::created);
  EXPECT_EQ(json(unnamed).at("name").as_string(),
            "stage-" + std::string(json(unnamed).at("id").as_string()));
  EXPECT_EQ(call(verb::post, "/api/stages", R"({"name":"bad name!"})").result(),
            status::unprocessable_entity);
  EXPECT_EQ(call(verb::post, "/api/stages", R"({"name":7})").result(),
            status::unprocessable_entity);
}

TEST_F(ApiHandlersTest, RegistrationIsListedWithItsHeartbeats) {
  register_server();
  auto servers = json(call(verb::get, "/api/media/servers")).at("servers").as_array();
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0].at("serverId").as_string(), "media-server-01");
  EXPECT_EQ(servers[0].at("port").as_int64(), 3001);
  EXPECT_TRUE(servers[0].at("lastHeartbeat").is_null());

  now_.unix_micros += 5'000'000;
  const auto beat =
      call(verb::post, "/api/media/heartbeat",
           R"({"serverId":"media-server-01","publisherActive":true,"connectedStages":3})");
  ASSERT_EQ(beat.result(), status::ok) << beat.body();
  servers = json(call(verb::get, "/api/media/servers")).at("servers").as_array();
  EXPECT_EQ(servers[0].at("lastHeartbeat").as_string(), "2027-01-15T08:00:05.000Z");
  EXPECT_EQ(servers[0].at("registeredAt").as_string(), "2027-01-15T08:00:00.000Z");
  EXPECT_TRUE(servers[0].at("publisherActive").as_bool());
  EXPECT_EQ(servers[0].at("connectedStages").as_int64(), 3);
}

TEST_F(ApiHandlersTest, HeartbeatFromUnknownServerIs404SoItReRegisters) {
  const auto response = call(verb::post, "/api/media/heartbeat",
                             R"({"serverId":"ghost","publisherActive":false,"connectedStages":0})");
  EXPECT_EQ(response.result(), status::not_found);
  EXPECT_TRUE(json(response).contains("error"));
}

TEST_F(ApiHandlersTest, TokenIsAVerifiableEs384JwtWithIvsClaims) {
  register_server();
  const auto stage = create();
  const auto response = call(verb::post, "/api/media/token",
                             R"({"serverId":"media-server-01","stageArn":")" + stage.arn + R"("})");
  ASSERT_EQ(response.result(), status::ok) << response.body();
  const auto body = json(response);
  const std::string whip_url = "http://127.0.0.1:3002/whip/" + stage.id;
  EXPECT_EQ(body.at("whipUrl").as_string(), whip_url);
  EXPECT_EQ(body.at("expirationTime").as_string(), "2027-01-15T09:00:00.000Z");

  auto verified = jwt::verify(key_, body.at("token").as_string(), kNowSeconds);
  ASSERT_TRUE(verified.ok()) << verified.error().message;
  const auto& claims = verified->claims;
  EXPECT_EQ(claims.at("exp").as_int64(), kNowSeconds + 3600);
  EXPECT_EQ(claims.at("iat").as_int64(), kNowSeconds);
  EXPECT_EQ(claims.at("jti").as_string(), body.at("participantId").as_string());
  EXPECT_EQ(claims.at("resource").as_string(), stage.arn);
  EXPECT_EQ(claims.at("topic").as_string(), stage.id);
  EXPECT_EQ(claims.at("whip_url").as_string(), whip_url);
  EXPECT_TRUE(claims.at("capabilities").at("allow_publish").as_bool());
  EXPECT_EQ(claims.at("version").as_string(), "1.0");
  EXPECT_FALSE(jwt::verify(key_, body.at("token").as_string(), kNowSeconds + 3600).ok());
}

TEST_F(ApiHandlersTest, EachTokenHasItsOwnParticipantId) {
  const auto stage = create();
  const std::string body = R"({"serverId":"m","stageArn":")" + stage.arn + R"("})";
  EXPECT_NE(json(call(verb::post, "/api/media/token", body)).at("participantId"),
            json(call(verb::post, "/api/media/token", body)).at("participantId"));
}

TEST_F(ApiHandlersTest, TokenForUnknownStageIs404) {
  EXPECT_EQ(call(verb::post, "/api/media/token",
                 R"({"serverId":"m","stageArn":"arn:aws:ivs:us-west-2:123456789012:stage/nope"})")
                .result(),
            status::not_found);
}

TEST_F(ApiHandlersTest, PublishedKeyVerifiesTokens) {
  const auto stage = create();
  const auto token = json(call(verb::post, "/api/media/token",
                               R"({"serverId":"m","stageArn":")" + stage.arn + R"("})"))
                         .at("token");
  const auto keys = json(call(verb::get, "/api/keys"));
  auto jwk_key = jwt::Es384Key::from_jwk(keys.at("keys").as_array()[0].as_object());
  ASSERT_TRUE(jwk_key.ok());
  EXPECT_TRUE(jwt::verify(*jwk_key, token.as_string(), kNowSeconds).ok());
  const auto pem = handlers_.handle(request(verb::get, "/api/keys/public.pem", {}, false, false));
  auto pem_key = jwt::Es384Key::from_public_pem(pem.body());
  ASSERT_TRUE(pem_key.ok());
  EXPECT_TRUE(jwt::verify(*pem_key, token.as_string(), kNowSeconds).ok());
}

TEST_F(ApiHandlersTest, MalformedJsonIs400WithAReason) {
  for (const std::string body : {"{not json", "", "[1,2]", "\"text\""}) {
    const auto response = call(verb::post, "/api/media/register", body);
    EXPECT_EQ(response.result(), status::bad_request) << body;
    EXPECT_FALSE(json(response).at("error").as_string().empty());
  }
}

TEST_F(ApiHandlersTest, MissingAndMistypedFieldsAreNamed) {
  auto missing = call(verb::post, "/api/media/register", R"({"serverId":"a","ipAddress":"x"})");
  EXPECT_EQ(missing.result(), status::bad_request);
  EXPECT_EQ(json(missing).at("error").as_string(), "missing field port");
  auto mistyped =
      call(verb::post, "/api/media/register", R"({"serverId":"a","ipAddress":"x","port":"3001"})");
  EXPECT_EQ(mistyped.result(), status::unprocessable_entity);
  EXPECT_EQ(
      call(verb::post, "/api/media/register", R"({"serverId":"a","ipAddress":"x","port":70000})")
          .result(),
      status::unprocessable_entity);
  EXPECT_EQ(call(verb::post, "/api/media/heartbeat",
                 R"({"serverId":"a","publisherActive":"yes","connectedStages":0})")
                .result(),
            status::unprocessable_entity);
  EXPECT_EQ(call(verb::post, "/api/media/heartbeat",
                 R"({"serverId":"a","publisherActive":true,"connectedStages":-1})")
                .result(),
            status::unprocessable_entity);
}

struct RouteCase {
  verb method;
  const char* target;
  bool needs_media_auth;
};

TEST_F(ApiHandlersTest, EveryProtectedRouteAnswers401NamingTheHeader) {
  const auto stage = create();
  const std::string delete_target = "/api/stages/" + stage.id;
  const RouteCase routes[] = {
      {verb::post, "/api/media/register", true}, {verb::get, "/api/media/stages", false},
      {verb::post, "/api/media/token", true},    {verb::post, "/api/media/heartbeat", false},
      {verb::get, "/api/media/servers", false},  {verb::post, "/api/stages", false},
      {verb::get, "/api/stages", false},         {verb::delete_, delete_target.c_str(), false},
  };
  for (const auto& route : routes) {
    auto no_key = handlers_.handle(request(route.method, route.target, "{}", false, true));
    EXPECT_EQ(no_key.result(), status::unauthorized) << route.target;
    EXPECT_EQ(json(no_key).at("error").as_string(), "missing x-api-key header") << route.target;

    auto wrong = request(route.method, route.target, "{}", false, true);
    wrong.set("x-api-key", "wrong-key");
    auto wrong_key = handlers_.handle(wrong);
    EXPECT_EQ(wrong_key.result(), status::unauthorized) << route.target;
    EXPECT_EQ(json(wrong_key).at("error").as_string(), "invalid x-api-key header");
    EXPECT_EQ(wrong_key.body().find("wrong-key"), std::string::npos);

    if (route.needs_media_auth) {
      auto no_media = handlers_.handle(request(route.method, route.target, "{}", true, false));
      EXPECT_EQ(no_media.result(), status::unauthorized) << route.target;
      EXPECT_EQ(json(no_media).at("error").as_string(), "missing x-media-auth header");
    }
  }
  EXPECT_EQ(state_.stages().size(), 1u);  // The unauthorized DELETE removed nothing.
}

TEST_F(ApiHandlersTest, WebSocketUpgradeNeedsBothSecrets) {
  EXPECT_FALSE(handlers_.websocket_rejection(request(verb::get, "/ws?type=media-server")));
  EXPECT_TRUE(
      handlers_.websocket_rejection(request(verb::get, "/ws?type=media-server", {}, false, true)));
  EXPECT_TRUE(
      handlers_.websocket_rejection(request(verb::get, "/ws?type=media-server", {}, true, false)));
  EXPECT_TRUE(handlers_.websocket_rejection(request(verb::get, "/ws?type=viewer")));
}

TEST_F(ApiHandlersTest, HealthAndKeysArePublic) {
  EXPECT_EQ(handlers_.handle(request(verb::get, "/health", {}, false, false)).result(), status::ok);
  EXPECT_EQ(handlers_.handle(request(verb::get, "/api/keys", {}, false, false)).result(),
            status::ok);
}

TEST(PercentDecodeTest, DecodesEscapesAndKeepsInvalidOnes) {
  EXPECT_EQ(percent_decode("arn%3Aaws%2Fx"), "arn:aws/x");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz"), "%zz");
}

// Issue 13 ("rotate keys regularly"): the API server's own secrets are rotated by SIGHUP. The
// media servers send one value at a time, so the API server, rotated first, must accept the
// old values for the grace period, and only the new ones after it.
TEST_F(ApiHandlersTest, RotatedSecretsKeepTheOldValuesForTheGraceOnly) {
  const auto with = [&](std::string_view api_key, std::string_view media_auth) {
    io::HttpRequest out{verb::post, "/api/media/register", 11};
    out.set("x-api-key", api_key);
    out.set("x-media-auth", media_auth);
    return handlers_.header_rejection(out).has_value() ? "refused" : "accepted";
  };
  EXPECT_TRUE(
      handlers_.rotate_secrets(std::string(kApiKey), std::string(kMediaAuth), seconds(60)).empty())
      << "rotating to the running values changes nothing";
  const auto rotated = handlers_.rotate_secrets("new-api-key", "new-media-secret", seconds(60));
  EXPECT_EQ(rotated, (std::vector<std::string>{"API_SECRET_KEY", "MEDIA_SERVER_SECRET"}));
  monotonic_now_ += seconds(59);
  EXPECT_STREQ(with("new-api-key", "new-media-secret"), "accepted");
  EXPECT_STREQ(with(kApiKey, kMediaAuth), "accepted") << "within the grace period";
  EXPECT_STREQ(with("new-api-key", kMediaAuth), "accepted");
  EXPECT_STREQ(with("other", kMediaAuth), "refused");
  monotonic_now_ += seconds(2);
  EXPECT_STREQ(with(kApiKey, kMediaAuth), "refused") << "after the grace period";
  EXPECT_STREQ(with("new-api-key", kMediaAuth), "refused");
  EXPECT_STREQ(with("new-api-key", "new-media-secret"), "accepted");
}

}  // namespace
}  // namespace ivs::app::api_server
