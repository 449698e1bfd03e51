// JSON body field reader for the API server routes; see request_body.hpp.
#include "app/api_server/request_body.hpp"

namespace ivs::app::api_server {

using io::http::status;

RequestBody::RequestBody(const io::HttpRequest& request) {
  boost::system::error_code error;
  auto value = boost::json::parse(request.body(), error);
  if (error) {
    fail(status::bad_request, "request body is not valid JSON: " + error.message());
  } else if (!value.is_object()) {
    fail(status::bad_request, "request body must be a JSON object");
  } else {
    object_ = std::move(value.as_object());
  }
}

void RequestBody::fail(status code, const std::string& message) {
  if (!failure_)
    failure_ = io::json_error(code, message);
}

const boost::json::value* RequestBody::field(std::string_view name, bool required) {
  if (failure_)
    return nullptr;
  const auto* value = object_.if_contains(name);
  if (value == nullptr || value->is_null()) {
    if (required)
      fail(status::bad_request, "missing field " + std::string(name));
    return nullptr;
  }
  return value;
}

std::string RequestBody::string(std::string_view name, std::size_t max_length) {
  const auto* value = field(name, true);
  if (value == nullptr)
    return {};
  if (!value->is_string() || value->as_string().empty() || value->as_string().size() > max_length) {
    fail(status::unprocessable_entity, "field " + std::string(name) +
                                           " must be a non-empty string of at most " +
                                           std::to_string(max_length) + " bytes");
    return {};
  }
  return std::string(value->as_string());
}

std::string RequestBody::optional_string(std::string_view name, std::size_t max_length) {
  const auto* value = field(name, false);
  if (value == nullptr)
    return {};
  if (!value->is_string() || value->as_string().size() > max_length) {
    fail(status::unprocessable_entity, "field " + std::string(name) +
                                           " must be a string of at most " +
                                           std::to_string(max_length) + " bytes");
    return {};
  }
  return std::string(value->as_string());
}

std::int64_t RequestBody::integer(std::string_view name, std::int64_t low, std::int64_t high) {
  const auto* value = field(name, true);
  if (value == nullptr)
    return low;
  std::int64_t number = 0;
  bool ok = false;
  if (value->is_int64()) {
    number = value->as_int64();
    ok = true;
  } else if (value->is_uint64() && value->as_uint64() <= static_cast<std::uint64_t>(high)) {
    number = static_cast<std::int64_t>(value->as_uint64());
    ok = true;
  }
  if (!ok || number < low || number > high) {
    fail(status::unprocessable_entity, "field " + std::string(name) + " must be an integer from " +
                                           std::to_string(low) + " to " + std::to_string(high));
    return low;
  }
  return number;
}

bool RequestBody::boolean(std::string_view name) {
  const auto* value = field(name, true);
  if (value == nullptr)
    return false;
  if (!value->is_bool()) {
    fail(status::unprocessable_entity, "field " + std::string(name) + " must be true or false");
    return false;
  }
  return value->as_bool();
}

}  // namespace ivs::app::api_server
