// Asynchronous HTTP/1.1 client (RFC 9112 via Boost.Beast) over http:// and https:// for the
// control plane (API server calls) and WHIP egress (POST offer to IVS, which answers
// 307 -> regional endpoint).
//
// Behaviour, documented in docs/http.md:
// - TLS: system CA store (set_default_verify_paths), SNI, host name verification; verification
//   is always on. Tests inject their own CA through the ssl::context constructor.
// - One total deadline per request() covering DNS, connect, TLS, write, read and all redirect
//   hops: "GET http://h/x: timed out after 5000 ms".
// - Redirects 301/302/303/307/308 are followed up to Request::max_redirects. 307/308 re-send
//   the method and body; 301/302/303 turn a POST into a GET without body (the browser rule,
//   RFC 9110 §15.4). A relative Location is resolved against the current URL. Exceeding the
//   limit -> "redirect loop". Secrets on redirects (detail::decide_redirect): https never
//   redirects to http (the request fails); secret headers (Authorization, x-api-key,
//   x-media-auth, Cookie) stay within one origin, and cross to another only over https and only
//   when Request::cross_origin_secrets allows it (WHIP egress: IVS's 307 from its global host
//   to a regional one needs the bearer; API server calls: never).
// - URLs in error messages are redacted (io/redact.hpp): no userinfo, no query values.
// - The response body is bounded (Request::max_response_bytes) so a hostile peer can't exhaust
//   memory. One connection per request (no pooling): control-plane rates are low.
// - Errors carry context: "POST http://127.0.0.1:3000/api/media/register: connect: Connection
//   refused". Any HTTP status is a successful Result; callers judge the status.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/http_types.hpp"
#include "proto/result.hpp"

namespace boost::asio {
class io_context;
}
namespace boost::asio::ssl {
class context;
}

namespace ivs::io {

class HttpClient {
 public:
  struct Request {
    http::verb method = http::verb::get;
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string content_type;  // sets Content-Type when non-empty
    std::chrono::milliseconds timeout{10000};
    int max_redirects = 5;
    // Whether secret headers may follow a redirect to another origin (see above).
    bool secrets_cross_origin_over_https = true;
    std::size_t max_response_bytes = std::size_t{4} * 1024 * 1024;
  };

  struct Response {
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
    std::string body;
    std::string final_url;  // after redirects

    // The first header called `name` (case-insensitive), if any.
    std::optional<std::string> header(std::string_view name) const;
    // Every header called `name`, in order (e.g. several Link headers).
    std::vector<std::string> headers_named(std::string_view name) const;
  };

  using Callback = std::function<void(Result<Response>)>;

  // Uses a TLS context with the system CA store and verification on.
  explicit HttpClient(boost::asio::io_context& io);
  // Uses the given TLS context (tests load their own CA into it). Verification is still forced
  // on per connection.
  HttpClient(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls);
  ~HttpClient();

  // Starts the request; `done` is called exactly once, on the io_context, never from inside
  // request() itself. Requests in flight keep running if the HttpClient is destroyed.
  void request(Request request, Callback done);

  // A TLS client context with the system CA store and peer verification on.
  static std::shared_ptr<boost::asio::ssl::context> make_default_tls_context();

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
};

}  // namespace ivs::io
