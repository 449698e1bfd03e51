#include "app/web/rotating_secret.hpp"

#include "app/web/whip_routes.hpp"

namespace ivs::app {

void RotatingSecret::rotate(std::string value, Instant now, Duration grace) {
  if (value == current_) {
    return;
  }
  previous_ = std::move(current_);
  previous_until_ = now + grace;
  current_ = std::move(value);
}

bool RotatingSecret::matches(std::string_view candidate, Instant now) const {
  // Both compares always run: the answer's timing must not depend on which one matched.
  const bool current = !current_.empty() && constant_time_equal(candidate, current_);
  const bool previous = !previous_.empty() && constant_time_equal(candidate, previous_);
  return current || (previous && now < previous_until_);
}

}  // namespace ivs::app
