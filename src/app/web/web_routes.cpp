#include "app/web/web_routes.hpp"

#include <boost/asio/io_context.hpp>

#include "app/aws/ivs_setup.hpp"
#include "app/roles/config.hpp"
#include "app/web/web_assets.hpp"
#include "io/clock.hpp"
#include "io/http_client.hpp"

namespace ivs::app {

namespace {

using io::http::field;
using io::http::status;

// Scripts and styles only from this origin; fetch() anywhere (the WHIP URL is a form field).
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src *; media-src 'self' blob: mediastream:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'";

// True when an If-None-Match list ("a", W/"b", or *) names `etag` (RFC 9110 §13.1.2: weak
// comparison).
bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match.find('*') != std::string_view::npos) {
    return true;
  }
  std::size_t start = 0;
  while (start < if_none_match.size()) {
    std::size_t end = if_none_match.find(',', start);
    if (end == std::string_view::npos) {
      end = if_none_match.size();
    }
    std::string_view item = if_none_match.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
      item.remove_suffix(1);
    }
    if (item.starts_with("W/")) {
      item.remove_prefix(2);
    }
    if (item == etag) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

io::HttpRouter::Handler page(std::string name) {
  return [name = std::move(name)](const io::HttpRequest& request, const io::RequestContext&) {
    return web_asset_response(request, name);
  };
}

io::HttpResponse static_file(const io::HttpRequest& request, const io::RequestContext& context) {
  return web_asset_response(request, context.path_param("file"));
}

}  // namespace

io::HttpResponse web_asset_response(const io::HttpRequest& request, std::string_view name) {
  const auto asset = find_web_asset(name);
  if (!asset) {
    return io::json_error(status::not_found, "no such file");
  }
  io::HttpResponse response;
  const auto if_none_match = request.find(field::if_none_match);
  if (if_none_match != request.end() && etag_matches(if_none_match->value(), asset->etag)) {
    response = io::HttpResponse(status::not_modified, request.version());
  } else {
    response = io::text_response(status::ok, std::string(asset->bytes), asset->content_type,
                                 request.version());
  }
  response.set(field::etag, asset->etag);
  response.set(field::cache_control, "no-cache");
  response.set("X-Content-Type-Options", "nosniff");
  if (name.ends_with(".html")) {
    response.set("Content-Security-Policy", kContentSecurityPolicy);
    response.set("Referrer-Policy", "no-referrer");
  }
  return response;
}

void add_media_server_pages(io::HttpRouter& router,
                            const std::shared_ptr<DashboardApi>& dashboard_api,
                            const std::shared_ptr<AuthGuard>& guard) {
  router.get("/", page("dashboard.html"));
  router.get("/publish", page("publish.html"));
  router.get("/static/{file}", static_file);
  add_dashboard_api_routes(router, dashboard_api, guard);
}

void add_media_server_pages(io::HttpRouter& router, boost::asio::io_context& io,
                            const Config& config, const ServerSecrets& secrets,
                            const std::shared_ptr<AuthGuard>& guard) {
  // The proxy's own client: shared by its handlers, alive as long as the router holds them.
  auto client = std::make_shared<io::HttpClient>(io);
  DashboardApiOptions options;
  options.api_server_url = config.api_server_url;
  options.api_key = secrets.api_key;
  // ADMIN_TOKEN keeps stage deletion away from whoever only holds the ingest token (an OBS
  // profile); unset, the ingest token still works, as before (secret_reload.hpp).
  options.admin_token = secrets.admin_token;
  if (aws::stage_source_is_ivs(config)) {
    options.disabled_reason =
        "STAGE_SOURCE=ivs: the stages are those of IVS Real-Time; create and tag them in the "
        "IVS console or API (docs/ivs-direct.md)";
  }
  options.request_timeout = std::min(config.api_request_timeout, std::chrono::milliseconds(5000));
  auto upstream = [client](io::HttpClient::Request request, io::HttpClient::Callback done) {
    client->request(std::move(request), std::move(done));
  };
  add_media_server_pages(router,
                         DashboardApi::create(std::move(options), std::move(upstream),
                                              [] { return io::monotonic_now(); }),
                         guard);
}

void add_stage_pages(io::HttpRouter& router) {
  router.get("/", page("stage.html"));
  router.get("/static/{file}", static_file);
}

}  // namespace ivs::app
