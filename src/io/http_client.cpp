// Placeholder until the client code lands (same API).
#include "io/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>

namespace ivs::io {

std::optional<std::string> HttpClient::Response::header(std::string_view) const {
  return std::nullopt;
}
std::vector<std::string> HttpClient::Response::headers_named(std::string_view) const {
  return {};
}
HttpClient::HttpClient(boost::asio::io_context& io) : io_(io) {}
HttpClient::HttpClient(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls)
    : io_(io), tls_(std::move(tls)) {}
HttpClient::~HttpClient() = default;
void HttpClient::request(Request, Callback done) {
  boost::asio::post(io_, [done = std::move(done)] { done(make_error("not implemented yet")); });
}
std::shared_ptr<boost::asio::ssl::context> HttpClient::make_default_tls_context() {
  return nullptr;
}

}  // namespace ivs::io
