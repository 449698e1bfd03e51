#include "io/clock.hpp"

namespace ivs::io {

Instant monotonic_now() {
  return std::chrono::steady_clock::now();
}

WallTime wall_now() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return WallTime{std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count()};
}

std::int64_t unix_seconds_now() {
  return wall_now().unix_micros / 1000000;
}

}  // namespace ivs::io
