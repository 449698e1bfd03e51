#include "io/client_support.hpp"

#include <openssl/x509v3.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

#include "io/redact.hpp"

namespace ivs::io::detail {

Result<ClientEndpoint> parse_client_url(std::string_view url, std::string_view plain_scheme,
                                        std::string_view tls_scheme) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return make_error("invalid URL \"" + redact_url(url) + "\": " + parsed.error().message());
  }
  const auto& view = *parsed;
  ClientEndpoint endpoint;
  const std::string scheme = view.scheme();
  if (scheme == tls_scheme) {
    endpoint.tls = true;
  } else if (scheme != plain_scheme) {
    return make_error("unsupported URL scheme \"" + scheme + "\" in \"" + redact_url(url) + "\"");
  }
  endpoint.host = view.host_address();
  if (endpoint.host.empty()) {
    return make_error("URL without host: \"" + redact_url(url) + "\"");
  }
  endpoint.port = view.has_port() ? std::string(view.port()) : (endpoint.tls ? "443" : "80");
  endpoint.host_header = view.encoded_host_and_port();
  endpoint.target = view.encoded_target();
  if (endpoint.target.empty() || endpoint.target.front() != '/') {
    endpoint.target.insert(0, "/");
  }
  return endpoint;
}

Result<std::string> resolve_location(std::string_view base, std::string_view location) {
  const auto reference = boost::urls::parse_uri_reference(location);
  if (!reference) {
    return make_error("invalid Location \"" + redact_url(location) + "\"");
  }
  const auto base_view = boost::urls::parse_uri(base);
  if (!base_view) {
    return make_error("invalid URL \"" + redact_url(base) + "\"");
  }
  boost::urls::url resolved(*base_view);
  const auto outcome = resolved.resolve(*reference);
  if (!outcome) {
    return make_error("cannot resolve Location \"" + redact_url(location) + "\"");
  }
  resolved.remove_fragment();
  return std::string(resolved.buffer());
}

bool is_secret_header(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower == "authorization" || lower == "proxy-authorization" || lower == "cookie" ||
         lower == "x-api-key" || lower == "x-media-auth";
}

namespace {

// scheme://host:port with the scheme's default port filled in; nullopt for a URL we cannot
// parse (such a hop fails later in parse_client_url with its own message).
struct Origin {
  std::string scheme;
  std::string host;
  std::string port;
  bool operator==(const Origin&) const = default;
};

std::optional<Origin> origin_of(std::string_view url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return std::nullopt;
  }
  Origin origin;
  origin.scheme = parsed->scheme();
  std::transform(origin.scheme.begin(), origin.scheme.end(), origin.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  origin.host = parsed->host_address();
  std::transform(origin.host.begin(), origin.host.end(), origin.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const bool tls = origin.scheme == "https" || origin.scheme == "wss";
  origin.port = parsed->has_port() ? std::string(parsed->port()) : (tls ? "443" : "80");
  return origin;
}

}  // namespace

RedirectDecision decide_redirect(std::string_view from_url, std::string_view to_url,
                                 CrossOriginSecrets policy) {
  const auto from = origin_of(from_url);
  const auto to = origin_of(to_url);
  if (!from || !to) {
    return {false, false, "cannot follow the redirect to \"" + redact_url(to_url) + "\""};
  }
  if (from->scheme == "https" && to->scheme != "https") {
    return {false, false,
            "refusing a redirect from https to " + to->scheme + " (\"" + redact_url(to_url) +
                "\"): it would send the request unencrypted"};
  }
  if (*from == *to) {
    return {true, true, {}};
  }
  const bool keep = policy == CrossOriginSecrets::https_only && to->scheme == "https";
  return {true, keep, {}};
}

Status configure_tls_client(SSL* ssl, const std::string& host) {
  boost::system::error_code not_ip;
  boost::asio::ip::make_address(host, not_ip);
  const bool is_ip = !not_ip;
  // RFC 6066 §3: SNI carries host names only, never IP literals.
  if (!is_ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    return make_error("TLS: cannot set SNI for " + host);
  }
  SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int set = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                        : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  if (set != 1) {
    return make_error("TLS: cannot set the expected peer name " + host);
  }
  return Ok{};
}

std::shared_ptr<boost::asio::ssl::context> make_default_client_tls_context() {
  auto context = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  boost::system::error_code ignored;  // no system store -> every handshake fails verification
  context->set_default_verify_paths(ignored);
  context->set_verify_mode(boost::asio::ssl::verify_peer, ignored);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  return context;
}

std::string tls_error_text(SSL* ssl, std::string_view asio_message) {
  std::string text(asio_message);
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    text += " (";
    text += X509_verify_cert_error_string(verify);
    text += ")";
  }
  return text;
}

}  // namespace ivs::io::detail
