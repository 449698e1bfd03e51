// Fuzzes the reference API server's routes with arbitrary bodies (the first byte picks the
// route): every answer must be one of the documented statuses with a JSON body, whatever arrives.
#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "app/api_server/api_handlers.hpp"

namespace {

using ivs::io::http::verb;

struct Route {
  verb method;
  const char* target;
};

constexpr Route kRoutes[] = {
    {verb::post, "/api/media/register"},  {verb::post, "/api/media/token"},
    {verb::post, "/api/media/heartbeat"}, {verb::post, "/api/stages"},
    {verb::get, "/api/media/stages"},     {verb::delete_, "/api/stages/x%2"},
};

bool documented(unsigned status) {
  for (unsigned ok : {200u, 201u, 400u, 401u, 404u, 405u, 409u, 422u}) {
    if (status == ok)
      return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ivs::app::api_server;
  static const auto key = std::move(ivs::app::jwt::Es384Key::generate()).value();
  if (size == 0)
    return 0;
  ivs::engine::SeededRandom random(1);
  ApiServerState state("us-east-1", "123456789012");
  ApiServerSettings settings;
  settings.api_secret_key = "k";
  settings.media_server_secret = "m";
  ApiHandlers handlers(settings, state, key, random, [] { return ivs::WallTime{0}; });
  (void)state.create_stage("seeded", ivs::WallTime{0}, random);

  const Route& route = kRoutes[data[0] % std::size(kRoutes)];
  ivs::io::HttpRequest request{route.method, route.target, 11};
  request.set("x-api-key", "k");
  request.set("x-media-auth", "m");
  request.body().assign(reinterpret_cast<const char*>(data + 1), size - 1);
  request.prepare_payload();
  const auto response = handlers.handle(request);
  boost::system::error_code error;
  (void)boost::json::parse(response.body(), error);
  if (!documented(response.result_int()) || error)
    std::abort();
  return 0;
}
