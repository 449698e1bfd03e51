// The HTTP edge's counters for /metrics (issue 13, docs/security.md): failed and throttled
// authentications by endpoint from the AuthGuard, and the HttpServer's refusals by reason.
#pragma once

#include <initializer_list>

#include "app/web/auth_guard.hpp"
#include "app/web/health.hpp"
#include "io/http_server.hpp"

namespace ivs::app {

// `endpoints` get a series from the start (zero included), so a dashboard can graph them
// before the first failure. `server` may be null (before start()).
SecurityCounters edge_counters(const AuthGuard& guard, const io::HttpServer* server,
                               std::initializer_list<const char*> endpoints);

}  // namespace ivs::app
