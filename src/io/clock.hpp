// The only place real time enters the program: io/ reads the clocks and passes the values
// into the engines (which never read a clock themselves).
#pragma once

#include <cstdint>

#include "proto/time.hpp"

namespace ivs::io {

Instant monotonic_now();
WallTime wall_now();
// Whole seconds since 1970: what JWT claims, SigV4 dates and HTTP dates count in.
std::int64_t unix_seconds_now();

}  // namespace ivs::io
