// A small router for HttpServer handlers: method + path pattern -> handler, where a pattern
// segment `{name}` matches one non-empty path segment and is handed to the handler through
// RequestContext::path_params. Unknown path -> 404 JSON; known path, wrong method -> 405 JSON
// with Allow (RFC 9110 §15.5.6). HEAD falls back to the GET route (the server drops the body).
//
// CORS (Fetch standard): when enabled, every response gets Access-Control-Allow-Origin,
// -Allow-Headers, -Allow-Methods and Access-Control-Expose-Headers (Location, Link, ETag are
// what WHIP/WHEP browser clients must read), and an OPTIONS request on a known path without its
// own OPTIONS route is answered 204 with Allow listing the path's methods (preflight).
//
// Header checks: `header_check(method, pattern, check)` attaches a check that the server runs
// once a matching request's header is complete and before its body is read (HttpServer::
// Options::header_check = router.as_header_check()). Credentials and Content-Length are
// checked there, so an unauthenticated body is never buffered (docs/security.md).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/http_server.hpp"
#include "io/http_types.hpp"

namespace ivs::io {

struct CorsOptions {
  // "*", or (when `allowed_origins` is not empty) ignored: the request's Origin is echoed when
  // it is listed (with Vary: Origin), and no Access-Control-Allow-Origin is sent otherwise, so a
  // page on another origin cannot read the answer (CORS_ALLOW_ORIGINS).
  std::string allow_origin = "*";
  std::vector<std::string> allowed_origins;
  std::string allow_headers = "Authorization, Content-Type, If-Match, x-api-key, x-media-auth";
  std::string expose_headers = "Location, Link, ETag, Accept-Patch, Accept-Post";
  std::string max_age_seconds = "86400";
};

// Adds the CORS response headers; `allow_methods` is e.g. "GET, POST, OPTIONS"; `origin` is the
// request's Origin header ("" when absent).
void add_cors_headers(HttpResponse& response, const CorsOptions& cors,
                      std::string_view allow_methods, std::string_view origin = {});

class HttpRouter {
 public:
  using Handler = HttpServer::Handler;

  // Registers `handler` for `method` on `pattern` ("/whip/{id}"). Later duplicates win.
  HttpRouter& add(http::verb method, const std::string& pattern, Handler handler);
  HttpRouter& get(const std::string& pattern, Handler handler);
  HttpRouter& post(const std::string& pattern, Handler handler);
  HttpRouter& del(const std::string& pattern, Handler handler);

  using HeaderCheck =
      std::function<std::optional<HttpResponse>(const HttpRequest&, const RequestContext&)>;
  // Attaches `check` to requests matching `method` and `pattern` (path parameters are filled
  // in the context it gets). Later duplicates win.
  HttpRouter& header_check(http::verb method, const std::string& pattern, HeaderCheck check);
  // The answer of the check matching `request`, or nullopt (no check, or it let it through).
  // A CORS-enabled router decorates the answer like any other.
  std::optional<HttpResponse> check_header(const HttpRequest& request,
                                           const RequestContext& context) const;
  // A copy of this router's checks as an HttpServer::Options::header_check.
  HeaderCheck as_header_check() const;

  // Turns on CORS headers and automatic OPTIONS preflight answers.
  HttpRouter& enable_cors(CorsOptions cors = {});

  // Dispatches; never throws by itself (a throwing handler's exception propagates to the server,
  // which turns it into a 500).
  HttpResponse handle(const HttpRequest& request, const RequestContext& context) const;

  // A copy of this router as an HttpServer::Handler.
  Handler as_handler() const;

 private:
  struct Route {
    http::verb method;
    std::vector<std::string> segments;
    Handler handler;
  };
  // "GET, POST, OPTIONS" for the routes matching `path`, "" if none.
  std::string allowed_methods(const std::vector<std::string_view>& path) const;
  void decorate(HttpResponse& response, std::string_view allow_methods,
                std::string_view origin) const;

  struct Check {
    http::verb method;
    std::vector<std::string> segments;
    HeaderCheck check;
  };

  std::vector<Route> routes_;
  std::vector<Check> checks_;
  bool cors_enabled_ = false;
  CorsOptions cors_;
};

}  // namespace ivs::io
