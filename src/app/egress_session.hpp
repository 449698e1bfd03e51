// The seam between the StageManager and whatever publishes to a stage (DESIGN.md §1: one WHIP
// publishing session per stage). The StageManager only ever sees this interface, so the real
// WHIP egress (ICE + DTLS-SRTP toward IVS, a later issue) plugs in without touching it.
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

#include <functional>
#include <memory>
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

class EgressSession {
 public:
  virtual ~EgressSession() = default;
  virtual void close(std::function<void()> done) = 0;
};

class EgressFactory {
 public:
  virtual ~EgressFactory() = default;
  virtual std::unique_ptr<EgressSession> open(EgressTarget target, EgressCallbacks callbacks) = 0;
  // Shown on /api/status ("whip" or "tracking-only").
  virtual std::string mode() const = 0;
};

}  // namespace ivs::app
