// The only place real time enters the program: io/ reads the clocks and passes the values
// into the engines (which never read a clock themselves).
#pragma once

#include "proto/time.hpp"

namespace ivs::io {

Instant monotonic_now();
WallTime wall_now();

}  // namespace ivs::io
