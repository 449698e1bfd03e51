#include "app/control/static_destinations.hpp"
#include "io/redact.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

namespace ivs::app {

StaticDestinations::StaticDestinations(boost::asio::io_context& io,
                                       std::vector<WhipDestination> destinations,
                                       EgressFactory& egress, engine::RandomSource& random,
                                       engine::StageReconcilerOptions options,
                                       io::ControlClock* clock)
    : io_(io), destinations_(std::move(destinations)), alive_(std::make_shared<bool>(true)) {
  for (std::size_t i = 0; i < destinations_.size(); ++i) {
    ids_.push_back(stage_id(i));
  }
  manager_ = std::make_unique<StageManager>(
      io, options,
      [this](const std::string& id, TokenCallback done) { fetch(id, std::move(done)); }, egress,
      random, clock);
}

StaticDestinations::~StaticDestinations() {
  *alive_ = false;
}

std::string StaticDestinations::stage_id(std::size_t index) {
  return "static-" + std::to_string(index + 1);
}

std::optional<std::string> StaticDestinations::url_of(const std::string& stage_id) const {
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    if (ids_[i] == stage_id) {
      return destinations_[i].url;
    }
  }
  return std::nullopt;
}

void StaticDestinations::start() {
  if (destinations_.empty()) {
    return;
  }
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    // The URL may carry credentials (userinfo, query): only its redacted form is logged.
    spdlog::info("static WHIP destination {}: {}{}", ids_[i], io::redact_url(destinations_[i].url),
                 destinations_[i].token.empty() ? "" : " (with a bearer token)");
  }
  manager_->sync(ids_);
}

void StaticDestinations::shutdown(std::function<void()> done) {
  manager_->shutdown(std::move(done));
}

void StaticDestinations::fetch(const std::string& stage_id, TokenCallback done) {
  std::optional<TokenInfo> info;
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    if (ids_[i] == stage_id) {
      info = TokenInfo{destinations_[i].token, "", destinations_[i].url,
                       WhipUrlSource::configured_endpoint};
    }
  }
  boost::asio::post(io_, [alive = std::weak_ptr<bool>(alive_), info = std::move(info), stage_id,
                          done = std::move(done)]() mutable {
    if (auto flag = alive.lock(); !flag || !*flag) {
      return;
    }
    if (info) {
      done(std::move(*info), false);
    } else {
      done(Error{"no static destination " + stage_id}, true);
    }
  });
}

}  // namespace ivs::app
