// aws_credentials: resolves the AWS credentials chain (src/app/aws/credential_provider.hpp) the
// way the media server does, from this process's environment, and prints one JSON line per
// resolution, never the secret:
//
//   {"ok":true,"source":"...","access_key_id":"...","expires":<unix or null>,
//    "has_session_token":true}
//   {"ok":false,"error":"..."}
//
//   aws_credentials [--again-after SECONDS]
//
// --again-after asks a second time with the provider's clock moved forward by SECONDS, so a
// process test can see temporary credentials refreshed before they expire (and long-term ones
// not fetched again) without waiting for real time to pass.
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

#include "app/aws/credential_provider.hpp"
#include "io/clock.hpp"

namespace {

boost::json::object describe(const ivs::Result<ivs::app::aws::AwsCredentials>& result) {
  if (!result) {
    return {{"ok", false}, {"error", result.error().message}};
  }
  boost::json::value expires = nullptr;
  if (result->expires_unix) {
    expires = *result->expires_unix;
  }
  return {{"ok", true},
          {"source", result->source},
          {"access_key_id", result->keys.access_key_id},
          {"expires", expires},
          {"has_session_token", !result->keys.session_token.empty()}};
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t again_after = -1;
  if (argc == 3 && std::string(argv[1]) == "--again-after") {
    again_after = std::stoll(argv[2]);
  }
  const char* home = std::getenv("HOME");
  auto settings =
      ivs::app::aws::credential_settings(ivs::app::process_environment(), home ? home : "/");
  boost::asio::io_context io;
  ivs::io::HttpClient http(io);
  std::int64_t offset = 0;
  ivs::app::aws::CredentialProvider provider(
      io, http, settings, [&offset] { return ivs::io::wall_now().unix_micros / 1000000 + offset; });
  provider.get([&](const ivs::Result<ivs::app::aws::AwsCredentials>& result) {
    std::cout << boost::json::serialize(describe(result)) << std::endl;
    if (again_after < 0) {
      return;
    }
    offset = again_after;
    provider.get([](const ivs::Result<ivs::app::aws::AwsCredentials>& again) {
      std::cout << boost::json::serialize(describe(again)) << std::endl;
    });
  });
  io.run();
  return 0;
}
