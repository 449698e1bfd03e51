#include "app/web/edge_counters.hpp"

namespace ivs::app {

SecurityCounters edge_counters(const AuthGuard& guard, const io::HttpServer* server,
                               std::initializer_list<const char*> endpoints) {
  SecurityCounters out;
  for (const char* endpoint : endpoints) {
    out.auth_failures[endpoint] = 0;
    out.auth_throttled[endpoint] = 0;
  }
  for (const auto& [endpoint, count] : guard.failures()) {
    out.auth_failures[endpoint] = count;
  }
  for (const auto& [endpoint, count] : guard.throttled()) {
    out.auth_throttled[endpoint] = count;
  }
  const io::HttpServer::Stats http = server ? server->stats() : io::HttpServer::Stats{};
  out.http_refusals = {{"per_ip", http.refused_per_ip},
                       {"full", http.refused_full},
                       {"evicted", http.evicted},
                       {"header_timeout", http.header_timeouts},
                       {"rate_limited", http.rate_limited},
                       {"before_body", http.rejected_before_body},
                       {"reserved_slot", http.reserved_refused}};
  out.http_connections = server ? server->active_connections() : 0;
  return out;
}

}  // namespace ivs::app
