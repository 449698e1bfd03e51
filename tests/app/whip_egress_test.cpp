// WHIP egress against a local WHIP endpoint played by our own engine (whip_egress_fixture.hpp):
// the 201 path with media reaching the endpoint, early STUN checks, 307 with the bearer token
// re-sent, the relative Location, DELETE on close, and the HTTP failure paths with their reasons.
#include <gtest/gtest.h>

#include "whip_egress_fixture.hpp"

namespace ivs::app::whip_egress_test {
namespace {

using namespace std::chrono_literals;

TEST_F(WhipEgressTest, PublishesAfter201AndDeletesOnClose) {
  auto session = open("/whip");
  ASSERT_TRUE(run_until([&] { return connected_ || failure_; })) << "no outcome";
  ASSERT_FALSE(failure_) << *failure_;
  EXPECT_TRUE(publishing_);
  EXPECT_TRUE(endpoint_.connected);
  ASSERT_EQ(endpoint_.authorizations.size(), 1u);
  EXPECT_EQ(endpoint_.authorizations[0], "Bearer participant-token");
  // The offer: H.264 with the publisher's profile, Opus, sendonly, BUNDLE, rtcp-mux, a host
  // candidate on loopback.
  const std::string& offer = endpoint_.offers[0];
  EXPECT_NE(offer.find("H264/90000"), std::string::npos);
  EXPECT_NE(offer.find("profile-level-id=42c01f"), std::string::npos);
  EXPECT_NE(offer.find("opus/48000/2"), std::string::npos);
  EXPECT_NE(offer.find("a=sendonly"), std::string::npos);
  EXPECT_NE(offer.find("a=group:BUNDLE"), std::string::npos);
  EXPECT_NE(offer.find("a=rtcp-mux"), std::string::npos);
  EXPECT_NE(offer.find("127.0.0.1"), std::string::npos);
  EXPECT_NE(offer.find("typ host"), std::string::npos);
  // The relative Location resolves against the URL that answered; the ETag is kept.
  EXPECT_EQ(session->resource_url(), endpoint_.url("/whip/resource-1"));
  EXPECT_EQ(session->etag(), "\"etag-1\"");
  // The leg carries the negotiated format and our random SSRCs.
  ASSERT_EQ(media_.attached, 1);
  EXPECT_NE(media_.format_.video.ssrc, 0u);
  ASSERT_TRUE(media_.format_.audio.has_value());
  EXPECT_NE(media_.format_.audio->ssrc, media_.format_.video.ssrc);
  EXPECT_FALSE(media_.format_.video.mid.empty());
  EXPECT_NE(media_.format_.video.mid, media_.format_.audio->mid);
  // Media pushed into the sink reaches the endpoint decrypted.
  for (int i = 0; i < 20; ++i) {
    media_.push_video();
  }
  ASSERT_TRUE(run_until([&] { return endpoint_.video_packets >= 20; }));
  EXPECT_EQ(endpoint_.video_ssrc, media_.format_.video.ssrc);
  // The figures are copied from the transport's thread every 500 ms (EgressTransportHost).
  std::optional<EgressStats> stats;
  ASSERT_TRUE(run_until([&] {
    stats = session->stats();
    return stats && stats->packets_sent == 20u;
  }));
  EXPECT_EQ(stats->rtt_ms, 12.5);

  bool closed = false;
  session->close([&] { closed = true; });
  EXPECT_FALSE(closed) << "done must not run inside close()";
  ASSERT_TRUE(run_until([&] { return closed; }));
  EXPECT_EQ(media_.detached, 1);
  ASSERT_EQ(endpoint_.deletes.size(), 1u);
  EXPECT_EQ(endpoint_.deletes[0], "/whip/resource-1");
  EXPECT_FALSE(failure_);
}

// The bug's story (issue 11): aiortc as a WHIP endpoint starts its connectivity checks as soon
// as it has sent the 201, a few milliseconds before our HTTP client has read the answer. The
// egress created its ICE agent only from the answer and dropped such a check, so the endpoint's
// retransmission 500 ms later decided the connect time: a new stage decoded its first frame
// ~600 ms after stage_created instead of ~150 ms. Checks that arrive early are now kept and
// answered once the agent exists.
TEST_F(WhipEgressTest, ACheckThatArrivesBeforeTheAnswerIsAnswered) {
  endpoint_.send_early_check = true;
  auto session = open("/whip");
  ASSERT_TRUE(run_until([&] { return connected_ || failure_; })) << "no outcome";
  ASSERT_FALSE(failure_) << *failure_;
  EXPECT_TRUE(run_until([&] { return endpoint_.early_check_answered; }, 2000ms))
      << "the check sent before the 201 was dropped";
}

TEST_F(WhipEgressTest, Follows307WithTheTokenResent) {
  auto session = open("/redirect");
  ASSERT_TRUE(run_until([&] { return connected_ || failure_; }));
  ASSERT_FALSE(failure_) << *failure_;
  ASSERT_EQ(endpoint_.authorizations.size(), 1u);
  EXPECT_EQ(endpoint_.authorizations[0], "Bearer participant-token");
  // Resolved against the final URL (/whip), not the first one (/redirect).
  EXPECT_EQ(session->resource_url(), endpoint_.url("/whip/resource-1"));
}

TEST_F(WhipEgressTest, HttpErrorFailsWithStatusAndFirstBodyLine) {
  auto session = open("/fail");
  ASSERT_TRUE(run_until([&] { return failure_.has_value(); }));
  EXPECT_NE(failure_->find("HTTP 500: stage exploded"), std::string::npos) << *failure_;
  EXPECT_EQ(failure_->find("second line"), std::string::npos) << *failure_;
  EXPECT_FALSE(connected_);
  EXPECT_EQ(media_.attached, 0);
}

TEST_F(WhipEgressTest, OwnerMayDestroyTheSessionInsideOnFailed) {
  // What the StageManager does: erase the session, then keep using the callback's captures.
  std::unique_ptr<WhipEgressSession> session;
  std::string seen;
  EgressCallbacks callbacks;
  const std::string captured = "still alive after the session is gone";
  callbacks.on_failed = [&session, &seen, captured](const std::string& reason) {
    session.reset();
    seen = captured + ": " + reason;
  };
  session = std::make_unique<WhipEgressSession>(
      io_, host_, spec(), EgressTarget{"arn:stage/test", "t", endpoint_.url("/fail")},
      std::move(callbacks));
  ASSERT_TRUE(run_until([&] { return !seen.empty(); }));
  EXPECT_EQ(session, nullptr);
  EXPECT_NE(seen.find("still alive after the session is gone: WHIP POST"), std::string::npos);
}

TEST_F(WhipEgressTest, RedirectLoopFailsClearly) {
  auto session = open("/loop");
  ASSERT_TRUE(run_until([&] { return failure_.has_value(); }));
  EXPECT_NE(failure_->find("redirect loop"), std::string::npos) << *failure_;
}

TEST_F(WhipEgressTest, MalformedAnswerFailsClearlyAndDeletesTheResource) {
  auto session = open("/garbage");
  ASSERT_TRUE(run_until([&] { return failure_.has_value(); }));
  EXPECT_NE(failure_->find("WHIP answer"), std::string::npos) << *failure_;
  ASSERT_TRUE(run_until([&] { return !endpoint_.deletes.empty(); }));
  EXPECT_EQ(endpoint_.deletes[0], "/whip/garbage");
}

}  // namespace
}  // namespace ivs::app::whip_egress_test
