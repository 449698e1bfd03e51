#include "app/egress/whip_egress.hpp"

#include <spdlog/spdlog.h>

#include "app/egress/egress_identity.hpp"
#include "app/egress/whip_egress_session.hpp"
#include "io/clock.hpp"

namespace ivs::app {
namespace {

class WhipEgressFactory final : public EgressFactory {
 public:
  WhipEgressFactory(boost::asio::io_context& io, EgressMediaSource& media,
                    WhipEgressOptions options)
      : io_(io),
        media_(media),
        options_(std::move(options)),
        send_path_(EgressSendPath::create(io, options_.send_batching)) {}

  std::unique_ptr<EgressSession> open(EgressTarget target, EgressCallbacks callbacks) override {
    // A null certificate makes the session fail with a reason on the next turn of the loop.
    auto identity = identity_.current(io::wall_now());
    return std::make_unique<WhipEgressSession>(
        io_, media_, options_, std::move(identity.certificate), std::move(target),
        std::move(callbacks), std::move(identity.context), send_path_);
  }

  std::string mode() const override { return "whip"; }

 private:
  boost::asio::io_context& io_;
  EgressMediaSource& media_;
  WhipEgressOptions options_;
  EgressSendPath send_path_;  // every session's socket, flushed per turn; their send slots
  EgressIdentity identity_;
};

}  // namespace

std::unique_ptr<EgressFactory> make_whip_egress_factory(boost::asio::io_context& io,
                                                        EgressMediaSource& media,
                                                        WhipEgressOptions options) {
  return std::make_unique<WhipEgressFactory>(io, media, std::move(options));
}

}  // namespace ivs::app
