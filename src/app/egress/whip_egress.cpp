#include "app/egress/whip_egress.hpp"

#include "app/egress/egress_identity.hpp"
#include "app/egress/egress_transport_host.hpp"
#include "app/egress/whip_egress_session.hpp"
#include "io/clock.hpp"

namespace ivs::app {
namespace {

// MEDIA_WORKERS=1: the signalling and the transports share the main loop. The transports are
// hosted here, so they go with the factory, before the relay channel that feeds them.
class WhipEgressFactory final : public EgressFactory {
 public:
  WhipEgressFactory(boost::asio::io_context& io, EgressMediaSource& media,
                    WhipEgressOptions options)
      : io_(io),
        options_(std::move(options)),
        send_path_(EgressSendPath::create(io, options_.send_batching)),
        host_(io, media) {}

  std::unique_ptr<EgressSession> open(EgressTarget target, EgressCallbacks callbacks) override {
    // A null certificate makes the session fail with a reason on the next turn of the loop.
    auto identity = identity_.current(io::wall_now());
    EgressTransportSpec spec{options_, std::move(identity.certificate), std::move(identity.context),
                             send_path_, target.stage_arn};
    return std::make_unique<WhipEgressSession>(io_, host_, std::move(spec), std::move(target),
                                               std::move(callbacks));
  }

  std::string mode() const override { return "whip"; }

 private:
  boost::asio::io_context& io_;
  WhipEgressOptions options_;
  EgressSendPath send_path_;  // every session's socket, flushed per turn; their send slots
  EgressIdentity identity_;
  EgressTransportHost host_;  // last: its transports go before the send path they use
};

}  // namespace

std::unique_ptr<EgressFactory> make_whip_egress_factory(boost::asio::io_context& io,
                                                        EgressMediaSource& media,
                                                        WhipEgressOptions options) {
  return std::make_unique<WhipEgressFactory>(io, media, std::move(options));
}

}  // namespace ivs::app
