// MediaServer and SHARD_PEERS (docs/scale-out.md): the StageManager publishes only the stages
// engine::ShardOwnership gives this server over the live peer set that ShardPeers finds.
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "app/roles/media_server.hpp"
#include "io/clock.hpp"

namespace ivs::app {

void MediaServer::start_sharding() {
  if (config_.shard_peers.empty() || !stages_) {
    return;
  }
  shard_ =
      std::make_unique<engine::ShardOwnership>(config_.shard_self, config_.shard_handover_grace);
  stages_->set_filter([this](Instant now, std::string_view arn) {
    switch (shard_->hold(now, arn)) {
      case engine::ShardOwnership::Hold::kOwned:
        return StageManager::StageHold::kYes;
      case engine::ShardOwnership::Hold::kHandingOver:
        return StageManager::StageHold::kHandingOver;
      case engine::ShardOwnership::Hold::kNone:
        break;
    }
    return StageManager::StageHold::kNo;
  });
  ShardPeersOptions options;
  options.entries = config_.shard_peers;
  options.self = config_.shard_self;
  options.refresh = config_.shard_refresh;
  shard_timer_ = std::make_unique<boost::asio::steady_timer>(io_);
  shard_peers_ = std::make_unique<ShardPeers>(
      io_, http_client_, options,
      [this](const std::vector<std::string>& live) { on_shard_peers(live); });
  spdlog::info("sharding stages over SHARD_PEERS as {} (refresh {} ms, hand-over {} ms)",
               config_.shard_self, config_.shard_refresh.count(),
               config_.shard_handover_grace.count());
  shard_peers_->start();
}

void MediaServer::on_shard_peers(const std::vector<std::string>& live) {
  if (stopping_) {
    return;
  }
  const Instant now = io::monotonic_now();
  shard_->set_peers(now, live);
  stages_->refilter();
  arm_shard_timer(now);
}

// A stage handed to a new owner is closed here when its grace ends: refilter then.
void MediaServer::arm_shard_timer(Instant now) {
  const auto deadline = shard_->next_deadline(now);
  if (!deadline) {
    return;
  }
  shard_timer_->expires_after(*deadline - now);
  shard_timer_->async_wait([this](const boost::system::error_code& error) {
    if (error || stopping_) {
      return;
    }
    stages_->refilter();
    arm_shard_timer(io::monotonic_now());
  });
}

std::string MediaServer::shard_status_json() const {
  if (!shard_ || !shard_peers_ || !stages_) {
    return {};
  }
  namespace json = boost::json;
  const Instant now = io::monotonic_now();
  const ShardPeersStatus peers = shard_peers_->status();
  json::array live;
  for (const auto& peer : shard_->peers()) {
    live.emplace_back(peer);
  }
  json::array resolved;
  for (const auto& peer : peers.resolved) {
    resolved.emplace_back(peer);
  }
  json::object owners;
  json::array handing_over;
  std::size_t held = 0;
  for (const std::string& arn : stages_->listed()) {
    owners[arn] = shard_->owner(arn);
    const auto hold = shard_->hold(now, arn);
    held += hold != engine::ShardOwnership::Hold::kNone ? 1 : 0;
    if (hold == engine::ShardOwnership::Hold::kHandingOver) {
      handing_over.emplace_back(arn);
    }
  }
  json::object body{{"self", shard_->self()},
                    {"selfInSet", shard_->self_in_set()},
                    {"peers", std::move(live)},
                    {"resolved", std::move(resolved)},
                    {"refreshes", peers.rounds},
                    {"lastError", peers.last_error.empty() ? json::value(nullptr)
                                                           : json::value(peers.last_error)},
                    {"listedStages", stages_->listed().size()},
                    {"heldStages", held},
                    {"handingOver", std::move(handing_over)},
                    {"owners", std::move(owners)}};
  return json::serialize(body);
}

}  // namespace ivs::app
