// GET /metrics (DESIGN.md §2.2): the media server's state in the Prometheus text format, built
// from the same StatusSnapshot that /api/status renders, so the two can never disagree.
//
// Names follow Prometheus conventions: `ivs_` prefix, `_total` for counters, base units except
// where the dashboard's unit is clearer (kbit/s, ms). Per-stage series carry a `stage` label with
// the stage ARN; IVS allows 1,000 stages per account, which bounds the label's cardinality.
#pragma once

#include <string>

#include "app/web/health.hpp"

namespace ivs::app {

std::string render_metrics(const StatusSnapshot& snapshot);

}  // namespace ivs::app
