// StageReconciler make-before-break republish (IVS ends a publish session after 24 h) on a
// simulated clock: the old session keeps publishing until the new one is connected, a failed
// republish leaves the old one alone and retries with backoff, removal and old-session loss while
// a republish is in flight are handled.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/stage_reconciler.hpp"

namespace ivs::engine {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

class Harness {
 public:
  explicit Harness(StageReconcilerOptions options) : random_(7), reconciler_(options, random_) {}

  StageReconciler& r() { return reconciler_; }
  Instant now() const { return now_; }
  void drain() {
    while (auto command = reconciler_.poll_command()) {
      commands_.push_back(std::move(*command));
    }
    while (auto event = reconciler_.poll_event()) {
      events_.push_back(std::move(*event));
    }
  }
  void add(const std::string& arn) {
    reconciler_.add_stage(now_, arn);
    drain();
  }
  void remove(const std::string& arn) {
    reconciler_.remove_stage(now_, arn);
    drain();
  }
  void result(const StageResult& result) {
    reconciler_.handle_result(now_, result);
    drain();
  }
  void advance(Duration by) {
    const Instant target = now_ + by;
    while (auto due = reconciler_.poll_timeout()) {
      if (*due > target) {
        break;
      }
      now_ = std::max(now_, *due);
      reconciler_.handle_timeout(now_);
      drain();
    }
    now_ = target;
  }
  template <class T>
  std::vector<T> take() {
    std::vector<T> out;
    auto keep = commands_.begin();
    for (auto& command : commands_) {
      if (auto* match = std::get_if<T>(&command)) {
        out.push_back(*match);
      } else {
        *keep++ = std::move(command);
      }
    }
    commands_.erase(keep, commands_.end());
    return out;
  }
  // FetchToken -> OpenEgress -> connected; returns the attempt id.
  std::uint64_t connect_next() {
    auto fetches = take<FetchToken>();
    EXPECT_EQ(fetches.size(), 1u);
    if (fetches.empty()) {
      return 0;
    }
    result(TokenFetched{fetches[0].stage_arn, fetches[0].attempt, "tok", "https://w/"});
    auto opens = take<OpenEgress>();
    EXPECT_EQ(opens.size(), 1u);
    result(EgressConnected{opens[0].stage_arn, opens[0].attempt, true, ""});
    return opens[0].attempt;
  }
  StageStatus status(const std::string& arn) const {
    for (const auto& s : reconciler_.snapshot()) {
      if (s.stage_arn == arn) {
        return s;
      }
    }
    ADD_FAILURE() << "no stage " << arn;
    return {};
  }
  const std::vector<StageTransition>& events() const { return events_; }

 private:
  SeededRandom random_;
  StageReconciler reconciler_;
  Instant now_{};
  std::vector<StageCommand> commands_;
  std::vector<StageTransition> events_;
};

StageReconcilerOptions options() {
  StageReconcilerOptions o;
  o.max_session_age = hours(23);
  o.attempt_timeout = seconds(30);
  o.republish_backoff = {seconds(10), minutes(5), 2.0, Jitter::none};
  return o;
}

TEST(StageReconcilerRepublish, NewSessionConnectsBeforeTheOldOneIsClosed) {
  Harness h(options());
  h.add("a");
  const auto first = h.connect_next();
  EXPECT_EQ(h.status("a").republish_at, h.now() + hours(23));

  h.advance(hours(23) - seconds(1));
  EXPECT_TRUE(h.take<FetchToken>().empty()) << "republish started early";
  h.advance(seconds(1));
  auto fetches = h.take<FetchToken>();
  ASSERT_EQ(fetches.size(), 1u) << "a fresh token for the republish";
  EXPECT_NE(fetches[0].attempt, first);
  EXPECT_TRUE(h.status("a").republishing);
  EXPECT_EQ(h.status("a").state, StageState::connected) << "still publishing meanwhile";

  h.result(TokenFetched{"a", fetches[0].attempt, "tok2", "https://w/"});
  auto opens = h.take<OpenEgress>();
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0].token, "tok2");
  EXPECT_TRUE(h.take<CloseEgress>().empty()) << "the old session must keep running";

  h.result(EgressConnected{"a", opens[0].attempt, true, ""});
  auto closes = h.take<CloseEgress>();
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].attempt, first) << "only the old session is closed";
  EXPECT_EQ(h.status("a").state, StageState::connected);
  EXPECT_FALSE(h.status("a").republishing);
  EXPECT_EQ(h.r().connecting_count(), 0u);
  EXPECT_EQ(h.status("a").republish_at, h.now() + hours(23)) << "the clock restarts";

  // The old session's close is acknowledged late: ignored, the stage stays connected.
  h.result(EgressClosed{"a", first});
  EXPECT_EQ(h.status("a").state, StageState::connected);
  // A failure of the new (current) session is a normal failure again.
  h.result(EgressFailed{"a", opens[0].attempt, "consent lost"});
  EXPECT_EQ(h.status("a").state, StageState::backoff);
}

TEST(StageReconcilerRepublish, FailedRepublishKeepsOldSessionAndRetriesWithBackoff) {
  Harness h(options());
  h.add("a");
  const auto first = h.connect_next();
  h.advance(hours(23));
  auto fetches = h.take<FetchToken>();
  ASSERT_EQ(fetches.size(), 1u);
  h.result(TokenFetched{"a", fetches[0].attempt, "tok2", "https://w/"});
  auto opens = h.take<OpenEgress>();
  ASSERT_EQ(opens.size(), 1u);
  h.result(EgressFailed{"a", opens[0].attempt, "HTTP 500"});

  EXPECT_TRUE(h.take<CloseEgress>().empty()) << "the old session is not touched";
  EXPECT_EQ(h.status("a").state, StageState::connected);
  EXPECT_FALSE(h.status("a").republishing);
  EXPECT_NE(h.status("a").last_error.find("republish: egress: HTTP 500"), std::string::npos);
  EXPECT_EQ(h.r().connecting_count(), 0u);

  // First retry after 10 s (no jitter), then 20 s after a token failure.
  h.advance(seconds(9));
  EXPECT_TRUE(h.take<FetchToken>().empty());
  h.advance(seconds(1));
  fetches = h.take<FetchToken>();
  ASSERT_EQ(fetches.size(), 1u);
  h.result(TokenFailed{"a", fetches[0].attempt, "API down", true});
  EXPECT_EQ(h.status("a").state, StageState::connected) << "even a permanent token error";
  h.advance(seconds(19));
  EXPECT_TRUE(h.take<FetchToken>().empty());
  h.advance(seconds(1));
  fetches = h.take<FetchToken>();
  ASSERT_EQ(fetches.size(), 1u);

  // A republish that hangs in the egress phase is cut off by the attempt timeout and closed.
  h.result(TokenFetched{"a", fetches[0].attempt, "tok4", "https://w/"});
  opens = h.take<OpenEgress>();
  ASSERT_EQ(opens.size(), 1u);
  h.advance(seconds(30));
  auto closes = h.take<CloseEgress>();
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].attempt, opens[0].attempt);
  EXPECT_NE(closes[0].attempt, first);
  EXPECT_EQ(h.status("a").state, StageState::connected);
}

TEST(StageReconcilerRepublish, OldSessionLossHandsOverToTheRepublishAttempt) {
  Harness h(options());
  h.add("a");
  const auto first = h.connect_next();
  h.advance(hours(23));
  auto fetches = h.take<FetchToken>();
  ASSERT_EQ(fetches.size(), 1u);
  h.result(EgressFailed{"a", first, "consent lost"});
  EXPECT_EQ(h.status("a").state, StageState::connecting);
  EXPECT_EQ(h.r().connecting_count(), 1u);
  EXPECT_TRUE(h.take<FetchToken>().empty()) << "no second attempt: the republish continues";
  h.result(TokenFetched{"a", fetches[0].attempt, "tok2", "https://w/"});
  auto opens = h.take<OpenEgress>();
  ASSERT_EQ(opens.size(), 1u);
  h.result(EgressConnected{"a", opens[0].attempt, true, ""});
  EXPECT_EQ(h.status("a").state, StageState::connected);
  EXPECT_EQ(h.r().connecting_count(), 0u);
}

TEST(StageReconcilerRepublish, RemovalClosesBothSessions) {
  Harness h(options());
  h.add("a");
  const auto first = h.connect_next();
  h.advance(hours(23));
  auto fetches = h.take<FetchToken>();
  h.result(TokenFetched{"a", fetches[0].attempt, "tok2", "https://w/"});
  const auto second = h.take<OpenEgress>().at(0).attempt;
  h.remove("a");
  auto closes = h.take<CloseEgress>();
  ASSERT_EQ(closes.size(), 2u);
  std::vector<std::uint64_t> attempts{closes[0].attempt, closes[1].attempt};
  std::sort(attempts.begin(), attempts.end());
  EXPECT_EQ(attempts, (std::vector<std::uint64_t>{first, second}));
  EXPECT_EQ(h.r().connecting_count(), 0u);
  // The republish connecting late is closed, not adopted.
  h.result(EgressConnected{"a", second, true, ""});
  EXPECT_EQ(h.status("a").state, StageState::closing);
  h.result(EgressClosed{"a", first});
  EXPECT_EQ(h.r().stage_count(), 0u);
}

TEST(StageReconcilerRepublish, RepublishWaitsForAConnectSlotAndNewStagesGoFirst) {
  auto o = options();
  o.max_concurrent_connects = 1;
  Harness h(o);
  h.add("a");
  h.connect_next();
  h.advance(hours(23) - seconds(5));
  h.add("b");  // holds the only slot while "a" becomes due
  auto fetch_b = h.take<FetchToken>();
  ASSERT_EQ(fetch_b.size(), 1u);
  h.advance(seconds(10));
  EXPECT_TRUE(h.take<FetchToken>().empty()) << "no slot free";
  h.result(TokenFetched{"b", fetch_b[0].attempt, "t", "https://w/"});
  h.result(EgressConnected{"b", h.take<OpenEgress>().at(0).attempt, true, ""});
  auto fetches = h.take<FetchToken>();
  ASSERT_EQ(fetches.size(), 1u);
  EXPECT_EQ(fetches[0].stage_arn, "a");
}

TEST(StageReconcilerRepublish, ZeroAgeTurnsItOffAndTrackedSessionsNeverRepublish) {
  auto o = options();
  o.max_session_age = Duration::zero();
  Harness h(o);
  h.add("a");
  h.connect_next();
  h.advance(hours(48));
  EXPECT_TRUE(h.take<FetchToken>().empty());
  EXPECT_FALSE(h.status("a").republish_at.has_value());

  Harness t(options());
  t.add("b");
  auto fetch = t.take<FetchToken>().at(0);
  t.result(TokenFetched{"b", fetch.attempt, "tok", "https://w/"});
  t.result(EgressConnected{"b", t.take<OpenEgress>().at(0).attempt, false, "tracking only"});
  t.advance(hours(48));
  EXPECT_TRUE(t.take<FetchToken>().empty());
}

}  // namespace
}  // namespace ivs::engine
