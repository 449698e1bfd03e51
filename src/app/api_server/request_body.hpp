// Reads the fields of a JSON request body and turns the first problem into the error response:
// a body that is not JSON or not an object, or a missing field -> 400; a field of the wrong type
// or out of range -> 422. Messages name the field and what is accepted, never echo the value.
// Readers return a neutral value after a failure, so a handler reads every field first and
// checks failure() once.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "io/http_types.hpp"

namespace ivs::app::api_server {

class RequestBody {
 public:
  explicit RequestBody(const io::HttpRequest& request);

  // A non-empty string of at most `max_length` bytes.
  std::string string(std::string_view name, std::size_t max_length);
  // As string() but an absent field (or JSON null) is "".
  std::string optional_string(std::string_view name, std::size_t max_length);
  std::int64_t integer(std::string_view name, std::int64_t low, std::int64_t high);
  bool boolean(std::string_view name);

  // The response for the first problem met, if any.
  std::optional<io::HttpResponse> failure() const { return failure_; }

 private:
  const boost::json::value* field(std::string_view name, bool required);
  void fail(io::http::status status, const std::string& message);

  boost::json::object object_;
  std::optional<io::HttpResponse> failure_;
};

}  // namespace ivs::app::api_server
