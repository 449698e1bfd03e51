// WHIP/WHEP route handlers as pure request -> response functions over a real channel (its UDP
// port on loopback, port 0): status codes and messages for every refusal, the 201's absolute
// Location/ETag/Content-Type, DELETE/PATCH/OPTIONS, stage-style mounting with a channel lookup,
// and that bad input never leaves a session behind (router session count).
#include "app/web/whip_routes.hpp"
#include "app/relay/media_plane.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "support/testdata.hpp"

namespace ivs::app {
namespace {

namespace http = io::http;

struct Fixture {
  explicit Fixture(RelayChannelOptions options = {}) {
    MediaPlaneOptions plane_options;
    plane_options.bind_ip = "127.0.0.1";
    auto started = MediaPlane::start(io, plane_options);
    plane = std::move(*started);
    channel = std::make_unique<RelayChannel>(io, *plane, options);
    whip.role = SessionRole::publisher;
    whip.pattern = "/whip";
    whip.channel = [this](const io::RequestContext&) { return channel.get(); };
    whip.authorize = bearer_authorizer("s3cret-token", "WHIP_INGEST_TOKEN", true);
    whep = whip;
    whep.role = SessionRole::viewer;
    whep.pattern = "/whep";
    whep.authorize = bearer_authorizer("", "WHEP_TOKEN", false);
  }

  boost::asio::io_context io;
  std::unique_ptr<MediaPlane> plane;
  std::unique_ptr<RelayChannel> channel;
  WhipEndpoint whip;
  WhipEndpoint whep;
};

io::HttpRequest post(const std::string& target, const std::string& body,
                     const std::string& token = "s3cret-token",
                     const std::string& content_type = "application/sdp") {
  io::HttpRequest request{http::verb::post, target, 11};
  request.set(http::field::host, "media.example:3001");
  if (!token.empty()) {
    request.set(http::field::authorization, "Bearer " + token);
  }
  if (!content_type.empty()) {
    request.set(http::field::content_type, content_type);
  }
  request.body() = body;
  request.prepare_payload();
  return request;
}

io::RequestContext context(std::map<std::string, std::string, std::less<>> params = {}) {
  io::RequestContext out;
  out.scheme_host = "http://media.example:3001";
  out.path_params = std::move(params);
  return out;
}

std::string obs_offer() {
  return test::read_testdata("sdp/obs-offer.sdp");
}

TEST(WhipRoutes, ConstantTimeCompareAndBearerParsing) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_TRUE(constant_time_equal("", ""));
  io::HttpRequest request;
  EXPECT_FALSE(bearer_token(request));
  request.set(http::field::authorization, "bearer  tok ");
  EXPECT_EQ(bearer_token(request), "tok");
  request.set(http::field::authorization, "Basic dXNlcjpwYXNz");
  EXPECT_FALSE(bearer_token(request));
  request.set(http::field::authorization, "Bearer ");
  EXPECT_FALSE(bearer_token(request));
}

TEST(WhipRoutes, PostAnswers201WithAbsoluteLocationEtagAndSdp) {
  Fixture f;
  const auto response = whip_post(f.whip, post("/whip", obs_offer()), context());
  ASSERT_EQ(response.result(), http::status::created) << response.body();
  EXPECT_EQ(response[http::field::content_type], "application/sdp");
  const std::string location(response[http::field::location]);
  ASSERT_EQ(location.rfind("http://media.example:3001/whip/", 0), 0u) << location;
  EXPECT_EQ(location.size(), std::string("http://media.example:3001/whip/").size() + 32);
  EXPECT_EQ(location.find('?'), std::string::npos);
  EXPECT_FALSE(response[http::field::etag].empty());
  EXPECT_NE(response.body().find("a=candidate:"), std::string::npos);
  EXPECT_EQ(f.plane->session_count(), 1u);

  const std::string id = location.substr(location.rfind('/') + 1);
  io::HttpRequest del{http::verb::delete_, "/whip/" + id, 11};
  const auto deleted = whip_delete(f.whip, del, context({{"resource", id}}));
  EXPECT_EQ(deleted.result(), http::status::ok);
  EXPECT_EQ(f.plane->session_count(), 0u);
  EXPECT_EQ(whip_delete(f.whip, del, context({{"resource", id}})).result(),
            http::status::not_found);
}

TEST(WhipRoutes, RefusalsNameTheProblemAndLeaveNoSession) {
  Fixture f;
  const auto missing = whip_post(f.whip, post("/whip", obs_offer(), ""), context());
  EXPECT_EQ(missing.result(), http::status::unauthorized);
  EXPECT_NE(missing.body().find("Authorization"), std::string::npos);

  const auto wrong = whip_post(f.whip, post("/whip", obs_offer(), "guess-123"), context());
  EXPECT_EQ(wrong.result(), http::status::unauthorized);
  EXPECT_EQ(wrong.body().find("guess-123"), std::string::npos);  // never echoed
  EXPECT_EQ(wrong.body().find("s3cret"), std::string::npos);

  const auto type =
      whip_post(f.whip, post("/whip", obs_offer(), "s3cret-token", "text/plain"), context());
  EXPECT_EQ(type.result(), http::status::unsupported_media_type);
  EXPECT_NE(type.body().find("application/sdp"), std::string::npos);

  const auto big = whip_post(f.whip, post("/whip", std::string(65 * 1024, 'x')), context());
  EXPECT_EQ(big.result(), http::status::payload_too_large);

  const auto empty = whip_post(f.whip, post("/whip", ""), context());
  EXPECT_EQ(empty.result(), http::status::bad_request);

  const auto garbage = whip_post(f.whip, post("/whip", "not sdp"), context());
  EXPECT_EQ(garbage.result(), http::status::bad_request);

  std::string audio_only = obs_offer();
  audio_only = audio_only.substr(0, audio_only.find("m=video"));
  const auto unusable = whip_post(f.whip, post("/whip", audio_only), context());
  EXPECT_EQ(unusable.result(), http::status::unprocessable_entity) << unusable.body();
  EXPECT_FALSE(unusable.body().empty());

  EXPECT_EQ(f.plane->session_count(), 0u);
}

TEST(WhipRoutes, IngestWithoutAConfiguredTokenIsDisabled) {
  Fixture f;
  f.whip.authorize = bearer_authorizer("", "WHIP_INGEST_TOKEN", true);
  const auto response = whip_post(f.whip, post("/whip", obs_offer(), "anything"), context());
  EXPECT_EQ(response.result(), http::status::service_unavailable);
  EXPECT_NE(response.body().find("WHIP_INGEST_TOKEN"), std::string::npos);
  EXPECT_EQ(f.plane->session_count(), 0u);
}

TEST(WhipRoutes, RefusePolicyGives409) {
  RelayChannelOptions options;
  options.refuse_second_publisher = true;
  Fixture f(options);
  EXPECT_EQ(whip_post(f.whip, post("/whip", obs_offer()), context()).result(),
            http::status::created);
  const auto second = whip_post(f.whip, post("/whip", obs_offer()), context());
  EXPECT_EQ(second.result(), http::status::conflict);
  EXPECT_NE(second.body().find("WHIP_PUBLISHER_POLICY"), std::string::npos);
  EXPECT_EQ(f.plane->session_count(), 1u);
}

TEST(WhipRoutes, WhepBeforeAPublisherIs409WithRetryAfter) {
  Fixture f;
  const auto response = whip_post(
      f.whep, post("/whep", test::read_testdata("sdp/chromium-whep-offer.sdp"), ""), context());
  EXPECT_EQ(response.result(), http::status::conflict);
  EXPECT_EQ(response[http::field::retry_after], "1");
  EXPECT_EQ(f.plane->session_count(), 0u);
}

TEST(WhipRoutes, PatchIs405AndOptionsAdvertisesSdp) {
  Fixture f;
  io::HttpRequest patch{http::verb::patch, "/whip/abc", 11};
  const auto patched = whip_patch(f.whip, patch, context({{"resource", "abc"}}));
  EXPECT_EQ(patched.result(), http::status::method_not_allowed);
  io::HttpRequest options{http::verb::options, "/whip", 11};
  const auto answered = whip_options(f.whip, options, context());
  EXPECT_EQ(answered.result(), http::status::no_content);
  EXPECT_EQ(answered["Accept-Post"], "application/sdp");
}

// The stage role's shape: /whip/{stage} with a lookup that knows one stage.
TEST(WhipRoutes, MountedWithAStagePatternAndLookup) {
  Fixture f;
  io::HttpRouter router;
  WhipEndpoint stage = f.whip;
  stage.pattern = "/whip/{stage}";
  stage.channel = [&](const io::RequestContext& context) {
    return context.path_param("stage") == "alpha" ? f.channel.get() : nullptr;
  };
  mount_whip_endpoint(router, stage);
  router.enable_cors();

  const auto unknown = router.handle(post("/whip/beta", obs_offer()), context());
  EXPECT_EQ(unknown.result(), http::status::not_found);
  const auto created = router.handle(post("/whip/alpha", obs_offer()), context());
  ASSERT_EQ(created.result(), http::status::created) << created.body();
  const std::string location(created[http::field::location]);
  ASSERT_EQ(location.rfind("http://media.example:3001/whip/alpha/", 0), 0u) << location;
  EXPECT_FALSE(created[http::field::access_control_allow_origin].empty());

  const std::string path = location.substr(std::string("http://media.example:3001").size());
  const auto preflight =
      router.handle(io::HttpRequest{http::verb::options, "/whip/alpha", 11}, context());
  EXPECT_EQ(preflight.result(), http::status::no_content);
  EXPECT_EQ(preflight["Accept-Post"], "application/sdp");
  const auto deleted = router.handle(io::HttpRequest{http::verb::delete_, path, 11}, context());
  EXPECT_EQ(deleted.result(), http::status::ok);
  EXPECT_EQ(f.plane->session_count(), 0u);
  const auto patch = router.handle(io::HttpRequest{http::verb::patch, path, 11}, context());
  EXPECT_EQ(patch.result(), http::status::method_not_allowed);
}

}  // namespace
}  // namespace ivs::app
