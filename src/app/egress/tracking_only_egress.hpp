// TrackingOnlyEgress: the honest egress mode of a MediaServer built without an egress factory
// (unit tests of the control plane; `serve` always has the WHIP egress). Each stage is
// accepted and tracked (token fetched, state kept, shown on /api/status) but NOTHING is
// published to it: sessions report `publishing = false`, which the StageManager records as state
// "tracked", never "connected", and connectedStages stays 0. This keeps the whole control plane
// (register, sync, WebSocket, tokens, backoff, shutdown) running end to end without claiming
// media reaches a stage.
#pragma once

#include <boost/asio/io_context.hpp>

#include "app/egress/egress_session.hpp"

namespace ivs::app {

inline constexpr const char* kTrackingOnlyNote =
    "no WHIP egress configured: stage tracked but not published to";

class TrackingOnlyEgress final : public EgressFactory {
 public:
  explicit TrackingOnlyEgress(boost::asio::io_context& io) : io_(io) {}
  std::unique_ptr<EgressSession> open(EgressTarget target, EgressCallbacks callbacks) override;
  std::string mode() const override { return "tracking-only"; }

 private:
  boost::asio::io_context& io_;
};

}  // namespace ivs::app
