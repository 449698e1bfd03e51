// Internal to http_client.cpp and websocket_client.cpp: URL splitting and TLS client setup that
// both clients share, so the TLS rules (system CAs, SNI, host name verification always on) are
// written once. Not for use outside io/.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/ssl.h>

#include "proto/result.hpp"

namespace boost::asio::ssl {
class context;
}

namespace ivs::io::detail {

// The parts of an absolute http(s)/ws(s) URL a client needs.
struct ClientEndpoint {
  bool tls = false;
  std::string host;         // for DNS, SNI and certificate checks; IPv6 without brackets
  std::string port;         // explicit or the scheme's default
  std::string host_header;  // "host" or "host:port" as written in the URL
  std::string target;       // path and query, at least "/"
};

// Accepts `plain_scheme` ("http"/"ws") and `tls_scheme` ("https"/"wss"); anything else is an
// error naming the URL.
Result<ClientEndpoint> parse_client_url(std::string_view url, std::string_view plain_scheme,
                                        std::string_view tls_scheme);

// Resolves `location` (absolute or relative, RFC 3986 §5) against `base`.
Result<std::string> resolve_location(std::string_view base, std::string_view location);

// Headers that carry credentials: Authorization, Proxy-Authorization, Cookie, x-api-key,
// x-media-auth (case-insensitive).
bool is_secret_header(std::string_view name);

// Where a redirect may take a request's secret headers (HttpClient::Request::cross_origin).
enum class CrossOriginSecrets {
  // Re-sent to another origin only when the new URL is https (IVS answers a WHIP POST to its
  // global host with a 307 to a regional host, which needs the bearer token).
  https_only,
  // Never re-sent to another origin (the API server's x-api-key and x-media-auth).
  never,
};

struct RedirectDecision {
  bool follow = false;        // false: the request fails with `refusal`
  bool keep_secrets = false;  // false: secret headers are dropped before the next hop
  std::string refusal;
};

// The redirect policy (docs/http.md "Redirects"): an https URL never redirects to http (the
// request fails: a downgrade would expose the body and any secret); within one origin (scheme,
// host, port) secrets are kept; across origins they follow `policy`.
RedirectDecision decide_redirect(std::string_view from_url, std::string_view to_url,
                                 CrossOriginSecrets policy);

// Sets SNI (for names, not IP literals), peer verification and the expected host name or IP on
// one TLS connection, regardless of how the context was configured.
Status configure_tls_client(SSL* ssl, const std::string& host);

// A TLS client context using the system CA store, peer verification on.
std::shared_ptr<boost::asio::ssl::context> make_default_client_tls_context();

// A readable description of a TLS error, including the certificate verification result when
// that is what failed ("certificate verify failed (self-signed certificate)").
std::string tls_error_text(SSL* ssl, std::string_view asio_message);

}  // namespace ivs::io::detail
