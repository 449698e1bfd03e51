// sigv4_sign: our SigV4 signer (src/app/aws/sigv4.hpp) as a filter, so a process test can sign
// the same requests with it and with botocore (tests/process/test_sigv4_botocore.py) and compare
// the bytes. One JSON request per stdin line, one JSON answer per stdout line:
//
//   in:  {"method","host","path","query":[[name,value]...],"headers":[[name,value]...],
//         "body_b64","access_key_id","secret_access_key","session_token","region","service",
//         "time" (Unix seconds)}
//   out: {"authorization","amz_date","canonical_request","string_to_sign"}
//
// The body travels in base64 so requests can carry any bytes; names and values are UTF-8.
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <iostream>
#include <string>

#include "app/aws/sigv4.hpp"

namespace {

using ivs::app::aws::HeaderPairs;

std::string text(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

HeaderPairs pairs(const boost::json::object& object, std::string_view key) {
  HeaderPairs out;
  if (const auto* list = object.if_contains(key); list != nullptr && list->is_array()) {
    for (const auto& pair : list->as_array()) {
      out.emplace_back(pair.as_array().at(0).as_string(), pair.as_array().at(1).as_string());
    }
  }
  return out;
}

std::string base64_decode(const std::string& encoded) {
  std::string out(encoded.size(), '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(encoded.data()),
                                     static_cast<int>(encoded.size()));
  out.resize(length < 0 ? 0 : static_cast<std::size_t>(length));
  // EVP_DecodeBlock counts the padding as zero bytes; drop one per '='.
  for (auto it = encoded.rbegin(); it != encoded.rend() && *it == '=' && !out.empty(); ++it) {
    out.pop_back();
  }
  return out;
}

boost::json::object sign_one(const boost::json::object& input) {
  ivs::app::aws::SignableRequest request;
  request.method = text(input, "method");
  request.host = text(input, "host");
  request.path = text(input, "path");
  request.query = pairs(input, "query");
  request.headers = pairs(input, "headers");
  request.body = base64_decode(text(input, "body_b64"));
  const ivs::app::aws::Credentials credentials{
      text(input, "access_key_id"), text(input, "secret_access_key"), text(input, "session_token")};
  const ivs::app::aws::Scope scope{text(input, "region"), text(input, "service")};
  const auto signed_request =
      ivs::app::aws::sign(request, credentials, scope, input.at("time").to_number<std::int64_t>());
  return {{"authorization", signed_request.authorization},
          {"amz_date", signed_request.amz_date},
          {"canonical_request", signed_request.canonical_request},
          {"string_to_sign", signed_request.string_to_sign}};
}

}  // namespace

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    boost::system::error_code error;
    const auto parsed = boost::json::parse(line, error);
    if (error || !parsed.is_object()) {
      std::cout << boost::json::serialize(boost::json::object{{"error", "not a JSON object"}})
                << std::endl;
      continue;
    }
    std::cout << boost::json::serialize(sign_one(parsed.as_object())) << std::endl;
  }
  return 0;
}
