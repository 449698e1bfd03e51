// The application side of the HTTP edge's defences (issue 13, docs/security.md): the AuthGuard
// (failed authentications counted, throttled per address, logged at a rate limit), the WHIP/WHEP
// header check that answers before a body is read, WHEP closed by default, and the admission of
// connecting (half-open) sessions. Time is an input: the guard and the admission take `now`.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "app/relay/media_plane.hpp"
#include "app/web/auth_guard.hpp"
#include "app/web/session_admission.hpp"
#include "app/web/whip_routes.hpp"
#include "support/testdata.hpp"

namespace ivs::app {
namespace {

namespace http = io::http;
using std::chrono::seconds;

const Instant kStart = Instant{} + seconds(500);

io::HttpRequest post(const std::string& target, const std::string& token,
                     std::size_t announced_length = 0, const std::string& body = "") {
  io::HttpRequest request{http::verb::post, target, 11};
  request.set(http::field::host, "media.example:3001");
  request.set(http::field::content_type, "application/sdp");
  if (!token.empty()) {
    request.set(http::field::authorization, "Bearer " + token);
  }
  request.body() = body;
  request.set(http::field::content_length,
              std::to_string(body.empty() ? announced_length : body.size()));
  return request;
}

io::RequestContext from(const std::string& address) {
  io::RequestContext context;
  context.remote = boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(address), 40000);
  context.scheme_host = "http://media.example:3001";
  return context;
}

// Issue 13, attack 5: ~10,300 wrong-token guesses per second from one client met no log line,
// no metric and no slowdown. After AUTH_FAILURE_LIMIT failures in the window the address gets
// 429 + Retry-After without its token being checked; every failure is counted by endpoint.
TEST(AuthGuard, ThrottlesAGuesserAfterTheLimitWithoutCheckingItsTokens) {
  auto guard =
      std::make_shared<AuthGuard>(AuthGuardOptions{.max_failures = 3, .window = seconds(60)});
  Instant now = kStart;
  int inner_calls = 0;
  auto authorize = guarded_authorizer(
      guard, "whip",
      [&](const io::HttpRequest& request, const io::RequestContext& context) {
        ++inner_calls;
        return bearer_authorizer("right-token-0123456789", "WHIP_INGEST_TOKEN", true)(request,
                                                                                      context);
      },
      [&] { return now; });
  for (int i = 0; i < 3; ++i) {
    const auto answer = authorize(post("/whip", "guess-" + std::to_string(i)), from("10.0.0.9"));
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->result(), http::status::unauthorized);
  }
  now += seconds(5);
  const auto throttled = authorize(post("/whip", "right-token-0123456789"), from("10.0.0.9"));
  ASSERT_TRUE(throttled);
  EXPECT_EQ(throttled->result(), http::status::too_many_requests);
  EXPECT_EQ((*throttled)[http::field::retry_after], "55");
  EXPECT_EQ(inner_calls, 3) << "a throttled request's token is not checked";
  EXPECT_EQ(guard->failures().at("whip"), 3u);
  EXPECT_EQ(guard->throttled().at("whip"), 1u);
  // Another address is not affected, and the window's end lifts the block.
  EXPECT_FALSE(authorize(post("/whip", "right-token-0123456789"), from("10.0.0.10")));
  now = kStart + seconds(60);
  EXPECT_FALSE(authorize(post("/whip", "right-token-0123456789"), from("10.0.0.9")));
}

TEST(AuthGuard, ClosedEndpointsAndOtherRefusalsAreNotAuthenticationFailures) {
  auto guard = std::make_shared<AuthGuard>(AuthGuardOptions{.max_failures = 1});
  auto closed =
      guarded_authorizer(guard, "whep", closed_authorizer("closed"), [] { return kStart; });
  // 403 from a closed endpoint is counted by the guard only when wrapped; the serve role leaves
  // closed_authorizer unwrapped. A wrapped 503 (ingest disabled) is never a failure.
  auto disabled = guarded_authorizer(
      guard, "whip", bearer_authorizer("", "WHIP_INGEST_TOKEN", true), [] { return kStart; });
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(disabled(post("/whip", "x"), from("10.0.0.1"))->result(),
              http::status::service_unavailable);
  }
  EXPECT_EQ(guard->failures().count("whip"), 0u);
  EXPECT_EQ(closed(post("/whep", ""), from("10.0.0.2"))->result(), http::status::forbidden);
}

// Issue 13 item 11 (the seed's "IP whitelist"): with WHIP_INGEST_ALLOWED_CIDRS set, an address
// outside it is refused 403 before its token is looked at, so it can neither publish nor guess.
TEST(AddressAllowlist, RefusesUnlistedAddressesBeforeTheirTokenIsChecked) {
  auto guard = std::make_shared<AuthGuard>(AuthGuardOptions{.max_failures = 1});
  int inner_calls = 0;
  auto authorize = address_allowlist_authorizer(
      *parse_ip_network_list("10.0.0.0/8, 2001:db8::/32"), "WHIP_INGEST_ALLOWED_CIDRS",
      guarded_authorizer(
          guard, "whip",
          [&](const io::HttpRequest& request, const io::RequestContext& context) {
            ++inner_calls;
            return bearer_authorizer("right-token-0123456789", "WHIP_INGEST_TOKEN", true)(request,
                                                                                          context);
          },
          [] { return kStart; }));
  EXPECT_FALSE(authorize(post("/whip", "right-token-0123456789"), from("10.1.2.3")));
  EXPECT_FALSE(authorize(post("/whip", "right-token-0123456789"), from("2001:db8::7")));
  EXPECT_EQ(authorize(post("/whip", "wrong"), from("10.1.2.3"))->result(),
            http::status::unauthorized);
  EXPECT_EQ(inner_calls, 3);
  const auto refused = authorize(post("/whip", "right-token-0123456789"), from("192.0.2.1"));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result(), http::status::forbidden);
  EXPECT_NE(refused->body().find("192.0.2.1"), std::string::npos);
  EXPECT_NE(refused->body().find("WHIP_INGEST_ALLOWED_CIDRS"), std::string::npos);
  EXPECT_EQ(inner_calls, 3) << "an unlisted address's token is never checked";
  EXPECT_EQ(guard->failures().at("whip"), 1u) << "the 403 is not an authentication failure";
}

TEST(AddressAllowlist, AnEmptyListAdmitsEveryAddress) {
  auto authorize = address_allowlist_authorizer(
      {}, "WHIP_INGEST_ALLOWED_CIDRS",
      bearer_authorizer("right-token-0123456789", "WHIP_INGEST_TOKEN", true));
  EXPECT_FALSE(authorize(post("/whip", "right-token-0123456789"), from("192.0.2.1")));
}

struct ChannelFixture {
  explicit ChannelFixture(const RelayChannelOptions& options = {}) {
    MediaPlaneOptions plane_options;
    plane_options.bind_ip = "127.0.0.1";
    auto started = MediaPlane::start(io, plane_options);
    plane = std::move(*started);
    channel = std::make_unique<RelayChannel>(io, *plane, options);
  }
  boost::asio::io_context io;
  std::unique_ptr<MediaPlane> plane;
  std::unique_ptr<RelayChannel> channel;
};

// Issue 13, attack 2: the token (and Content-Length) are judged from the header alone, so a
// stalled body without a token is refused with 401 before the server reads or reserves it.
TEST(WhipHeaderCheck, RefusesWithoutATokenOrWithAnOversizedBodyFromTheHeaderAlone) {
  ChannelFixture f;
  WhipEndpoint whip;
  whip.channel = [&](const io::RequestContext&) { return f.channel.get(); };
  whip.authorize = bearer_authorizer("s3cret-token-0123456", "WHIP_INGEST_TOKEN", true);
  const auto no_token = whip_header_check(whip, post("/whip", "", 1 << 20), from("10.0.0.1"));
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->result(), http::status::unauthorized);
  const auto too_big =
      whip_header_check(whip, post("/whip", "s3cret-token-0123456", 1 << 20), from("10.0.0.1"));
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->result(), http::status::payload_too_large);
  EXPECT_FALSE(
      whip_header_check(whip, post("/whip", "s3cret-token-0123456", 4000), from("10.0.0.1")));
  EXPECT_EQ(f.plane->session_count(), 0u);
}

// The counts were first derived from the plane (sessions minus publishers minus connected
// viewers); the channel now counts its own viewer sessions, connected or not.
TEST(SessionAdmission, ViewerCountsComeFromTheChannelStatus) {
  ChannelStatus status;
  status.publisher.live = true;
  status.publisher.connecting = true;
  status.viewers = 3;
  status.viewers_connecting = 5;
  const auto counts = viewer_counts(status);
  EXPECT_EQ(counts.connected, 3u);
  EXPECT_EQ(counts.connecting, 5u);
}

// Issue 13, attack 3: 150 WHEP offers that never did ICE filled all 100 viewer slots and real
// viewers got 503. Connecting sessions now have their own quota (global and per address), so the
// viewer limit counts connected viewers only.
TEST(SessionAdmission, ConnectingViewersHaveTheirOwnQuota) {
  SessionAdmission admission({.max_viewers = 100,
                              .max_connecting = 20,
                              .max_connecting_per_ip = 4,
                              .connect_timeout = seconds(10)});
  ViewerCounts counts;
  for (int i = 0; i < 4; ++i) {
    ASSERT_FALSE(admission.admit_viewer(counts, "10.6.6.6", kStart)) << i;
    admission.viewer_accepted("10.6.6.6", kStart);
    ++counts.connecting;
  }
  auto refused = admission.admit_viewer(counts, "10.6.6.6", kStart + seconds(1));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->http_status, 429);
  EXPECT_EQ(refused->retry_after_seconds, 9);
  // A real viewer elsewhere still gets in, even with the attacker's sessions half-open.
  EXPECT_FALSE(admission.admit_viewer(counts, "192.0.2.7", kStart + seconds(1)));
  // Once the sessions connected (none connecting), the same address is not held back.
  counts = {.connected = 4, .connecting = 0};
  EXPECT_FALSE(admission.admit_viewer(counts, "10.6.6.6", kStart + seconds(1)));
  // The global quota of connecting sessions.
  counts = {.connected = 0, .connecting = 20};
  refused = admission.admit_viewer(counts, "192.0.2.8", kStart);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->http_status, 503);
  EXPECT_TRUE(refused->retry_after_seconds);
  // The viewer limit counts connected viewers.
  counts = {.connected = 100, .connecting = 0};
  EXPECT_EQ(admission.admit_viewer(counts, "192.0.2.9", kStart)->http_status, 503);
}

// Issue 13, attack 3 (second half): with WHIP_PUBLISHER_POLICY=refuse one half-open publisher
// session locked the broadcaster out for 15 s. A session that never connected is now replaced by
// the next authenticated offer (the serve role's `admit` hook, as here); a live one still wins.
TEST(SessionAdmission, RefusePolicyReplacesAPublisherThatNeverConnected) {
  RelayChannelOptions options;
  options.refuse_second_publisher = true;
  ChannelFixture f(options);
  SessionAdmission admission({});
  WhipEndpoint whip;
  whip.channel = [&](const io::RequestContext&) { return f.channel.get(); };
  whip.authorize = bearer_authorizer("s3cret-token-0123456", "WHIP_INGEST_TOKEN", true);
  whip.admit = [&](const io::HttpRequest&, const io::RequestContext&,
                   RelayChannel& channel) -> std::optional<io::HttpResponse> {
    if (auto stale = admission.stale_publisher(channel.status().publisher)) {
      channel.end_session(*stale, SessionRole::publisher);
    }
    return std::nullopt;
  };
  whip.on_accepted = [&](const SessionAccepted& accepted, const io::RequestContext&) {
    admission.publisher_accepted(accepted.id);
  };
  const std::string offer = test::read_testdata("sdp/obs-offer.sdp");
  EXPECT_EQ(
      whip_post(whip, post("/whip", "s3cret-token-0123456", 0, offer), from("10.0.0.1")).result(),
      http::status::created);
  EXPECT_EQ(
      whip_post(whip, post("/whip", "s3cret-token-0123456", 0, offer), from("10.0.0.1")).result(),
      http::status::created);
  EXPECT_EQ(f.plane->session_count(), 1u) << "the half-open one was replaced";
  PublisherStatus live;
  live.live = true;
  EXPECT_FALSE(admission.stale_publisher(live));
}

}  // namespace
}  // namespace ivs::app
