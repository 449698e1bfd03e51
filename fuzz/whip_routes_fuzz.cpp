// Fuzzes the WHIP/WHEP POST path (app/web/whip_routes -> RelayChannel -> SDP parse and negotiation)
// with arbitrary offers: the first byte picks ingest or WHEP and the Content-Type; the answer
// must be one of the documented statuses, and no refused offer may leave a session behind
// (accepted ones are DELETEd again so the state stays bounded).
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "app/relay/media_plane.hpp"
#include "app/web/whip_routes.hpp"

namespace {

namespace http = ivs::io::http;

struct World {
  World() {
    ivs::app::MediaPlaneOptions options;
    options.bind_ip = "127.0.0.1";
    auto started = ivs::app::MediaPlane::start(io, options);
    if (!started) {
      std::abort();
    }
    plane = std::move(*started);
    channel = std::make_unique<ivs::app::RelayChannel>(io, *plane, ivs::app::RelayChannelOptions{});
    endpoint.channel = [this](const ivs::io::RequestContext&) { return channel.get(); };
    endpoint.authorize = ivs::app::bearer_authorizer("t", "WHIP_INGEST_TOKEN", true);
  }
  boost::asio::io_context io;
  std::unique_ptr<ivs::app::MediaPlane> plane;
  std::unique_ptr<ivs::app::RelayChannel> channel;
  ivs::app::WhipEndpoint endpoint;
};

bool documented(unsigned status) {
  for (unsigned ok : {201u, 400u, 401u, 409u, 413u, 415u, 422u, 503u}) {
    if (status == ok) {
      return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  if (size == 0) {
    return 0;
  }
  const std::uint8_t selector = data[0];
  world.endpoint.role =
      (selector & 1) ? ivs::app::SessionRole::viewer : ivs::app::SessionRole::publisher;
  world.endpoint.pattern = (selector & 1) ? "/whep" : "/whip";
  ivs::io::HttpRequest request{http::verb::post, world.endpoint.pattern, 11};
  request.set(http::field::authorization, (selector & 4) ? "Bearer x" : "Bearer t");
  request.set(http::field::content_type, (selector & 2) ? "text/plain" : "application/sdp");
  request.body().assign(reinterpret_cast<const char*>(data + 1), size - 1);
  ivs::io::RequestContext context;
  context.scheme_host = "http://fuzz";
  const std::size_t before = world.plane->session_count();
  const auto response = ivs::app::whip_post(world.endpoint, request, context);
  const unsigned status = response.result_int();
  if (!documented(status)) {
    std::abort();
  }
  if (status != 201) {
    if (world.plane->session_count() != before) {
      std::abort();  // a refusal left a session behind
    }
    return 0;
  }
  const std::string location(response[http::field::location]);
  context.path_params["resource"] = location.substr(location.rfind('/') + 1);
  ivs::io::HttpRequest del{http::verb::delete_, location, 11};
  if (ivs::app::whip_delete(world.endpoint, del, context).result_int() != 200) {
    std::abort();
  }
  return 0;
}
