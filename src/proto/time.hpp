// Time as an input. Engines never read a clock: the io layer (or a test's simulated clock)
// passes `Instant now` into every call, and engines answer with the Instant they next need.
#pragma once

#include <chrono>
#include <cstdint>

namespace ivs {

// A monotonic instant. Only io/ obtains real ones (from steady_clock); tests build them from
// Instant{} plus durations.
using Instant = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Whole microseconds in `duration`, truncated toward zero.
inline std::int64_t to_micros(Duration duration) {
  return std::chrono::duration_cast<microseconds>(duration).count();
}

// Wall-clock time for NTP timestamps in RTCP sender reports, also injected: microseconds since
// the Unix epoch.
struct WallTime {
  std::int64_t unix_micros = 0;
};

// 64-bit NTP timestamp (RFC 3550 §4): seconds since 1900 in the high word, fraction in the low.
inline std::uint64_t to_ntp(WallTime wall) {
  constexpr std::uint64_t kUnixToNtpSeconds = 2208988800ULL;
  const auto micros = static_cast<std::uint64_t>(wall.unix_micros);
  const std::uint64_t seconds_part = micros / 1000000 + kUnixToNtpSeconds;
  const std::uint64_t fraction = ((micros % 1000000) << 32) / 1000000;
  return (seconds_part << 32) | fraction;
}

}  // namespace ivs
