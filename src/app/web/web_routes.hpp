// Routes for the pages the binaries serve themselves (issue 5, DESIGN.md §2.2 `GET /`):
//   media server: GET /          dashboard.html (live status, stage buttons)
//                 GET /publish   publish.html (WHIP from the browser)
//                 GET /static/{file}  the pages' scripts and styles
//                 + the dashboard's admin proxy (app/web/dashboard_api.hpp)
//   stage role:   GET /          stage.html (every stage's video over WHEP)
//                 GET /static/{file}
// Every answer carries an ETag and `Cache-Control: no-cache` (revalidate; 304 on a matching
// If-None-Match), `X-Content-Type-Options: nosniff`, and the HTML a Content-Security-Policy
// that allows only our own scripts (the pages have no inline script) while letting /publish
// fetch a WHIP URL on another origin.
#pragma once

#include <memory>
#include <string_view>

#include "app/web/dashboard_api.hpp"
#include "io/http_router.hpp"
#include "io/http_types.hpp"

namespace boost::asio {
class io_context;
}

namespace ivs::app {

struct Config;

// The response for an embedded file: 200 with the bytes, 304 when If-None-Match names its
// ETag, 404 JSON when there is no such file.
io::HttpResponse web_asset_response(const io::HttpRequest& request, std::string_view name);

// The media server's pages and the stage buttons' proxy to config.api_server_url (with
// secrets.api_key; the buttons need secrets.admin_token). `io` must outlive the
// router's handlers' use (the proxy's HTTP client runs on it).
void add_media_server_pages(io::HttpRouter& router, boost::asio::io_context& io,
                            const Config& config, const ServerSecrets& secrets,
                            const std::shared_ptr<AuthGuard>& guard = nullptr);
// The same with a ready-made proxy (tests inject a fake upstream).
void add_media_server_pages(io::HttpRouter& router,
                            const std::shared_ptr<DashboardApi>& dashboard_api,
                            const std::shared_ptr<AuthGuard>& guard = nullptr);

// The stage role's page.
void add_stage_pages(io::HttpRouter& router);

}  // namespace ivs::app
