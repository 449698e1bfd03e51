#include "app/web/whip_routes.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

#include "proto/text.hpp"

namespace ivs::app {

namespace {

namespace http = io::http;

io::HttpResponse text(const io::HttpRequest& request, http::status status, std::string message) {
  if (!message.empty() && message.back() != '\n') {
    message.push_back('\n');
  }
  return io::text_response(status, std::move(message), "text/plain; charset=utf-8",
                           request.version());
}

// "application/sdp", "application/sdp; charset=utf-8", any case.
bool is_sdp_content_type(std::string_view value) {
  const std::string type = proto::text::to_lower(value.substr(0, value.find(';')));
  const auto first = type.find_first_not_of(" \t");
  const auto last = type.find_last_not_of(" \t");
  return first != std::string::npos && type.substr(first, last - first + 1) == "application/sdp";
}

std::string_view noun(const WhipEndpoint& endpoint) {
  return endpoint.role == SessionRole::publisher ? "WHIP" : "WHEP";
}

io::HttpResponse no_channel(const WhipEndpoint& endpoint, const io::HttpRequest& request) {
  return text(request, http::status::not_found,
              std::string("no ") + std::string(noun(endpoint)) + " endpoint at " +
                  std::string(io::request_path(request)));
}

}  // namespace

io::HttpResponse session_refused_response(const io::HttpRequest& request,
                                          const SessionRefused& refused) {
  auto response = text(request, static_cast<http::status>(refused.http_status), refused.message);
  if (refused.retry_after_seconds) {
    response.set(http::field::retry_after, std::to_string(*refused.retry_after_seconds));
  }
  return response;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Every byte of the longer input is read whatever the contents, so the time says nothing
  // about where the first difference is.
  const std::size_t length = std::max(a.size(), b.size());
  unsigned difference = a.size() == b.size() ? 0U : 1U;
  for (std::size_t i = 0; i < length; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    difference |= static_cast<unsigned>(x ^ y);
  }
  return difference == 0;
}

std::optional<std::string> bearer_token(const io::HttpRequest& request) {
  const std::string_view header = request[http::field::authorization];
  if (header.size() < 7 || proto::text::to_lower(header.substr(0, 7)) != "bearer ") {
    return std::nullopt;
  }
  std::string_view token = header.substr(7);
  while (!token.empty() && token.front() == ' ') {
    token.remove_prefix(1);
  }
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
    token.remove_suffix(1);
  }
  if (token.empty()) {
    return std::nullopt;
  }
  return std::string(token);
}

std::function<std::optional<io::HttpResponse>(const io::HttpRequest&, const io::RequestContext&)>
bearer_authorizer(std::string expected, std::string variable, bool required) {
  return bearer_authorizer(std::make_shared<const RotatingSecret>(std::move(expected)),
                           std::move(variable), required, [] { return Instant{}; });
}

std::function<std::optional<io::HttpResponse>(const io::HttpRequest&, const io::RequestContext&)>
bearer_authorizer(std::shared_ptr<const RotatingSecret> expected, std::string variable,
                  bool required, std::function<Instant()> now) {
  return [expected = std::move(expected), variable = std::move(variable), required,
          now = std::move(now)](const io::HttpRequest& request,
                                const io::RequestContext&) -> std::optional<io::HttpResponse> {
    if (expected->empty()) {
      if (!required) {
        return std::nullopt;
      }
      return text(request, http::status::service_unavailable,
                  "this endpoint is disabled: set " + variable +
                      " on the server and send it as 'Authorization: Bearer <token>'");
    }
    const auto token = bearer_token(request);
    if (!token || !expected->matches(*token, now())) {
      auto response = text(request, http::status::unauthorized,
                           token ? "the bearer token in the Authorization header is not valid"
                                 : "missing 'Authorization: Bearer <token>' header");
      response.set(http::field::www_authenticate, "Bearer");
      return response;
    }
    return std::nullopt;
  };
}

std::function<std::optional<io::HttpResponse>(const io::HttpRequest&, const io::RequestContext&)>
closed_authorizer(std::string message) {
  return
      [message = std::move(message)](const io::HttpRequest& request,
                                     const io::RequestContext&) -> std::optional<io::HttpResponse> {
        return text(request, http::status::forbidden, message);
      };
}

namespace {

io::HttpResponse too_large(const WhipEndpoint& endpoint, const io::HttpRequest& request) {
  return text(
      request, http::status::payload_too_large,
      "the SDP offer is larger than " + std::to_string(endpoint.max_body_bytes / 1024) + " KiB");
}

// The checks shared by the header check and the POST handler, in the order a client should
// learn about its mistakes: credentials first (nothing else is said to a stranger).
std::optional<io::HttpResponse> pre_offer_checks(const WhipEndpoint& endpoint,
                                                 const io::HttpRequest& request,
                                                 const io::RequestContext& context) {
  if (endpoint.authorize) {
    if (auto refusal = endpoint.authorize(request, context)) {
      return refusal;
    }
  }
  if (!is_sdp_content_type(request[http::field::content_type])) {
    return text(request, http::status::unsupported_media_type,
                "the offer must be sent with 'Content-Type: application/sdp'");
  }
  return std::nullopt;
}

}  // namespace

std::optional<io::HttpResponse> whip_header_check(const WhipEndpoint& endpoint,
                                                  const io::HttpRequest& request,
                                                  const io::RequestContext& context) {
  if (auto refusal = pre_offer_checks(endpoint, request, context)) {
    return refusal;
  }
  // The announced length, before a byte of the body is read (a chunked body is bounded by the
  // server's body limit while it is read).
  const std::string_view length_text = request[http::field::content_length];
  std::uint64_t length = 0;
  const auto [end, error] =
      std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  if (!length_text.empty() && (error != std::errc() || length > endpoint.max_body_bytes)) {
    return too_large(endpoint, request);  // out of range counts as too large; junk was a 400
  }
  return std::nullopt;
}

io::HttpResponse whip_post(const WhipEndpoint& endpoint, const io::HttpRequest& request,
                           const io::RequestContext& context) {
  // Credentials first: a channel lookup may create a channel (the stage role's WHIP), which a
  // refused client must never cause.
  if (auto refusal = pre_offer_checks(endpoint, request, context)) {
    return std::move(*refusal);
  }
  RelayChannel* channel = endpoint.channel ? endpoint.channel(context) : nullptr;
  if (!channel) {
    return no_channel(endpoint, request);
  }
  if (request.body().size() > endpoint.max_body_bytes) {
    return too_large(endpoint, request);
  }
  if (request.body().empty()) {
    return text(request, http::status::bad_request, "the request has no SDP offer in its body");
  }
  if (endpoint.admit) {
    if (auto refusal = endpoint.admit(request, context, *channel)) {
      return std::move(*refusal);
    }
  }
  const AcceptOutcome outcome =
      endpoint.role == SessionRole::publisher
          ? channel->accept_publisher(request.body())
          : channel->accept_viewer(request.body(), io::query_param(request, "layer"));
  if (const auto* refused = std::get_if<SessionRefused>(&outcome)) {
    return session_refused_response(request, *refused);
  }
  const auto& accepted = std::get<SessionAccepted>(outcome);
  if (endpoint.on_accepted) {
    endpoint.on_accepted(accepted, context);
  }
  std::string collection(io::request_path(request));
  while (collection.size() > 1 && collection.back() == '/') {
    collection.pop_back();
  }
  auto response = io::text_response(http::status::created, accepted.answer_sdp, "application/sdp",
                                    request.version());
  response.set(http::field::location, context.scheme_host + collection + "/" + accepted.id);
  response.set(http::field::etag, accepted.etag);
  return response;
}

io::HttpResponse whip_delete(const WhipEndpoint& endpoint, const io::HttpRequest& request,
                             const io::RequestContext& context) {
  RelayChannel* channel = endpoint.channel ? endpoint.channel(context) : nullptr;
  const std::string id = context.path_param(kResourceParam);
  if (!channel || id.empty() || !channel->end_session(id, endpoint.role)) {
    return text(request, http::status::not_found,
                std::string("no such ") + std::string(noun(endpoint)) + " session");
  }
  return text(request, http::status::ok, "session ended");
}

io::HttpResponse whip_patch(const WhipEndpoint& endpoint, const io::HttpRequest& request,
                            const io::RequestContext&) {
  auto response = text(request, http::status::method_not_allowed,
                       std::string(noun(endpoint)) +
                           " PATCH (trickle ICE, ICE restart) is not supported: the answer "
                           "carries every candidate");
  response.set(http::field::allow, "DELETE, OPTIONS");
  return response;
}

io::HttpResponse whip_options(const WhipEndpoint&, const io::HttpRequest& request,
                              const io::RequestContext&) {
  io::HttpResponse response{http::status::no_content, request.version()};
  response.set(http::field::allow, "POST, OPTIONS");
  response.set("Accept-Post", "application/sdp");
  return response;
}

void mount_whip_endpoint(io::HttpRouter& router, WhipEndpoint endpoint) {
  auto shared = std::make_shared<const WhipEndpoint>(std::move(endpoint));
  const std::string resource = shared->pattern + "/{" + std::string(kResourceParam) + "}";
  router.post(shared->pattern,
              [shared](const io::HttpRequest& request, const io::RequestContext& context) {
                return whip_post(*shared, request, context);
              });
  router.header_check(http::verb::post, shared->pattern,
                      [shared](const io::HttpRequest& request, const io::RequestContext& context) {
                        return whip_header_check(*shared, request, context);
                      });
  router.add(http::verb::options, shared->pattern,
             [shared](const io::HttpRequest& request, const io::RequestContext& context) {
               return whip_options(*shared, request, context);
             });
  router.del(resource, [shared](const io::HttpRequest& request, const io::RequestContext& context) {
    return whip_delete(*shared, request, context);
  });
  router.add(http::verb::patch, resource,
             [shared](const io::HttpRequest& request, const io::RequestContext& context) {
               return whip_patch(*shared, request, context);
             });
}

}  // namespace ivs::app
