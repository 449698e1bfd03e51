#include "app/web/auth_guard.hpp"

#include <spdlog/spdlog.h>

namespace ivs::app {

AuthGuard::AuthGuard(AuthGuardOptions options)
    : options_(options),
      throttle_(engine::FailureThrottleConfig{options.max_failures, options.window}),
      log_(options.log_interval) {}

std::optional<io::HttpResponse> AuthGuard::refusal(const io::HttpRequest& request,
                                                   std::string_view endpoint,
                                                   std::string_view source, Instant now) {
  const auto wait = throttle_.blocked_for(source, now);
  if (!wait) {
    return std::nullopt;
  }
  ++throttled_[std::string(endpoint)];
  const auto seconds = engine::retry_after_seconds(*wait);
  auto response = io::text_response(io::http::status::too_many_requests,
                                    "too many failed authentications from this address; retry in " +
                                        std::to_string(seconds) + " s\n",
                                    "text/plain; charset=utf-8", request.version());
  response.set(io::http::field::retry_after, std::to_string(seconds));
  return response;
}

void AuthGuard::failed(std::string_view endpoint, std::string_view source, std::string_view reason,
                       Instant now) {
  ++failures_[std::string(endpoint)];
  const std::size_t in_window = throttle_.record_failure(source, now);
  const std::string key = std::string(source) + " " + std::string(endpoint);
  if (const auto lines = log_.record(key, now)) {
    const bool throttling = options_.max_failures > 0 && in_window >= options_.max_failures;
    spdlog::warn("auth: {} failed authentication(s) on {} from {} ({}){}", *lines, endpoint, source,
                 reason, throttling ? "; further attempts get 429 until the window ends" : "");
  }
}

void AuthGuard::succeeded(std::string_view source) {
  throttle_.record_success(source);
}

Authorizer guarded_authorizer(std::shared_ptr<AuthGuard> guard, std::string endpoint,
                              Authorizer inner, std::function<Instant()> now) {
  return
      [guard = std::move(guard), endpoint = std::move(endpoint), inner = std::move(inner),
       now = std::move(now)](const io::HttpRequest& request,
                             const io::RequestContext& context) -> std::optional<io::HttpResponse> {
        const std::string source = source_address(context);
        const Instant at = now();
        if (auto refusal = guard->refusal(request, endpoint, source, at)) {
          return refusal;
        }
        auto answer = inner ? inner(request, context) : std::nullopt;
        const bool failed = answer && (answer->result() == io::http::status::unauthorized ||
                                       answer->result() == io::http::status::forbidden);
        if (failed) {
          guard->failed(endpoint, source,
                        answer->result() == io::http::status::unauthorized ? "401" : "403", at);
        } else if (!answer) {
          guard->succeeded(source);
        }
        return answer;
      };
}

std::string source_address(const io::RequestContext& context) {
  return context.remote.address().to_string();
}

Authorizer address_allowlist_authorizer(std::vector<IpNetwork> allowed, std::string variable,
                                        Authorizer inner) {
  if (allowed.empty()) {
    return inner;
  }
  return [allowed = std::move(allowed), variable = std::move(variable), inner = std::move(inner)](
             const io::HttpRequest& request,
             const io::RequestContext& context) -> std::optional<io::HttpResponse> {
    const std::string address = source_address(context);
    const std::optional<SocketAddress> parsed = SocketAddress::from_ip(address, 0);
    if (!parsed || !any_contains(allowed, *parsed)) {
      return io::text_response(
          io::http::status::forbidden,
          "This address (" + address + ") may not publish here: it is not in " + variable + ".\n",
          "text/plain; charset=utf-8", request.version());
    }
    return inner ? inner(request, context) : std::nullopt;
  };
}

}  // namespace ivs::app
