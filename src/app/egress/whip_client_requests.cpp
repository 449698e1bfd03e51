#include "app/egress/whip_client_requests.hpp"

#include "app/egress/whip_egress_link.hpp"

namespace ivs::app {
namespace {

void add_bearer(io::HttpClient::Request& request, const std::string& token) {
  if (!token.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + token);
  }
}

}  // namespace

io::HttpClient::Request sdp_offer_request(std::string url, const std::string& token,
                                          std::string offer_sdp,
                                          std::chrono::milliseconds timeout) {
  io::HttpClient::Request request;
  request.method = io::http::verb::post;
  request.url = std::move(url);
  add_bearer(request, token);
  request.body = std::move(offer_sdp);
  request.content_type = "application/sdp";
  request.timeout = timeout;
  request.max_response_bytes = std::size_t{256} * 1024;
  return request;
}

io::HttpClient::Request resource_delete_request(std::string url, const std::string& token,
                                                std::chrono::milliseconds timeout) {
  io::HttpClient::Request request;
  request.method = io::http::verb::delete_;
  request.url = std::move(url);
  add_bearer(request, token);
  request.timeout = timeout;
  return request;
}

std::string resource_url_of(const io::HttpClient::Response& response) {
  const auto location = response.header("location");
  if (!location || location->empty()) {
    return {};
  }
  return resolve_url(response.final_url, *location);
}

}  // namespace ivs::app
