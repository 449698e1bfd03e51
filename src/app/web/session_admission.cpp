#include "app/web/session_admission.hpp"

#include <algorithm>

namespace ivs::app {

ViewerCounts viewer_counts(const ChannelStatus& status) {
  return ViewerCounts{.connected = status.viewers, .connecting = status.viewers_connecting};
}

SessionAdmission::SessionAdmission(SessionAdmissionOptions options)
    : options_(options),
      offers_(options.connect_timeout, std::max<std::size_t>(1, options.max_connecting_per_ip)) {}

std::optional<SessionRefused> SessionAdmission::admit_viewer(const ViewerCounts& counts,
                                                             std::string_view source, Instant now) {
  const int retry = static_cast<int>(engine::retry_after_seconds(options_.connect_timeout));
  if (counts.connected >= options_.max_viewers) {
    return SessionRefused{503,
                          "the viewer limit (" + std::to_string(options_.max_viewers) +
                              ", WHEP_MAX_VIEWERS) is reached",
                          std::nullopt};
  }
  if (counts.connecting >= options_.max_connecting) {
    return SessionRefused{503,
                          "too many viewers are connecting at once (" +
                              std::to_string(options_.max_connecting) +
                              ", WHEP_MAX_CONNECTING); retry shortly",
                          retry};
  }
  if (options_.max_connecting_per_ip > 0) {
    const std::size_t mine = std::min(offers_.count(source, now), counts.connecting);
    if (mine >= options_.max_connecting_per_ip) {
      const auto wait = offers_.time_until_expiry(source, now);
      return SessionRefused{429,
                            "this address has " + std::to_string(mine) +
                                " viewer sessions still connecting "
                                "(WHEP_MAX_CONNECTING_PER_IP); retry shortly",
                            static_cast<int>(engine::retry_after_seconds(wait))};
    }
  }
  return std::nullopt;
}

void SessionAdmission::viewer_accepted(std::string_view source, Instant now) {
  offers_.add(source, now);
}

std::optional<std::string> SessionAdmission::stale_publisher(
    const PublisherStatus& publisher) const {
  if (publisher.live || !publisher.connecting || last_publisher_.empty()) {
    return std::nullopt;
  }
  return last_publisher_;
}

}  // namespace ivs::app
