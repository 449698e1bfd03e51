// Failed-authentication accounting for every credential check of a process (WHIP and WHEP
// bearer tokens, the dashboard's admin token, the stage role's participant JWTs, the API
// server's x-api-key / x-media-auth): issue 13, docs/security.md "Authentication failures".
//
//   request ─► guard.refusal(source)  ── source used up its failures in the window ─► 429 +
//      │                                 Retry-After, credentials NOT checked
//      ▼
//   the check itself ─► failed: guard.failed(endpoint, source, reason)  (counted, logged at most
//      │                        once per source per log interval with a count)
//      ▼                ok:     guard.succeeded(source)  (its failures are forgotten)
//
// Why per source and not per token: a guesser varies the token, not its address. Why 429 without
// checking: the check is what a guesser wants to run; refusing it is the slowdown. The cost is
// that someone behind the same address (NAT) as a guesser is refused too until the window ends;
// the operator sees that in the log line and in ivs_auth_throttled_total.
//
// Time is an input (the methods take `now`), so tests use a simulated clock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/rate_limit.hpp"
#include "io/http_types.hpp"
#include "proto/ip_network.hpp"
#include "proto/time.hpp"

namespace ivs::app {

struct AuthGuardOptions {
  std::size_t max_failures = 10;                     // AUTH_FAILURE_LIMIT; 0: never throttle
  Duration window = std::chrono::seconds(60);        // AUTH_FAILURE_WINDOW
  Duration log_interval = std::chrono::seconds(10);  // one log line per source per interval
};

class AuthGuard {
 public:
  explicit AuthGuard(AuthGuardOptions options = {});

  // The 429 owed to `source` while it is backing off, or nullopt (counted under `endpoint`).
  std::optional<io::HttpResponse> refusal(const io::HttpRequest& request, std::string_view endpoint,
                                          std::string_view source, Instant now);
  // Counts and (rate-limited) logs one failed check. `reason` must not contain the credential.
  void failed(std::string_view endpoint, std::string_view source, std::string_view reason,
              Instant now);
  void succeeded(std::string_view source);

  // Failed checks by endpoint since start ("whip", "whep", ...), for /metrics.
  const std::map<std::string, std::uint64_t, std::less<>>& failures() const { return failures_; }
  // Requests answered 429 by refusal(), by endpoint.
  const std::map<std::string, std::uint64_t, std::less<>>& throttled() const { return throttled_; }
  const AuthGuardOptions& options() const { return options_; }

 private:
  AuthGuardOptions options_;
  engine::FailureThrottle throttle_;
  engine::LogThrottle log_;
  std::map<std::string, std::uint64_t, std::less<>> failures_;
  std::map<std::string, std::uint64_t, std::less<>> throttled_;
};

using Authorizer = std::function<std::optional<io::HttpResponse>(const io::HttpRequest&,
                                                                 const io::RequestContext&)>;

// `inner` behind `guard`: a throttled source gets 429 without `inner` running; a 401 or 403
// from `inner` counts as a failure of `endpoint`, anything else (nullopt included) as a
// success. `now` reads the clock (io::monotonic_now in production).
Authorizer guarded_authorizer(std::shared_ptr<AuthGuard> guard, std::string endpoint,
                              Authorizer inner, std::function<Instant()> now);

// The client address of a request, the key of per-source limits ("127.0.0.1", "::1").
std::string source_address(const io::RequestContext& context);

// `inner` behind an address allow-list (WHIP_INGEST_ALLOWED_CIDRS, named by `variable`): a
// client whose address is in none of `allowed` gets 403 naming its address and the setting,
// before its credentials are looked at; so it is not counted as an authentication failure
// either. An empty `allowed` admits every address.
Authorizer address_allowlist_authorizer(std::vector<IpNetwork> allowed, std::string variable,
                                        Authorizer inner);

}  // namespace ivs::app
