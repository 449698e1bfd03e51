// StageReconciler on a simulated clock with a recording egress: every command the reconciler
// emits is captured, and the test decides how (and when) each token fetch and egress open ends.
#include "engine/stage_reconciler.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace ivs::engine {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Records what the StageManager would be asked to do, like an egress factory that never
// answers on its own.
class Harness {
 public:
  explicit Harness(StageReconcilerOptions options = {}, std::uint64_t seed = 42)
      : random_(seed), reconciler_(options, random_) {}

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
  void list(const std::vector<std::string>& arns) {
    reconciler_.replace_desired(now_, arns);
    drain();
  }
  void result(const StageResult& result) {
    reconciler_.handle_result(now_, result);
    drain();
  }
  // Moves the simulated clock, firing every timeout on the way, in order.
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
  bool no_commands() const { return commands_.empty(); }

  // Drives one stage from FetchToken to connected.
  void connect(const FetchToken& fetch, const std::string& token = "tok") {
    result(TokenFetched{fetch.stage_arn, fetch.attempt, token, "https://whip.example/"});
    auto opens = take<OpenEgress>();
    ASSERT_EQ(opens.size(), 1u);
    result(EgressConnected{opens[0].stage_arn, opens[0].attempt, true, ""});
  }

  StageState state_of(const std::string& arn) const {
    for (const auto& status : reconciler_.snapshot()) {
      if (status.stage_arn == arn) {
        return status.state;
      }
    }
    ADD_FAILURE() << "no stage " << arn;
    return StageState::failed;
  }
  bool has(const std::string& arn) const {
    const auto all = reconciler_.snapshot();
    return std::any_of(all.begin(), all.end(), [&](const auto& s) { return s.stage_arn == arn; });
  }

 private:
  SeededRandom random_;
  StageReconciler reconciler_;
  Instant now_{};
  std::vector<StageCommand> commands_;
  std::vector<StageTransition> events_;
};

TEST(StageReconciler, AddFetchesTokenThenOpensEgressWithIt) {
  Harness h;
  h.add("arn:a");
  auto fetches = h.take<FetchToken>();
  ASSERT_EQ(fetches.size(), 1u);
  EXPECT_EQ(fetches[0].stage_arn, "arn:a");
  EXPECT_EQ(h.state_of("arn:a"), StageState::connecting);

  h.result(TokenFetched{"arn:a", fetches[0].attempt, "jwt-a", "https://whip.example/a"});
  auto opens = h.take<OpenEgress>();
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0].token, "jwt-a");
  EXPECT_EQ(opens[0].whip_url, "https://whip.example/a");

  h.result(EgressConnected{"arn:a", opens[0].attempt, true, ""});
  EXPECT_EQ(h.state_of("arn:a"), StageState::connected);
  EXPECT_EQ(h.r().count_in(StageState::connected), 1u);
  EXPECT_EQ(h.r().connecting_count(), 0u);
}

TEST(StageReconciler, TrackingOnlySessionIsNotCountedAsConnected) {
  Harness h;
  h.add("arn:a");
  auto fetch = h.take<FetchToken>().at(0);
  h.result(TokenFetched{"arn:a", fetch.attempt, "t", "u"});
  auto open = h.take<OpenEgress>().at(0);
  h.result(EgressConnected{"arn:a", open.attempt, false, "not published"});
  EXPECT_EQ(h.state_of("arn:a"), StageState::tracked);
  EXPECT_EQ(h.r().count_in(StageState::connected), 0u);
  EXPECT_EQ(h.r().snapshot().at(0).note, "not published");
}

TEST(StageReconciler, RemoveConnectedStageClosesItThenForgetsIt) {
  Harness h;
  h.add("arn:a");
  h.connect(h.take<FetchToken>().at(0));
  h.remove("arn:a");
  auto closes = h.take<CloseEgress>();
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(h.state_of("arn:a"), StageState::closing);
  h.result(EgressClosed{"arn:a", closes[0].attempt});
  EXPECT_FALSE(h.has("arn:a"));
}

TEST(StageReconciler, CloseThatNeverCompletesIsAbandonedAfterCloseTimeout) {
  Harness h;
  h.add("arn:a");
  h.connect(h.take<FetchToken>().at(0));
  h.remove("arn:a");
  h.advance(seconds(4));
  EXPECT_TRUE(h.has("arn:a"));
  h.advance(seconds(2));
  EXPECT_FALSE(h.has("arn:a"));
}

TEST(StageReconciler, FullResyncRemovesStaleAndAddsMissing) {
  Harness h;
  h.list({"arn:a", "arn:b"});
  for (const auto& fetch : h.take<FetchToken>()) {
    h.connect(fetch);
  }
  ASSERT_EQ(h.r().count_in(StageState::connected), 2u);

  h.list({"arn:b", "arn:c"});
  auto closes = h.take<CloseEgress>();
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].stage_arn, "arn:a");
  auto fetches = h.take<FetchToken>();
  ASSERT_EQ(fetches.size(), 1u);
  EXPECT_EQ(fetches[0].stage_arn, "arn:c");
  EXPECT_EQ(h.state_of("arn:b"), StageState::connected);  // untouched

  // Listing the same set again changes nothing (level-triggered, idempotent).
  h.list({"arn:b", "arn:c"});
  EXPECT_TRUE(h.no_commands());
}

TEST(StageReconciler, FailureBacksOffWithGrowingJitteredDelays) {
  // Per failure n (0-based) the retry delay lies in [1 s, min(30 s, 2^n s)], the retry's
  // FetchToken comes exactly at that deadline, and late delays outweigh early ones.
  Harness h({}, 7);
  h.add("arn:a");
  auto fetch = h.take<FetchToken>().at(0);
  Duration sum_early{};
  Duration sum_late{};
  for (int n = 0; n < 12; ++n) {
    h.result(TokenFailed{"arn:a", fetch.attempt, "HTTP 503"});
    const auto status = h.r().snapshot().at(0);
    ASSERT_TRUE(status.next_event.has_value());
    const Duration delay = *status.next_event - h.now();
    const Duration ceiling = std::min<Duration>(seconds(30), seconds(1) * (1 << std::min(n, 5)));
    EXPECT_GE(delay, seconds(1)) << "failure " << n;
    EXPECT_LE(delay, ceiling) << "failure " << n;
    if (n < 3) {
      sum_early += delay;
    } else if (n >= 9) {
      sum_late += delay;
    }
    h.advance(delay);
    auto next = h.take<FetchToken>();
    ASSERT_EQ(next.size(), 1u) << "retry must come exactly at the backoff deadline";
    EXPECT_NE(next[0].attempt, fetch.attempt);
    fetch = next[0];
  }
  EXPECT_GT(sum_late, sum_early);
}

TEST(StageReconciler, JitterDiffersBetweenStagesThatFailTogether) {
  Harness h;
  std::vector<std::string> arns;
  for (int i = 0; i < 20; ++i) {
    arns.push_back("arn:" + std::to_string(i));
  }
  h.list(arns);
  for (int round = 0; round < 3; ++round) {
    for (const auto& fetch : h.take<FetchToken>()) {
      h.result(TokenFailed{fetch.stage_arn, fetch.attempt, "down"});
    }
    h.advance(seconds(1) * (1 << round));  // every retry of this round is due by now
  }
  std::vector<Instant> retry_at;
  for (const auto& fetch : h.take<FetchToken>()) {
    h.result(TokenFailed{fetch.stage_arn, fetch.attempt, "down"});
  }
  for (const auto& status : h.r().snapshot()) {
    if (status.next_event) {
      retry_at.push_back(*status.next_event);
    }
  }
  std::sort(retry_at.begin(), retry_at.end());
  const auto distinct = std::unique(retry_at.begin(), retry_at.end()) - retry_at.begin();
  EXPECT_GT(distinct, 5);
}

TEST(StageReconciler, ConcurrencyBoundRespected) {
  Harness h({.max_concurrent_connects = 3});
  std::vector<std::string> arns;
  for (int i = 0; i < 10; ++i) {
    arns.push_back("arn:" + std::to_string(i));
  }
  h.list(arns);
  auto fetches = h.take<FetchToken>();
  ASSERT_EQ(fetches.size(), 3u);
  EXPECT_EQ(h.r().connecting_count(), 3u);
  EXPECT_EQ(h.r().count_in(StageState::pending), 7u);
  // First come, first served: the queue follows list order.
  EXPECT_EQ(fetches[0].stage_arn, "arn:0");
  EXPECT_EQ(fetches[2].stage_arn, "arn:2");

  h.connect(fetches[0]);
  auto next = h.take<FetchToken>();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].stage_arn, "arn:3");
  EXPECT_LE(h.r().connecting_count(), 3u);

  // Drive everything to connected, never exceeding three attempts in flight.
  std::vector<FetchToken> in_flight = {fetches[1], fetches[2], next[0]};
  while (!in_flight.empty()) {
    ASSERT_LE(h.r().connecting_count(), 3u);
    const FetchToken fetch = in_flight.front();
    in_flight.erase(in_flight.begin());
    h.connect(fetch);
    for (const auto& more : h.take<FetchToken>()) {
      in_flight.push_back(more);
    }
  }
  EXPECT_EQ(h.r().count_in(StageState::connected), 10u);
}

TEST(StageReconciler, SlowStageNeverDelaysAnother) {
  Harness h({.max_concurrent_connects = 2, .attempt_timeout = seconds(30)});
  h.list({"arn:slow", "arn:a", "arn:b", "arn:c"});
  auto fetches = h.take<FetchToken>();
  ASSERT_EQ(fetches.size(), 2u);
  ASSERT_EQ(fetches[0].stage_arn, "arn:slow");  // holds its slot, never answers
  h.result(TokenFetched{"arn:slow", fetches[0].attempt, "t", "u"});
  ASSERT_EQ(h.take<OpenEgress>().size(), 1u);  // open never completes

  // The other three go through the second slot one after another without any clock movement.
  FetchToken current = fetches[1];
  for (const std::string arn : {"arn:a", "arn:b", "arn:c"}) {
    ASSERT_EQ(current.stage_arn, arn);
    h.connect(current);
    EXPECT_EQ(h.state_of(arn), StageState::connected);
    auto next = h.take<FetchToken>();
    if (!next.empty()) {
      current = next[0];
    }
  }
  EXPECT_EQ(h.now(), Instant{});
  // The slow one is cut off by its own deadline, its egress closed, and retried later.
  h.advance(seconds(30));
  auto closes = h.take<CloseEgress>();
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].stage_arn, "arn:slow");
  EXPECT_EQ(h.state_of("arn:slow"), StageState::backoff);
  EXPECT_NE(h.r().snapshot().at(3).last_error.find("timed out"), std::string::npos);
}

TEST(StageReconciler, TokenFetchedForEveryAttempt) {
  Harness h;
  h.add("arn:a");
  auto first = h.take<FetchToken>().at(0);
  h.connect(first, "token-1");
  h.result(EgressFailed{"arn:a", first.attempt, "consent lost"});
  EXPECT_EQ(h.state_of("arn:a"), StageState::backoff);
  h.advance(seconds(2));
  auto second = h.take<FetchToken>();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0].attempt, first.attempt);
  h.result(TokenFetched{"arn:a", second[0].attempt, "token-2", "u"});
  auto open = h.take<OpenEgress>().at(0);
  EXPECT_EQ(open.token, "token-2");
  EXPECT_EQ(h.r().snapshot().at(0).attempts, 2u);
}

TEST(StageReconciler, DeleteWhileFetchingTokenForgetsAtOnceAndIgnoresLateToken) {
  Harness h;
  h.add("arn:a");
  auto fetch = h.take<FetchToken>().at(0);
  h.remove("arn:a");
  EXPECT_FALSE(h.has("arn:a"));
  EXPECT_EQ(h.r().connecting_count(), 0u);
  h.result(TokenFetched{"arn:a", fetch.attempt, "late", "u"});
  EXPECT_TRUE(h.take<OpenEgress>().empty());
}

TEST(StageReconciler, DeleteWhileOpeningClosesCleanly) {
  Harness h;
  h.add("arn:a");
  auto fetch = h.take<FetchToken>().at(0);
  h.result(TokenFetched{"arn:a", fetch.attempt, "t", "u"});
  auto open = h.take<OpenEgress>().at(0);
  h.remove("arn:a");
  auto closes = h.take<CloseEgress>();
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].attempt, open.attempt);
  EXPECT_EQ(h.r().connecting_count(), 0u);  // the slot is free for others at once
  // A late "connected" for the abandoned attempt must not resurrect the stage.
  h.result(EgressConnected{"arn:a", open.attempt, true, ""});
  EXPECT_EQ(h.state_of("arn:a"), StageState::closing);
  h.result(EgressClosed{"arn:a", open.attempt});
  EXPECT_FALSE(h.has("arn:a"));
}

TEST(StageReconciler, LateConnectForForgottenAttemptIsClosed) {
  Harness h;
  h.add("arn:a");
  auto fetch = h.take<FetchToken>().at(0);
  h.result(TokenFetched{"arn:a", fetch.attempt, "t", "u"});
  auto open = h.take<OpenEgress>().at(0);
  h.advance(seconds(30));  // attempt times out: CloseEgress, backoff
  ASSERT_EQ(h.take<CloseEgress>().size(), 1u);
  h.result(EgressConnected{"arn:a", open.attempt, true, ""});
  auto closes = h.take<CloseEgress>();
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(h.state_of("arn:a"), StageState::backoff);
}

TEST(StageReconciler, ReAddWhileClosingReconnectsAfterClose) {
  Harness h;
  h.add("arn:a");
  h.connect(h.take<FetchToken>().at(0));
  h.remove("arn:a");
  auto close = h.take<CloseEgress>().at(0);
  h.add("arn:a");
  EXPECT_TRUE(h.take<FetchToken>().empty());  // not while the old session is still closing
  h.result(EgressClosed{"arn:a", close.attempt});
  auto fetches = h.take<FetchToken>();
  ASSERT_EQ(fetches.size(), 1u);
  EXPECT_NE(fetches[0].attempt, close.attempt);
}

TEST(StageReconciler, ReAddAfterDeleteStartsFresh) {
  Harness h;
  h.add("arn:a");
  h.connect(h.take<FetchToken>().at(0));
  h.remove("arn:a");
  h.result(EgressClosed{"arn:a", h.take<CloseEgress>().at(0).attempt});
  ASSERT_FALSE(h.has("arn:a"));
  h.add("arn:a");
  ASSERT_EQ(h.take<FetchToken>().size(), 1u);
  EXPECT_EQ(h.r().snapshot().at(0).attempts, 1u);
}

TEST(StageReconciler, PermanentTokenFailureParksStageUntilListedAgain) {
  Harness h;
  h.add("arn:a");
  auto fetch = h.take<FetchToken>().at(0);
  h.result(TokenFailed{"arn:a", fetch.attempt, "HTTP 404 stage not found", true});
  EXPECT_EQ(h.state_of("arn:a"), StageState::failed);
  h.advance(seconds(600));
  EXPECT_TRUE(h.take<FetchToken>().empty());
  h.list({"arn:a"});
  EXPECT_EQ(h.take<FetchToken>().size(), 1u);
}

TEST(StageReconciler, UnexpectedCloseOfConnectedStageRetries) {
  Harness h;
  h.add("arn:a");
  auto fetch = h.take<FetchToken>().at(0);
  h.connect(fetch);
  h.result(EgressClosed{"arn:a", fetch.attempt});
  EXPECT_EQ(h.state_of("arn:a"), StageState::backoff);
}

TEST(StageReconciler, LongLivedConnectionResetsBackoff) {
  Harness h;
  h.add("arn:a");
  // Fail a few times so the backoff ceiling has grown.
  for (int i = 0; i < 5; ++i) {
    auto fetch = h.take<FetchToken>().at(0);
    h.result(TokenFailed{"arn:a", fetch.attempt, "x"});
    h.advance(seconds(31));
  }
  auto fetch = h.take<FetchToken>().at(0);
  h.connect(fetch);
  h.advance(seconds(60));
  h.result(EgressFailed{"arn:a", fetch.attempt, "dropped"});
  const auto status = h.r().snapshot().at(0);
  EXPECT_EQ(status.failures, 1u);
  EXPECT_LE(*status.next_event - h.now(), seconds(1));
}

TEST(StageReconciler, BackoffExpiryJoinsTheBackOfTheQueue) {
  Harness h({.max_concurrent_connects = 1});
  h.list({"arn:a", "arn:b"});
  auto a = h.take<FetchToken>().at(0);
  h.result(TokenFailed{"arn:a", a.attempt, "x"});
  auto b = h.take<FetchToken>().at(0);
  EXPECT_EQ(b.stage_arn, "arn:b");
  h.advance(seconds(5));  // a's retry is due, but b holds the only slot
  EXPECT_TRUE(h.take<FetchToken>().empty());
  EXPECT_EQ(h.state_of("arn:a"), StageState::pending);
  h.connect(b);
  auto retry = h.take<FetchToken>();
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].stage_arn, "arn:a");
}

TEST(StageReconciler, ShutdownClosesEverythingAndRefusesNewStages) {
  Harness h;
  h.list({"arn:a", "arn:b", "arn:c"});
  auto fetches = h.take<FetchToken>();
  h.connect(fetches[0]);
  h.connect(fetches[1]);
  h.r().shutdown(h.now());
  h.drain();
  auto closes = h.take<CloseEgress>();
  EXPECT_EQ(closes.size(), 2u);
  EXPECT_FALSE(h.has("arn:c"));  // was fetching a token: nothing to close
  h.add("arn:d");
  EXPECT_FALSE(h.has("arn:d"));
  for (const auto& close : closes) {
    h.result(EgressClosed{close.stage_arn, close.attempt});
  }
  EXPECT_EQ(h.r().stage_count(), 0u);
  EXPECT_FALSE(h.r().poll_timeout().has_value());
}

TEST(StageReconciler, StatusRecordsSinceAndLastError) {
  Harness h;
  h.advance(seconds(10));
  h.add("arn:a");
  auto fetch = h.take<FetchToken>().at(0);
  h.advance(seconds(2));
  h.result(TokenFailed{"arn:a", fetch.attempt, "HTTP 500"});
  const auto status = h.r().snapshot().at(0);
  EXPECT_EQ(status.state, StageState::backoff);
  EXPECT_EQ(status.since, Instant{} + seconds(12));
  EXPECT_EQ(status.last_error, "token: HTTP 500");
  EXPECT_EQ(status.attempts, 1u);
  EXPECT_STREQ(to_string(status.state), "backoff");
}

}  // namespace
}  // namespace ivs::engine
