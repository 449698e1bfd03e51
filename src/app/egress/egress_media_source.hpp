// The seam between a WHIP egress session (app/egress/whip_egress) and the relay that feeds it
// (DESIGN.md §5). An egress session negotiates with the stage on its own; once its PeerSession
// is connected it attaches a leg here and from then on receives rewritten RTP/RTCP through its
// engine::RelaySink. Stage feedback (NACK, PLI, FIR, RR) goes back through feedback().
//
// Why an interface: the serve role's relay lives in a RelayChannel next to the WHIP ingest, and
// the egress code should not know how that channel is built; tests attach a recording fake.
// Everything runs on the owning io_context's thread; implementations re-arm their own timers.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "engine/relay.hpp"
#include "proto/rtcp_compound.hpp"
#include "proto/time.hpp"

namespace ivs::app {

class EgressMediaSource {
 public:
  virtual ~EgressMediaSource() = default;
  // Adds a leg; it starts from the GOP cache when there is one. `sink` must stay valid until
  // detach().
  virtual engine::EgressId attach(Instant now, const engine::RelayEgressFormat& format,
                                  engine::RelaySink& sink) = 0;
  virtual void detach(engine::EgressId id) = 0;
  virtual void feedback(Instant now, engine::EgressId id,
                        std::span<const proto::RtcpPacket> packets) = 0;
  virtual std::optional<engine::RelayEgressStats> stats(engine::EgressId id) const = 0;
  // The publisher's H.264 profile-level-id for the egress offer, or "42e01f" (Constrained
  // Baseline 3.1, what OBS always signals) when no publisher has been seen yet.
  virtual std::string h264_profile_level_id() const = 0;
};

}  // namespace ivs::app
