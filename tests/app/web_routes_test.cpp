// The pages the binaries serve (issue 5): the routes answer with the embedded web/ files, the
// right content types and cache validators; every file a page links to is embedded; and the
// dashboard's stage-button proxy forwards to the API server's admin routes with the API key,
// only for a caller holding the admin token, without ever blocking the handler.
#include "app/web/web_routes.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <regex>
#include <set>

#include "app/web/web_assets.hpp"

namespace ivs::app {
namespace {

namespace json = boost::json;
using io::http::field;
using io::http::status;
using io::http::verb;

io::HttpRequest request(verb method, std::string target, std::string body = "") {
  io::HttpRequest r(method, target, 11);
  r.body() = std::move(body);
  r.prepare_payload();
  return r;
}

io::HttpResponse send(const io::HttpRouter& router, io::HttpRequest r) {
  return router.handle(r, io::RequestContext{});
}

// ---- embedded assets ------------------------------------------------------------------------

TEST(WebAssets, EveryPageAndScriptIsEmbeddedWithItsContentType) {
  for (const char* name : {"dashboard.html", "publish.html", "stage.html"}) {
    auto asset = find_web_asset(name);
    ASSERT_TRUE(asset) << name;
    EXPECT_EQ(asset->content_type, "text/html; charset=utf-8");
    EXPECT_NE(asset->bytes.find("<!doctype html>"), std::string_view::npos) << name;
  }
  EXPECT_EQ(find_web_asset("dashboard.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(find_web_asset("common.css")->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(find_web_asset("favicon.svg")->content_type, "image/svg+xml");
}

TEST(WebAssets, NamesWithPathsOrLeadingDotsAreNeverFound) {
  for (const char* name : {"", "../dashboard.html", "x/dashboard.html", ".dashboard.html",
                           "..\\dashboard.html", "dashboard.htm"}) {
    EXPECT_FALSE(find_web_asset(name)) << name;
  }
}

TEST(WebAssets, EtagsAreQuotedAndDifferPerFile) {
  std::set<std::string_view> etags;
  for (const EmbeddedFile& file : embedded_web_assets()) {
    const std::string_view etag = file.etag;
    ASSERT_GE(etag.size(), 3u) << file.name;
    EXPECT_EQ(etag.front(), '"');
    EXPECT_EQ(etag.back(), '"');
    etags.insert(etag);
  }
  EXPECT_EQ(etags.size(), embedded_web_assets().size());
}

// A page that links a file the binary does not carry is broken in a way no browser test may
// notice (a missing stylesheet); check every /static/ link and every relative module import.
TEST(WebAssets, EveryLinkedFileIsEmbedded) {
  const std::regex static_link(R"re(/static/([A-Za-z0-9_.-]+))re");
  const std::regex module_import(R"re(from '\./([A-Za-z0-9_.-]+)')re");
  std::size_t links = 0;
  for (const EmbeddedFile& file : embedded_web_assets()) {
    const std::string text(reinterpret_cast<const char*>(file.data), file.size);
    for (const auto& pattern : {static_link, module_import}) {
      for (std::sregex_iterator it(text.begin(), text.end(), pattern), end; it != end; ++it) {
        ++links;
        EXPECT_TRUE(find_web_asset((*it)[1].str())) << file.name << " links " << (*it)[1];
      }
    }
  }
  EXPECT_GE(links, 10u);
}

TEST(WebAssets, ContentTypeByExtension) {
  EXPECT_EQ(content_type_for("a.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("a.png"), "image/png");
  EXPECT_EQ(content_type_for("a.bin"), "application/octet-stream");
  EXPECT_EQ(content_type_for(".html"), "application/octet-stream");
}

// ---- page routes ----------------------------------------------------------------------------

class FakeUpstream {
 public:
  struct Call {
    io::HttpClient::Request request;
    io::HttpClient::Callback done;
  };

  DashboardApi::Upstream function() {
    return [this](io::HttpClient::Request request, io::HttpClient::Callback done) {
      calls.push_back({std::move(request), std::move(done)});
    };
  }

  // Completes call `index` with `status` and `body`.
  void answer(std::size_t index, unsigned status_code, std::string body) {
    io::HttpClient::Response response;
    response.status = status_code;
    response.body = std::move(body);
    calls.at(index).done(std::move(response));
  }

  std::vector<Call> calls;
};

class MediaServerPagesTest : public ::testing::Test {
 protected:
  MediaServerPagesTest() {
    DashboardApiOptions options;
    options.api_server_url = "http://api.test:3000/";
    options.api_key = std::make_shared<RotatingSecret>("the-api-key");
    options.admin_token = std::make_shared<RotatingSecret>("admin-token");
    options.recheck_interval = std::chrono::seconds(10);
    options.remembered_requests = 3;
    api_ = DashboardApi::create(options, upstream_.function(), [this] { return now_; });
    add_media_server_pages(router_, api_);
  }

  io::HttpRequest admin(verb method, std::string target, std::string body = "",
                        std::string token = "admin-token") {
    auto r = request(method, std::move(target), std::move(body));
    if (!token.empty()) {
      r.set(field::authorization, "Bearer " + token);
    }
    return r;
  }

  json::object json_of(const io::HttpResponse& response) {
    return json::parse(response.body()).as_object();
  }

  Instant now_{};
  FakeUpstream upstream_;
  std::shared_ptr<DashboardApi> api_;
  io::HttpRouter router_;
};

TEST_F(MediaServerPagesTest, RootIsTheDashboardWithRevalidationAndSecurityHeaders) {
  const auto response = send(router_, request(verb::get, "/"));
  EXPECT_EQ(response.result(), status::ok);
  EXPECT_EQ(response[field::content_type], "text/html; charset=utf-8");
  EXPECT_NE(response.body().find("/static/dashboard.js"), std::string::npos);
  EXPECT_EQ(response[field::cache_control], "no-cache");
  EXPECT_EQ(response[field::etag], find_web_asset("dashboard.html")->etag);
  EXPECT_EQ(response["X-Content-Type-Options"], "nosniff");
  EXPECT_NE(response["Content-Security-Policy"].find("script-src 'self'"), std::string::npos);
}

TEST_F(MediaServerPagesTest, PublishPageAndStaticFiles) {
  const auto publish = send(router_, request(verb::get, "/publish"));
  EXPECT_EQ(publish.result(), status::ok);
  EXPECT_NE(publish.body().find("/static/publish.js"), std::string::npos);
  const auto script = send(router_, request(verb::get, "/static/publish.js"));
  EXPECT_EQ(script.result(), status::ok);
  EXPECT_EQ(script[field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(script["Content-Security-Policy"], "");  // only HTML documents carry a policy
  EXPECT_EQ(send(router_, request(verb::get, "/static/missing.js")).result(), status::not_found);
  EXPECT_EQ(send(router_, request(verb::get, "/static/..%2Fsecret")).result(), status::not_found);
}

TEST_F(MediaServerPagesTest, MatchingIfNoneMatchIsA304WithoutBody) {
  const std::string etag(find_web_asset("webrtc.js")->etag);
  auto conditional = request(verb::get, "/static/webrtc.js");
  conditional.set(field::if_none_match, "\"other\", W/" + etag);
  const auto response = send(router_, conditional);
  EXPECT_EQ(response.result(), status::not_modified);
  EXPECT_TRUE(response.body().empty());
  EXPECT_EQ(response[field::etag], etag);

  conditional.set(field::if_none_match, "\"stale\"");
  EXPECT_EQ(send(router_, conditional).result(), status::ok);
}

TEST(StagePages, RootIsTheStagePageAndThereIsNoPublishPage) {
  io::HttpRouter router;
  add_stage_pages(router);
  const auto root = send(router, request(verb::get, "/"));
  EXPECT_EQ(root.result(), status::ok);
  EXPECT_NE(root.body().find("/static/stage.js"), std::string::npos);
  EXPECT_EQ(send(router, request(verb::get, "/static/stage.js")).result(), status::ok);
  EXPECT_EQ(send(router, request(verb::get, "/publish")).result(), status::not_found);
}

// ---- the dashboard's stage-button proxy -------------------------------------------------------

TEST_F(MediaServerPagesTest, AvailabilityIsUnknownUntilTheApiServerListsItsStages) {
  auto first = json_of(send(router_, request(verb::get, "/api/admin")));
  EXPECT_TRUE(first.at("available").is_null());
  ASSERT_EQ(upstream_.calls.size(), 1u);
  const auto& check = upstream_.calls[0].request;
  EXPECT_EQ(check.method, verb::get);
  EXPECT_EQ(check.url, "http://api.test:3000/api/stages");
  ASSERT_EQ(check.headers.size(), 1u);
  EXPECT_EQ(check.headers[0].first, "x-api-key");
  EXPECT_EQ(check.headers[0].second, "the-api-key");

  // While the check runs, asking again starts no second one.
  send(router_, request(verb::get, "/api/admin"));
  EXPECT_EQ(upstream_.calls.size(), 1u);

  upstream_.answer(0, 200,
                   R"({"stages":[{"id":"abc","stageArn":"arn:aws:ivs:r:1:stage/abc",)"
                   R"("name":"lobby","createdAt":"x"}]})");
  auto info = json_of(send(router_, request(verb::get, "/api/admin")));
  EXPECT_EQ(info.at("available"), true);
  EXPECT_EQ(info.at("enabled"), true);
  ASSERT_EQ(info.at("stages").as_array().size(), 1u);
  EXPECT_EQ(info.at("stages").as_array()[0].at("name"), "lobby");
  EXPECT_EQ(upstream_.calls.size(), 1u);  // fresh: no re-check yet

  now_ += std::chrono::seconds(10);
  send(router_, request(verb::get, "/api/admin"));
  EXPECT_EQ(upstream_.calls.size(), 2u);
}

TEST_F(MediaServerPagesTest, AnApiServerWithoutAdminRoutesOrUnreachableIsUnavailable) {
  send(router_, request(verb::get, "/api/admin"));
  upstream_.answer(0, 404, R"({"error":"not found"})");
  auto info = json_of(send(router_, request(verb::get, "/api/admin")));
  EXPECT_EQ(info.at("available"), false);
  EXPECT_NE(info.at("error").as_string().find("404"), std::string::npos);

  now_ += std::chrono::seconds(10);
  send(router_, request(verb::get, "/api/admin"));
  ASSERT_EQ(upstream_.calls.size(), 2u);
  upstream_.calls[1].done(make_error("connect: Connection refused"));
  info = json_of(send(router_, request(verb::get, "/api/admin")));
  EXPECT_EQ(info.at("available"), false);
  EXPECT_EQ(info.at("error"), "connect: Connection refused");
}

TEST_F(MediaServerPagesTest, CreateNeedsTheAdminTokenAndNeverEchoesIt) {
  auto missing = send(router_, admin(verb::post, "/api/admin/stages", "{}", ""));
  EXPECT_EQ(missing.result(), status::unauthorized);
  auto wrong = send(router_, admin(verb::post, "/api/admin/stages", "{}", "guess"));
  EXPECT_EQ(wrong.result(), status::unauthorized);
  EXPECT_EQ(wrong.body().find("guess"), std::string::npos);
  EXPECT_NE(wrong.body().find("wrong token"), std::string::npos);
  EXPECT_TRUE(upstream_.calls.empty());
}

TEST_F(MediaServerPagesTest, CreateIsForwardedAndItsOutcomePolled) {
  const auto accepted =
      send(router_, admin(verb::post, "/api/admin/stages", R"({"name":"extra","x":1})"));
  ASSERT_EQ(accepted.result(), status::accepted);
  const std::string id(json_of(accepted).at("requestId").as_string());
  EXPECT_EQ(accepted[field::location], "/api/admin/requests/" + id);

  ASSERT_EQ(upstream_.calls.size(), 1u);
  const auto& forwarded = upstream_.calls[0].request;
  EXPECT_EQ(forwarded.method, verb::post);
  EXPECT_EQ(forwarded.url, "http://api.test:3000/api/stages");
  EXPECT_EQ(forwarded.body, R"({"name":"extra"})");  // only the name is passed on
  EXPECT_EQ(forwarded.content_type, "application/json");
  EXPECT_EQ(forwarded.headers[0].second, "the-api-key");

  auto pending = json_of(send(router_, request(verb::get, "/api/admin/requests/" + id)));
  EXPECT_EQ(pending.at("done"), false);

  upstream_.answer(0, 201, R"({"id":"new1","name":"extra"})");
  auto done = json_of(send(router_, request(verb::get, "/api/admin/requests/" + id)));
  EXPECT_EQ(done.at("done"), true);
  EXPECT_EQ(done.at("status").to_number<int>(), 201);
  EXPECT_EQ(done.at("body").at("id"), "new1");
}

TEST_F(MediaServerPagesTest, CreateRefusesBodiesThatAreNotANameObject) {
  EXPECT_EQ(send(router_, admin(verb::post, "/api/admin/stages", "not json")).result(),
            status::bad_request);
  EXPECT_EQ(send(router_, admin(verb::post, "/api/admin/stages", R"({"name":5})")).result(),
            status::unprocessable_entity);
  EXPECT_EQ(send(router_, admin(verb::post, "/api/admin/stages", "")).result(), status::accepted);
  EXPECT_EQ(upstream_.calls.back().request.body, "{}");
}

TEST_F(MediaServerPagesTest, DeleteIsForwardedForValidIdsOnly) {
  EXPECT_EQ(send(router_, admin(verb::delete_, "/api/admin/stages/a%2Fb")).result(),
            status::bad_request);
  EXPECT_TRUE(upstream_.calls.empty());
  const auto accepted = send(router_, admin(verb::delete_, "/api/admin/stages/sVQ7k8q3shyE"));
  ASSERT_EQ(accepted.result(), status::accepted);
  ASSERT_EQ(upstream_.calls.size(), 1u);
  EXPECT_EQ(upstream_.calls[0].request.method, verb::delete_);
  EXPECT_EQ(upstream_.calls[0].request.url, "http://api.test:3000/api/stages/sVQ7k8q3shyE");
  EXPECT_TRUE(upstream_.calls[0].request.body.empty());

  upstream_.calls[0].done(make_error("POST ...: timed out after 5000 ms"));
  const std::string id(json_of(accepted).at("requestId").as_string());
  auto outcome = json_of(send(router_, request(verb::get, "/api/admin/requests/" + id)));
  EXPECT_EQ(outcome.at("done"), true);
  EXPECT_NE(outcome.at("error").as_string().find("timed out"), std::string::npos);
}

TEST_F(MediaServerPagesTest, OnlyTheLastFewOutcomesAreRemembered) {
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    auto accepted = send(router_, admin(verb::post, "/api/admin/stages", "{}"));
    ids.emplace_back(json_of(accepted).at("requestId").as_string());
  }
  EXPECT_EQ(send(router_, request(verb::get, "/api/admin/requests/" + ids[0])).result(),
            status::not_found);
  EXPECT_EQ(send(router_, request(verb::get, "/api/admin/requests/" + ids[3])).result(),
            status::ok);
  EXPECT_EQ(send(router_, request(verb::get, "/api/admin/requests/999")).result(),
            status::not_found);
  // An answer for a forgotten request is dropped quietly.
  upstream_.answer(0, 201, "{}");
}

TEST_F(MediaServerPagesTest, AnAnswerArrivingAfterTheProxyIsGoneIsIgnored) {
  send(router_, admin(verb::post, "/api/admin/stages", "{}"));
  router_ = io::HttpRouter{};
  api_.reset();
  upstream_.answer(0, 201, "{}");  // must not touch freed memory (ASan build checks)
  SUCCEED();
}

TEST(DashboardApi, WithoutAnAdminTokenTheButtonsAreDisabled) {
  FakeUpstream upstream;
  DashboardApiOptions options;
  options.api_server_url = "http://api.test";
  auto api = DashboardApi::create(options, upstream.function(), [] { return Instant{}; });
  io::HttpRouter router;
  add_media_server_pages(router, api);
  auto create = request(verb::post, "/api/admin/stages", "{}");
  create.set(field::authorization, "Bearer ");
  const auto refused = send(router, create);
  EXPECT_EQ(refused.result(), status::service_unavailable);
  EXPECT_NE(refused.body().find("WHIP_INGEST_TOKEN"), std::string::npos);
  auto info = json::parse(send(router, request(verb::get, "/api/admin")).body()).as_object();
  EXPECT_EQ(info.at("enabled"), false);
}

// Issue 14: with STAGE_SOURCE=ivs the stages are IVS's; the buttons say so instead of proxying
// to an API server that is not part of the deployment.
TEST(DashboardApi, ADisabledReasonTurnsTheButtonsOffWithoutAskingTheApiServer) {
  FakeUpstream upstream;
  DashboardApiOptions options;
  options.api_server_url = "http://api.test";
  options.admin_token = std::make_shared<RotatingSecret>("admin-token");
  options.disabled_reason = "STAGE_SOURCE=ivs";
  auto api = DashboardApi::create(options, upstream.function(), [] { return Instant{}; });
  io::HttpRouter router;
  add_media_server_pages(router, api);
  auto info = json::parse(send(router, request(verb::get, "/api/admin")).body()).as_object();
  EXPECT_EQ(info.at("enabled"), false);
  EXPECT_EQ(info.at("disabledReason"), "STAGE_SOURCE=ivs");
  auto create = request(verb::post, "/api/admin/stages", "{}");
  create.set(field::authorization, "Bearer admin-token");
  const auto refused = send(router, create);
  EXPECT_EQ(refused.result(), status::service_unavailable);
  EXPECT_NE(refused.body().find("STAGE_SOURCE=ivs"), std::string::npos);
  EXPECT_TRUE(upstream.calls.empty()) << "the API server is never asked";
}

TEST(DashboardApi, StageIdsAreLettersDigitsDashAndUnderscore) {
  EXPECT_TRUE(valid_stage_id("sVQ7k8q3shyE"));
  EXPECT_TRUE(valid_stage_id("stage-1_a"));
  EXPECT_FALSE(valid_stage_id(""));
  EXPECT_FALSE(valid_stage_id("a/b"));
  EXPECT_FALSE(valid_stage_id("a%2Fb"));
  EXPECT_FALSE(valid_stage_id(std::string(129, 'a')));
}

}  // namespace
}  // namespace ivs::app

#include <boost/asio/io_context.hpp>

#include "app/roles/config.hpp"
#include "app/roles/secret_reload.hpp"

namespace ivs::app {
namespace {

// Issue 13, item 12: with ADMIN_TOKEN set, the ingest token no longer opens the stage buttons
// (a publisher's OBS profile must not be able to delete stages); unset, it still does.
TEST(DashboardApi, AdminTokenReplacesTheIngestTokenWhenSet) {
  boost::asio::io_context io;
  const auto decide = [&](const Environment& environment, const std::string& token) {
    auto config = load_config(environment);
    EXPECT_TRUE(config);
    io::HttpRouter router;
    add_media_server_pages(router, io, *config, secrets_from_config(*config));
    io::HttpRequest request{verb::delete_, "/api/admin/stages/abc", 11};
    request.set(field::authorization, "Bearer " + token);
    return router.handle(request, {}).result();
  };
  const Environment both = {{"WHIP_INGEST_TOKEN", "ingest-token"},
                            {"ADMIN_TOKEN", "admin-token"},
                            {"API_SERVER_URL", "http://127.0.0.1:9"}};
  EXPECT_EQ(decide(both, "ingest-token"), status::unauthorized);
  EXPECT_EQ(decide(both, "admin-token"), status::accepted);
  const Environment ingest_only = {{"WHIP_INGEST_TOKEN", "ingest-token"},
                                   {"API_SERVER_URL", "http://127.0.0.1:9"}};
  EXPECT_EQ(decide(ingest_only, "ingest-token"), status::accepted);
}

}  // namespace
}  // namespace ivs::app
