// Shared HTTP value types for the io/ layer (RFC 9110 semantics, RFC 9112 framing via Beast).
// Handlers everywhere are pure functions from HttpRequest (+ RequestContext) to HttpResponse, so
// route logic is tested without sockets; only http_server.cpp and http_client.cpp touch the
// network. JSON helpers live here because every control-plane answer, including errors, is JSON:
// `{"error": "..."}` with the matching status.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

namespace ivs::io {

namespace http = boost::beast::http;

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// What a handler may know about a request besides its bytes.
struct RequestContext {
  // The peer's address (for logs and rate limits; never for authentication).
  boost::asio::ip::tcp::endpoint remote;
  // "http://host:port" (or https) taken from the Host header, falling back to the listener's
  // address; handlers build absolute Location values from it (WHIP requires one).
  std::string scheme_host;
  // Values of `{name}` segments matched by HttpRouter; empty when no router is involved.
  std::map<std::string, std::string, std::less<>> path_params;

  // The value of path parameter `name`, or "" when absent.
  std::string path_param(std::string_view name) const;
};

// A response with Content-Type application/json and the body as given (already serialized).
HttpResponse json_response(http::status status, std::string body_json, unsigned version = 11);

// {"error": "<message>"} with the given status; the message is JSON-escaped here.
HttpResponse json_error(http::status status, std::string_view message, unsigned version = 11);

// A response with an arbitrary body and Content-Type (SDP answers, Prometheus text, HTML).
HttpResponse text_response(http::status status, std::string body, std::string_view content_type,
                           unsigned version = 11);

// The path of the request target without the query string ("/whip/abc?x=1" -> "/whip/abc").
std::string_view request_path(const HttpRequest& request);

// The percent-decoded value of query parameter `name` in the request target, if present
// ("/ws?type=media-server" -> query_param(req, "type") == "media-server").
std::optional<std::string> query_param(const HttpRequest& request, std::string_view name);

}  // namespace ivs::io
