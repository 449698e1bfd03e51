// One Exchange per request(): resolve -> connect -> [TLS handshake] -> write -> read, repeated
// per redirect hop, under one deadline timer that covers everything (see http_client.hpp).
#include "io/http_client.hpp"

#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <spdlog/spdlog.h>

#include "io/client_support.hpp"
#include "io/redact.hpp"

namespace ivs::io {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::uint32_t kMaxResponseHeaderBytes = 64 * 1024;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls_context,
           HttpClient::Request request, HttpClient::Callback done)
      : io_(io),
        tls_context_(std::move(tls_context)),
        request_(std::move(request)),
        done_(std::move(done)),
        current_url_(request_.url),
        resolver_(io),
        deadline_(io) {}

  void start() {
    deadline_.expires_after(request_.timeout);
    deadline_.async_wait([weak = weak_from_this()](error_code error) {
      if (auto self = weak.lock(); self && !error) {
        self->on_deadline();
      }
    });
    asio::post(io_, [self = shared_from_this()] { self->start_hop(); });
  }

 private:
  template <class Function>
  void with_stream(Function&& function) {
    if (tls_) {
      function(*tls_);
    } else {
      function(*tcp_);
    }
  }

  std::string context() const {
    return std::string(http::to_string(request_.method)) + " " + redact_url(current_url_);
  }

  void on_deadline() {
    timed_out_ = true;
    finish(make_error(context() + ": timed out after " + std::to_string(request_.timeout.count()) +
                      " ms"));
  }

  void start_hop() {
    if (!done_) {
      return;
    }
    auto endpoint = detail::parse_client_url(current_url_, "http", "https");
    if (!endpoint) {
      return finish(make_error(context() + ": " + endpoint.error().message));
    }
    endpoint_ = std::move(*endpoint);
    tls_.reset();
    tcp_.emplace(io_);
    resolver_.async_resolve(
        endpoint_.host, endpoint_.port,
        [self = shared_from_this()](error_code error, const tcp::resolver::results_type& results) {
          if (error) {
            return self->fail("resolve " + self->endpoint_.host, error);
          }
          self->connect(results);
        });
  }

  void connect(const tcp::resolver::results_type& results) {
    tcp_->async_connect(results,
                        [self = shared_from_this()](error_code error, const tcp::endpoint&) {
                          if (error) {
                            return self->fail("connect", error);
                          }
                          if (!self->endpoint_.tls) {
                            return self->write_request();
                          }
                          self->handshake();
                        });
  }

  void handshake() {
    if (!tls_context_) {
      tls_context_ = detail::make_default_client_tls_context();
    }
    tls_.emplace(std::move(*tcp_), *tls_context_);
    if (auto configured = detail::configure_tls_client(tls_->native_handle(), endpoint_.host);
        !configured) {
      return finish(make_error(context() + ": " + configured.error().message));
    }
    tls_->async_handshake(asio::ssl::stream_base::client, [self = shared_from_this()](
                                                              error_code error) {
      if (error) {
        return self->fail_text(
            "TLS handshake", detail::tls_error_text(self->tls_->native_handle(), error.message()));
      }
      self->write_request();
    });
  }

  void write_request() {
    wire_request_ = {};
    wire_request_.method(request_.method);
    wire_request_.target(endpoint_.target);
    wire_request_.version(11);
    wire_request_.set(http::field::host, endpoint_.host_header);
    wire_request_.set(http::field::user_agent, "ivs-media-server");
    wire_request_.set(http::field::connection, "close");
    for (const auto& [name, value] : request_.headers) {
      wire_request_.set(name, value);
    }
    if (!request_.content_type.empty()) {
      wire_request_.set(http::field::content_type, request_.content_type);
    }
    wire_request_.body() = request_.body;
    wire_request_.prepare_payload();
    with_stream([this](auto& stream) {
      http::async_write(stream, wire_request_,
                        [self = shared_from_this()](error_code error, std::size_t) {
                          if (error) {
                            return self->fail("write", error);
                          }
                          self->read_response();
                        });
    });
  }

  void read_response() {
    buffer_.clear();
    parser_.emplace();
    parser_->header_limit(kMaxResponseHeaderBytes);
    parser_->body_limit(request_.max_response_bytes);
    parser_->skip(request_.method == http::verb::head);
    with_stream([this](auto& stream) {
      http::async_read(
          stream, buffer_, *parser_, [self = shared_from_this()](error_code error, std::size_t) {
            if (error == http::error::body_limit) {
              return self->fail_text("read", "response body larger than " +
                                                 std::to_string(self->request_.max_response_bytes) +
                                                 " bytes");
            }
            if (error) {
              return self->fail("read", error);
            }
            self->on_response();
          });
    });
  }

  void on_response() {
    auto message = parser_->release();
    const unsigned status = message.result_int();
    const auto location = message[http::field::location];
    if (is_redirect(status) && !location.empty()) {
      return follow(status, location);
    }
    HttpClient::Response response;
    response.status = status;
    for (const auto& field : message) {
      response.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(message.body());
    response.final_url = current_url_;
    finish(std::move(response));
  }

  void follow(unsigned status, std::string_view location) {
    if (redirects_ >= request_.max_redirects) {
      return finish(make_error(context() + ": redirect loop (more than " +
                               std::to_string(request_.max_redirects) + " redirects)"));
    }
    auto next = detail::resolve_location(current_url_, location);
    if (!next) {
      return finish(make_error(context() + ": " + next.error().message));
    }
    const auto decision = detail::decide_redirect(current_url_, *next,
                                                  request_.secrets_cross_origin_over_https
                                                      ? detail::CrossOriginSecrets::https_only
                                                      : detail::CrossOriginSecrets::never);
    if (!decision.follow) {
      return finish(make_error(context() + ": " + decision.refusal));
    }
    if (!decision.keep_secrets) {
      const auto before = request_.headers.size();
      std::erase_if(request_.headers,
                    [](const auto& header) { return detail::is_secret_header(header.first); });
      if (request_.headers.size() != before) {
        spdlog::debug("http client: {} redirected to another origin ({}); credentials not re-sent",
                      context(), redact_url(*next));
      }
    }
    ++redirects_;
    // RFC 9110 §15.4: 303 (and, as every browser does, 301/302 after POST) continue with a GET
    // without body; 307/308 repeat the request (secrets only as decided above).
    const bool to_get = (status == 303 && request_.method != http::verb::head) ||
                        ((status == 301 || status == 302) && request_.method == http::verb::post);
    if (to_get) {
      request_.method = http::verb::get;
      request_.body.clear();
      request_.content_type.clear();
      std::erase_if(request_.headers, [](const auto& header) {
        return beast::iequals(header.first, "content-type") ||
               beast::iequals(header.first, "content-length");
      });
    }
    current_url_ = std::move(*next);
    close_stream();
    start_hop();
  }

  void fail(std::string_view step, const error_code& error) { fail_text(step, error.message()); }

  void fail_text(std::string_view step, const std::string& message) {
    if (timed_out_) {
      return;  // already reported by on_deadline()
    }
    finish(make_error(context() + ": " + std::string(step) + ": " + message));
  }

  void close_stream() {
    error_code ignored;
    if (tls_) {
      beast::get_lowest_layer(*tls_).socket().close(ignored);
    } else if (tcp_) {
      tcp_->socket().close(ignored);
    }
  }

  // Delivers the result exactly once and stops whatever is still running.
  void finish(Result<HttpClient::Response> result) {
    if (!done_) {
      return;
    }
    auto done = std::move(done_);
    done_ = nullptr;
    deadline_.cancel();
    resolver_.cancel();
    close_stream();
    done(std::move(result));
  }

  asio::io_context& io_;
  std::shared_ptr<asio::ssl::context> tls_context_;
  HttpClient::Request request_;
  HttpClient::Callback done_;
  std::string current_url_;
  int redirects_ = 0;
  detail::ClientEndpoint endpoint_;
  tcp::resolver resolver_;
  asio::steady_timer deadline_;
  std::optional<beast::tcp_stream> tcp_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  http::request<http::string_body> wire_request_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  bool timed_out_ = false;
};

}  // namespace

std::optional<std::string> HttpClient::Response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

std::vector<std::string> HttpClient::Response::headers_named(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, name)) {
      values.push_back(value);
    }
  }
  return values;
}

HttpClient::HttpClient(asio::io_context& io) : io_(io) {}

HttpClient::HttpClient(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls)
    : io_(io), tls_(std::move(tls)) {}

HttpClient::~HttpClient() = default;

void HttpClient::request(Request request, Callback done) {
  // The default TLS context is built on first https use; it is then shared by later requests.
  if (!tls_ && request.url.starts_with("https:")) {
    tls_ = make_default_tls_context();
  }
  std::make_shared<Exchange>(io_, tls_, std::move(request), std::move(done))->start();
}

std::shared_ptr<asio::ssl::context> HttpClient::make_default_tls_context() {
  return detail::make_default_client_tls_context();
}

}  // namespace ivs::io
