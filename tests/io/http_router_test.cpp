// HttpRouter as a pure function: no sockets, requests built in memory.
#include "io/http_router.hpp"

#include <gtest/gtest.h>

namespace ivs::io {
namespace {

HttpRequest make_request(http::verb method, std::string target, std::string body = {}) {
  HttpRequest request{method, target, 11};
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

HttpRouter::Handler answer(std::string text) {
  return [text](const HttpRequest&, const RequestContext&) {
    return text_response(http::status::ok, text, "text/plain");
  };
}

TEST(HttpRouterTest, MatchesExactPathsAndIgnoresQuery) {
  HttpRouter router;
  router.get("/health", answer("health")).get("/health/ready", answer("ready"));
  EXPECT_EQ(router.handle(make_request(http::verb::get, "/health?x=1"), {}).body(), "health");
  EXPECT_EQ(router.handle(make_request(http::verb::get, "/health/ready"), {}).body(), "ready");
  EXPECT_EQ(router.handle(make_request(http::verb::get, "/health/"), {}).result(),
            http::status::not_found);
}

TEST(HttpRouterTest, PassesPathParameters) {
  HttpRouter router;
  router.del("/whip/{id}", [](const HttpRequest&, const RequestContext& context) {
    return text_response(http::status::ok, context.path_param("id"), "text/plain");
  });
  EXPECT_EQ(router.handle(make_request(http::verb::delete_, "/whip/abc123"), {}).body(), "abc123");
  EXPECT_EQ(router.handle(make_request(http::verb::delete_, "/whip/"), {}).result(),
            http::status::not_found);
  EXPECT_EQ(router.handle(make_request(http::verb::delete_, "/whip/a/b"), {}).result(),
            http::status::not_found);
}

TEST(HttpRouterTest, UnknownPathIs404Json) {
  HttpRouter router;
  const auto response = router.handle(make_request(http::verb::get, "/nothing"), {});
  EXPECT_EQ(response.result(), http::status::not_found);
  EXPECT_EQ(response[http::field::content_type], "application/json");
  EXPECT_EQ(response.body(), "{\"error\":\"no such resource\"}");
}

TEST(HttpRouterTest, WrongMethodIs405WithAllow) {
  HttpRouter router;
  router.post("/whip", answer("post")).get("/whip", answer("get"));
  const auto response = router.handle(make_request(http::verb::put, "/whip"), {});
  EXPECT_EQ(response.result(), http::status::method_not_allowed);
  EXPECT_EQ(response[http::field::allow], "GET, HEAD, POST");
}

TEST(HttpRouterTest, HeadFallsBackToGet) {
  HttpRouter router;
  router.get("/metrics", answer("metrics"));
  EXPECT_EQ(router.handle(make_request(http::verb::head, "/metrics"), {}).body(), "metrics");
}

TEST(HttpRouterTest, LaterDuplicateRouteWins) {
  HttpRouter router;
  router.get("/a", answer("first")).get("/a", answer("second"));
  EXPECT_EQ(router.handle(make_request(http::verb::get, "/a"), {}).body(), "second");
}

TEST(HttpRouterTest, CorsAddsHeadersAndAnswersPreflight) {
  HttpRouter router;
  router.post("/whip", answer("offer")).del("/whip/{id}", answer("gone")).enable_cors();
  const auto preflight = router.handle(make_request(http::verb::options, "/whip"), {});
  EXPECT_EQ(preflight.result(), http::status::no_content);
  EXPECT_EQ(preflight[http::field::access_control_allow_origin], "*");
  EXPECT_EQ(preflight[http::field::access_control_allow_methods], "POST, OPTIONS");
  EXPECT_EQ(preflight[http::field::allow], "POST, OPTIONS");
  EXPECT_NE(preflight[http::field::access_control_expose_headers].find("Location"),
            std::string::npos);
  EXPECT_NE(preflight[http::field::access_control_allow_headers].find("Authorization"),
            std::string::npos);

  const auto normal = router.handle(make_request(http::verb::delete_, "/whip/x"), {});
  EXPECT_EQ(normal.body(), "gone");
  EXPECT_EQ(normal[http::field::access_control_allow_origin], "*");
  EXPECT_EQ(normal[http::field::access_control_expose_headers],
            "Location, Link, ETag, Accept-Patch, Accept-Post");
}

TEST(HttpRouterTest, ExplicitOptionsRouteBeatsAutomaticPreflight) {
  HttpRouter router;
  router.post("/whip", answer("offer"))
      .add(http::verb::options, "/whip",
           [](const HttpRequest&, const RequestContext&) {
             auto response = HttpResponse{http::status::no_content, 11};
             response.set("Accept-Post", "application/sdp");
             return response;
           })
      .enable_cors();
  const auto response = router.handle(make_request(http::verb::options, "/whip"), {});
  EXPECT_EQ(response["Accept-Post"], "application/sdp");
  EXPECT_EQ(response[http::field::access_control_allow_origin], "*");
}

TEST(HttpRouterTest, HandlerExceptionPropagatesToTheServer) {
  HttpRouter router;
  router.get("/x", [](const HttpRequest&, const RequestContext&) -> HttpResponse {
    throw std::runtime_error("boom");
  });
  EXPECT_THROW(router.handle(make_request(http::verb::get, "/x"), {}), std::runtime_error);
}

TEST(HttpTypesTest, JsonErrorEscapesTheMessage) {
  const auto response = json_error(http::status::bad_request, "bad \"quote\"\n");
  EXPECT_EQ(response.body(), R"({"error":"bad \"quote\"\n"})");
  EXPECT_EQ(response[http::field::content_length], std::to_string(response.body().size()));
}

TEST(HttpTypesTest, QueryParamDecodesValues) {
  const auto request = make_request(http::verb::get, "/ws?type=media-server&name=a%20b");
  EXPECT_EQ(query_param(request, "type"), "media-server");
  EXPECT_EQ(query_param(request, "name"), "a b");
  EXPECT_EQ(query_param(request, "missing"), std::nullopt);
  EXPECT_EQ(request_path(request), "/ws");
}

}  // namespace
}  // namespace ivs::io

namespace ivs::io {
namespace {

// Issue 13, item 12: every answer carried Access-Control-Allow-Origin: *, so any page could read
// them. With configured origins only those pages may (the request's Origin echoed, Vary:
// Origin); others get no CORS header and the browser hides the answer.
TEST(HttpRouterCors, ConfiguredOriginsAreEchoedOthersGetNone) {
  HttpRouter router;
  CorsOptions cors;
  cors.allowed_origins = {"https://app.example"};
  router.post("/whip", answer("offer")).enable_cors(cors);
  auto request = make_request(http::verb::post, "/whip");
  request.set(http::field::origin, "https://app.example");
  auto response = router.handle(request, {});
  EXPECT_EQ(response[http::field::access_control_allow_origin], "https://app.example");
  EXPECT_EQ(response[http::field::vary], "Origin");
  request.set(http::field::origin, "https://evil.example");
  response = router.handle(request, {});
  EXPECT_EQ(response.find(http::field::access_control_allow_origin), response.end());
  // A header-check answer (401 before the body) is decorated the same way.
  router.header_check(http::verb::post, "/whip",
                      [](const HttpRequest&, const RequestContext&) -> std::optional<HttpResponse> {
                        return json_error(http::status::unauthorized, "no");
                      });
  request.set(http::field::origin, "https://app.example");
  const auto early = router.check_header(request, {});
  ASSERT_TRUE(early);
  EXPECT_EQ((*early)[http::field::access_control_allow_origin], "https://app.example");
}

}  // namespace
}  // namespace ivs::io
