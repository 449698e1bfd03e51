// Static WHIP destinations (WHIP_DESTINATIONS): fixed URL + bearer token pairs published to
// without any API server, e.g. a second IVS stage created by hand, or any WHIP endpoint.
//
// Why a StageManager of its own: the same reconciler gives every destination the same egress
// machinery, backoff with jitter, 24 h make-before-break republish and status as API-managed
// stages, and a StageManager separate from the API server's keeps `sync()` from the API's stage
// list from ever removing a static destination. The "token fetch" is a lookup of the configured
// token, answered on the next turn of the loop (the StageManager expects asynchronous answers).
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/control/stage_manager.hpp"
#include "app/egress/egress_session.hpp"
#include "app/roles/config.hpp"
#include "engine/random.hpp"
#include "engine/stage_reconciler.hpp"

namespace ivs::app {

class StaticDestinations {
 public:
  // `egress`, `random` and `clock` (real time when null) must outlive this object.
  StaticDestinations(boost::asio::io_context& io, std::vector<WhipDestination> destinations,
                     EgressFactory& egress, engine::RandomSource& random,
                     engine::StageReconcilerOptions options = {},
                     io::ControlClock* clock = nullptr);
  ~StaticDestinations();
  StaticDestinations(const StaticDestinations&) = delete;
  StaticDestinations& operator=(const StaticDestinations&) = delete;

  // Starts publishing to every destination (idempotent).
  void start();
  // Closes every session (DELETE sent); `done` runs once all are closed.
  void shutdown(std::function<void()> done);

  // "static-1", "static-2", ... in WHIP_DESTINATIONS order: the stage ids on /api/status.
  static std::string stage_id(std::size_t index);
  const std::vector<std::string>& stage_ids() const { return ids_; }
  // The destination's URL for a stage id (never the token), for status pages and logs.
  std::optional<std::string> url_of(const std::string& stage_id) const;
  bool empty() const { return destinations_.empty(); }

  StageManager& manager() { return *manager_; }
  const StageManager& manager() const { return *manager_; }

 private:
  void fetch(const std::string& stage_id, TokenCallback done);

  boost::asio::io_context& io_;
  std::vector<WhipDestination> destinations_;
  std::vector<std::string> ids_;
  std::unique_ptr<StageManager> manager_;
  std::shared_ptr<bool> alive_;
};

}  // namespace ivs::app
