#include "io/http_types.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/url/parse.hpp>

namespace ivs::io {

std::string RequestContext::path_param(std::string_view name) const {
  const auto found = path_params.find(name);
  return found == path_params.end() ? std::string() : found->second;
}

HttpResponse text_response(http::status status, std::string body, std::string_view content_type,
                           unsigned version) {
  HttpResponse response{status, version};
  response.set(http::field::content_type, content_type);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

HttpResponse json_response(http::status status, std::string body_json, unsigned version) {
  return text_response(status, std::move(body_json), "application/json", version);
}

HttpResponse json_error(http::status status, std::string_view message, unsigned version) {
  std::string body = "{\"error\":";
  body += boost::json::serialize(boost::json::string(message));
  body += '}';
  return json_response(status, std::move(body), version);
}

std::string_view request_path(const HttpRequest& request) {
  const std::string_view target = request.target();
  return target.substr(0, target.find('?'));
}

std::optional<std::string> query_param(const HttpRequest& request, std::string_view name) {
  auto parsed = boost::urls::parse_origin_form(request.target());
  if (!parsed) {
    return std::nullopt;
  }
  const auto params = parsed->params();
  const auto found = params.find(name);
  if (found == params.end()) {
    return std::nullopt;
  }
  return std::string((*found).value);
}

}  // namespace ivs::io
