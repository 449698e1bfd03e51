#include "app/whip_egress.hpp"

#include <spdlog/spdlog.h>

#include "app/whip_egress_session.hpp"
#include "io/clock.hpp"

namespace ivs::app {
namespace {

class WhipEgressFactory final : public EgressFactory {
 public:
  WhipEgressFactory(boost::asio::io_context& io, EgressMediaSource& media,
                    WhipEgressOptions options)
      : io_(io), media_(media), options_(std::move(options)) {}

  std::unique_ptr<EgressSession> open(EgressTarget target, EgressCallbacks callbacks) override {
    // A fresh certificate per session: a republish every 23 h would otherwise outlive the
    // certificate's 30-day validity on a long-running server, and generating a P-256 key costs
    // about a millisecond, once per connection attempt.
    std::shared_ptr<const engine::DtlsCertificate> certificate;
    if (auto generated = engine::DtlsCertificate::generate(io::wall_now())) {
      certificate = std::move(*generated);
    } else {
      spdlog::error("WHIP egress: DTLS certificate: {}", generated.error().message);
    }
    // A null certificate makes the session fail with a reason on the next turn of the loop.
    return std::make_unique<WhipEgressSession>(io_, media_, options_, std::move(certificate),
                                               std::move(target), std::move(callbacks));
  }

  std::string mode() const override { return "whip"; }

 private:
  boost::asio::io_context& io_;
  EgressMediaSource& media_;
  WhipEgressOptions options_;
};

}  // namespace

std::unique_ptr<EgressFactory> make_whip_egress_factory(boost::asio::io_context& io,
                                                        EgressMediaSource& media,
                                                        WhipEgressOptions options) {
  return std::make_unique<WhipEgressFactory>(io, media, std::move(options));
}

}  // namespace ivs::app
