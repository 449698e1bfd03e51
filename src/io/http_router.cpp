#include "io/http_router.hpp"

#include <algorithm>

namespace ivs::io {
namespace {

// Splits "/a/b/" into {"a", "b", ""}: a trailing slash is a distinct (empty) segment, so
// "/whip" and "/whip/" are different resources, as in the URL they came from.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  if (!path.empty() && path.front() == '/') {
    path.remove_prefix(1);
  }
  while (true) {
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool is_param(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// Matches `path` against a route's segments; fills `params` on success.
bool match(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path,
           std::map<std::string, std::string, std::less<>>* params) {
  if (pattern.size() != path.size()) {
    return false;
  }
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (is_param(pattern[i])) {
      if (path[i].empty()) {
        return false;
      }
      if (params != nullptr) {
        (*params)[pattern[i].substr(1, pattern[i].size() - 2)] = std::string(path[i]);
      }
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

void add_cors_headers(HttpResponse& response, const CorsOptions& cors,
                      std::string_view allow_methods, std::string_view origin) {
  if (cors.allowed_origins.empty()) {
    response.set(http::field::access_control_allow_origin, cors.allow_origin);
  } else {
    response.set(http::field::vary, "Origin");
    if (std::find(cors.allowed_origins.begin(), cors.allowed_origins.end(), origin) !=
        cors.allowed_origins.end()) {
      response.set(http::field::access_control_allow_origin, origin);
    }
  }
  response.set(http::field::access_control_allow_headers, cors.allow_headers);
  response.set(http::field::access_control_allow_methods, allow_methods);
  response.set(http::field::access_control_expose_headers, cors.expose_headers);
  response.set(http::field::access_control_max_age, cors.max_age_seconds);
}

HttpRouter& HttpRouter::add(http::verb method, const std::string& pattern, Handler handler) {
  std::vector<std::string> segments;
  for (const auto segment : split_path(pattern)) {
    segments.emplace_back(segment);
  }
  // Later duplicates win: drop an earlier identical route.
  std::erase_if(routes_, [&](const Route& route) {
    return route.method == method && route.segments == segments;
  });
  routes_.push_back(Route{method, std::move(segments), std::move(handler)});
  return *this;
}

HttpRouter& HttpRouter::header_check(http::verb method, const std::string& pattern,
                                     HeaderCheck check) {
  std::vector<std::string> segments;
  for (const auto segment : split_path(pattern)) {
    segments.emplace_back(segment);
  }
  std::erase_if(checks_, [&](const Check& existing) {
    return existing.method == method && existing.segments == segments;
  });
  checks_.push_back(Check{method, std::move(segments), std::move(check)});
  return *this;
}

std::optional<HttpResponse> HttpRouter::check_header(const HttpRequest& request,
                                                     const RequestContext& context) const {
  if (checks_.empty()) {
    return std::nullopt;
  }
  const auto path = split_path(request_path(request));
  for (auto it = checks_.rbegin(); it != checks_.rend(); ++it) {
    if (it->method != request.method() || !match(it->segments, path, nullptr)) {
      continue;
    }
    RequestContext routed = context;
    match(it->segments, path, &routed.path_params);
    auto answer = it->check(request, routed);
    if (answer) {
      decorate(*answer, allowed_methods(path), request[http::field::origin]);
    }
    return answer;
  }
  return std::nullopt;
}

HttpRouter::HeaderCheck HttpRouter::as_header_check() const {
  return [router = *this](const HttpRequest& request, const RequestContext& context) {
    return router.check_header(request, context);
  };
}

HttpRouter& HttpRouter::get(const std::string& pattern, Handler handler) {
  return add(http::verb::get, pattern, std::move(handler));
}
HttpRouter& HttpRouter::post(const std::string& pattern, Handler handler) {
  return add(http::verb::post, pattern, std::move(handler));
}
HttpRouter& HttpRouter::del(const std::string& pattern, Handler handler) {
  return add(http::verb::delete_, pattern, std::move(handler));
}

HttpRouter& HttpRouter::enable_cors(CorsOptions cors) {
  cors_enabled_ = true;
  cors_ = std::move(cors);
  return *this;
}

std::string HttpRouter::allowed_methods(const std::vector<std::string_view>& path) const {
  std::vector<http::verb> methods;
  for (const auto& route : routes_) {
    if (match(route.segments, path, nullptr)) {
      methods.push_back(route.method);
      if (route.method == http::verb::get) {
        methods.push_back(http::verb::head);
      }
    }
  }
  if (methods.empty()) {
    return {};
  }
  if (cors_enabled_) {
    methods.push_back(http::verb::options);
  }
  std::sort(methods.begin(), methods.end());
  methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
  std::string joined;
  for (const auto method : methods) {
    if (!joined.empty()) {
      joined += ", ";
    }
    joined += http::to_string(method);
  }
  return joined;
}

void HttpRouter::decorate(HttpResponse& response, std::string_view allow_methods,
                          std::string_view origin) const {
  if (cors_enabled_) {
    add_cors_headers(response, cors_, allow_methods, origin);
  }
}

HttpResponse HttpRouter::handle(const HttpRequest& request, const RequestContext& context) const {
  const auto path = split_path(request_path(request));
  const std::string allow = allowed_methods(path);
  const auto version = request.version();
  if (allow.empty()) {
    auto response = json_error(http::status::not_found, "no such resource", version);
    decorate(response, "GET, POST, OPTIONS", request[http::field::origin]);
    return response;
  }
  const auto find_route = [&](http::verb method) -> const Route* {
    // Search backwards so that, among patterns that both match, the later one wins.
    for (auto it = routes_.rbegin(); it != routes_.rend(); ++it) {
      if (it->method == method && match(it->segments, path, nullptr)) {
        return &*it;
      }
    }
    return nullptr;
  };
  const Route* route = find_route(request.method());
  if (route == nullptr && request.method() == http::verb::head) {
    route = find_route(http::verb::get);
  }
  if (route == nullptr) {
    HttpResponse response;
    if (request.method() == http::verb::options && cors_enabled_) {
      response = HttpResponse{http::status::no_content, version};
    } else {
      response =
          json_error(http::status::method_not_allowed,
                     "method " + std::string(request.method_string()) + " not allowed", version);
    }
    response.set(http::field::allow, allow);
    decorate(response, allow, request[http::field::origin]);
    return response;
  }
  RequestContext routed = context;
  match(route->segments, path, &routed.path_params);
  auto response = route->handler(request, routed);
  decorate(response, allow, request[http::field::origin]);
  return response;
}

HttpRouter::Handler HttpRouter::as_handler() const {
  return [router = *this](const HttpRequest& request, const RequestContext& context) {
    return router.handle(request, context);
  };
}

}  // namespace ivs::io
