// The seam between the StageManager and whatever publishes to a stage (DESIGN.md §1: one WHIP
// publishing session per stage). The StageManager only ever sees this interface: the WHIP
// egress (whip_egress_session.hpp: signalling on the main loop, its transport on the main loop
// with MEDIA_WORKERS=1 or on a media worker, worker_egress.hpp), or the tracking-only mode
// (tracking_only_egress.hpp).
//
// Contract, for every implementation:
// - open() returns at once; the outcome arrives later through the callbacks, on the control
//   plane's io_context and never from inside open() or close() (no re-entrancy).
// - After a successful open, on_failed may still fire once if the session dies (consent lost,
//   DTLS alert); the StageManager then retries with a fresh token.
// - close() may be called at any time, also while open() is still in progress; `done` runs
//   exactly once when the session has let go of its resources, and no callback fires after it.
// - Destroying a session without close() is allowed (it is closed abruptly).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace ivs::app {

struct EgressTarget {
  std::string stage_arn;
  std::string token;     // participant token (PUBLISH); never logged
  std::string whip_url;  // where to POST the offer
};

struct EgressCallbacks {
  // `publishing` false: the session is up but sends no media (tracking-only mode); `note` says
  // why and is shown on /api/status.
  std::function<void(bool publishing, std::string note)> on_connected;
  std::function<void(std::string reason)> on_failed;
};

// Media figures of one publishing session, for /api/status and the log.
struct EgressStats {
  double bitrate_kbps = 0;              // sent, averaged over the last few seconds
  std::optional<double> rtt_ms;         // from the stage's receiver reports
  std::optional<double> fraction_lost;  // 0..1, the stage's last receiver report
  std::int64_t packets_lost = 0;        // cumulative, as the stage reports it
  std::uint64_t packets_sent = 0;
  std::uint64_t nacks_received = 0;
  std::uint64_t plis_received = 0;  // PLI and FIR
  std::uint64_t retransmitted = 0;  // packets resent from history
  // Packets that never reached the kernel (send queue full during a burst) or that it refused.
  std::uint64_t send_drops = 0;
};

class EgressSession {
 public:
  virtual ~EgressSession() = default;
  virtual void close(std::function<void()> done) = 0;
  // Nothing while the session is not publishing media (tracking-only, or still connecting).
  virtual std::optional<EgressStats> stats() const { return std::nullopt; }
};

class EgressFactory {
 public:
  virtual ~EgressFactory() = default;
  virtual std::unique_ptr<EgressSession> open(EgressTarget target, EgressCallbacks callbacks) = 0;
  // Shown on /api/status ("whip" or "tracking-only").
  virtual std::string mode() const = 0;
};

}  // namespace ivs::app
