// StageManager: the reconciler's commands executed against a recording egress factory and a
// scripted token source (no sockets), on simulated time (SimulatedControlClock): the default
// backoff (1 s to 30 s) and session age (23 h) are kept and asserted to the instant, and a test
// runs in microseconds because the clock jumps to the next deadline. The fakes answer through
// the io_context, as real token requests and session closes do; the clock runs its ready
// handlers between timers.
#include "app/control/stage_manager.hpp"

#include "app/control/static_destinations.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <map>

#include "support/simulated_control_clock.hpp"

namespace ivs::app {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

// Sessions stay open until the test tells them how to end.
class RecordingEgress final : public EgressFactory {
 public:
  struct Record {
    EgressTarget target;
    EgressCallbacks callbacks;
    bool close_called = false;
    std::optional<EgressStats> stats;  // what the session reports while "publishing"
  };
  class Session final : public EgressSession {
   public:
    Session(boost::asio::io_context& io, Record& record) : io_(io), record_(record) {}
    void close(std::function<void()> done) override {
      record_.close_called = true;
      boost::asio::post(io_, std::move(done));
    }
    std::optional<EgressStats> stats() const override { return record_.stats; }

   private:
    boost::asio::io_context& io_;
    Record& record_;
  };

  explicit RecordingEgress(boost::asio::io_context& io) : io_(io) {}
  std::unique_ptr<EgressSession> open(EgressTarget target, EgressCallbacks callbacks) override {
    auto record = std::make_unique<Record>();
    record->target = std::move(target);
    record->callbacks = std::move(callbacks);
    records.push_back(std::move(record));
    return std::make_unique<Session>(io_, *records.back());
  }
  std::string mode() const override { return "whip"; }

  std::vector<std::unique_ptr<Record>> records;

 private:
  boost::asio::io_context& io_;
};

struct Fixture {
  explicit Fixture(engine::StageReconcilerOptions options = {}) : egress(io), random(5) {
    manager = std::make_unique<StageManager>(
        io, options,
        [this](const std::string& arn, TokenCallback done) {
          ++token_requests;
          const std::string token = "token-" + std::to_string(token_requests);
          boost::asio::post(io, [done, token] {
            done(TokenInfo{token, "p", "https://whip.example/", WhipUrlSource::response}, false);
          });
        },
        egress, random, &clock);
  }
  engine::StageState state_of(const std::string& arn) const {
    for (const auto& s : manager->snapshot()) {
      if (s.stage_arn == arn) {
        return s.state;
      }
    }
    return engine::StageState::failed;
  }

  bool run_until(const std::function<bool()>& done, Duration limit = std::chrono::minutes(10)) {
    return clock.run_until(io, done, limit);
  }

  boost::asio::io_context io;
  test::SimulatedControlClock clock;
  RecordingEgress egress;
  engine::SeededRandom random;
  int token_requests = 0;
  std::unique_ptr<StageManager> manager;
};

TEST(StageManager, OpensEgressWithTheFetchedTokenAndCountsConnected) {
  Fixture f;
  f.manager->sync({"arn:a"});
  ASSERT_TRUE(f.run_until([&] { return f.egress.records.size() == 1; }));
  EXPECT_EQ(f.egress.records[0]->target.token, "token-1");
  EXPECT_EQ(f.egress.records[0]->target.whip_url, "https://whip.example/");
  f.egress.records[0]->callbacks.on_connected(true, "");
  EXPECT_EQ(f.manager->connected_count(), 1u);
  EXPECT_EQ(f.manager->open_sessions(), 1u);
}

TEST(StageManager, FailedSessionIsRetriedWithAFreshToken) {
  Fixture f;
  f.manager->add("arn:a");
  ASSERT_TRUE(f.run_until([&] { return f.egress.records.size() == 1; }));
  f.egress.records[0]->callbacks.on_connected(true, "");
  const Instant failed_at = f.clock.now();
  f.egress.records[0]->callbacks.on_failed("consent lost");
  EXPECT_EQ(f.manager->open_sessions(), 0u);
  ASSERT_TRUE(f.run_until([&] { return f.egress.records.size() == 2; }));
  EXPECT_EQ(f.egress.records[1]->target.token, "token-2");
  EXPECT_EQ(f.token_requests, 2);
  // The first retry waits the backoff's first step: at least its 1 s minimum, and no longer
  // than that step's ceiling (full jitter over [1 s, 2 s]).
  EXPECT_GE(f.clock.now() - failed_at, seconds(1));
  EXPECT_LE(f.clock.now() - failed_at, seconds(2));
}

// Regression: the first WHIP egress crashed the media server whenever a stage endpoint refused
// the connection. The session reported on_failed from its own code and then went on using its
// members, but the StageManager destroyed the session inside that callback (use after free; the
// process died silently in the control-plane process tests). The StageManager now defers the
// destruction of a failed session to the next turn of the loop.
TEST(StageManager, FailedSessionIsNotDestroyedInsideItsOwnCallback) {
  struct SelfReportingEgress final : EgressFactory {
    struct Session final : EgressSession {
      Session(EgressCallbacks callbacks, bool& destroyed_in_callback)
          : callbacks(std::move(callbacks)), destroyed_in_callback(destroyed_in_callback) {}
      ~Session() override {
        if (in_callback) {
          destroyed_in_callback = true;
        }
      }
      void fail() {
        in_callback = true;
        callbacks.on_failed("connect: Connection refused");
        in_callback = false;  // the session's own code continues after the callback
      }
      void close(std::function<void()> done) override { done(); }
      EgressCallbacks callbacks;
      bool& destroyed_in_callback;
      bool in_callback = false;
    };
    explicit SelfReportingEgress(boost::asio::io_context& io) : io(io) {}
    std::unique_ptr<EgressSession> open(EgressTarget, EgressCallbacks callbacks) override {
      auto session = std::make_unique<Session>(std::move(callbacks), destroyed_in_callback);
      boost::asio::post(io, [raw = session.get()] { raw->fail(); });
      ++opened;
      return session;
    }
    std::string mode() const override { return "whip"; }
    boost::asio::io_context& io;
    bool destroyed_in_callback = false;
    int opened = 0;
  };
  boost::asio::io_context io;
  test::SimulatedControlClock clock;
  SelfReportingEgress egress(io);
  engine::SeededRandom random(7);
  StageManager manager(
      io, {},
      [&io](const std::string&, TokenCallback done) {
        boost::asio::post(io, [done] {
          done(TokenInfo{"t", "p", "http://127.0.0.1:9/whip", WhipUrlSource::response}, false);
        });
      },
      egress, random, &clock);
  manager.add("arn:a");
  ASSERT_TRUE(clock.run_until(io, [&] { return egress.opened >= 2; }));  // failed, retried
  EXPECT_FALSE(egress.destroyed_in_callback);
}

TEST(StageManager, RemovedStageIsClosedThroughTheInterface) {
  Fixture f;
  f.manager->sync({"arn:a", "arn:b"});
  ASSERT_TRUE(f.run_until([&] { return f.egress.records.size() == 2; }));
  for (auto& record : f.egress.records) {
    record->callbacks.on_connected(true, "");
  }
  f.manager->remove("arn:a");
  ASSERT_TRUE(f.run_until([&] { return f.manager->snapshot().size() == 1; }));
  EXPECT_TRUE(f.egress.records[0]->close_called);
  EXPECT_FALSE(f.egress.records[1]->close_called);
  EXPECT_EQ(f.state_of("arn:b"), engine::StageState::connected);
}

// SHARD_PEERS: the manager publishes only what its filter holds, keeps the whole list for the
// next refilter, and a stage handed over to another peer whose session fails (the endpoint
// ending the old publisher once the new owner connected) is ended, not retried.
TEST(StageManager, FilterPublishesTheShardAndHandedOverStagesAreNotRetried) {
  Fixture f;
  std::map<std::string, StageManager::StageHold, std::less<>> hold{
      {"arn:a", StageManager::StageHold::kYes}, {"arn:b", StageManager::StageHold::kNo}};
  f.manager->set_filter([&](Instant, std::string_view arn) {
    auto found = hold.find(arn);
    return found == hold.end() ? StageManager::StageHold::kNo : found->second;
  });
  f.manager->sync({"arn:a", "arn:b"});
  ASSERT_TRUE(f.run_until([&] { return f.egress.records.size() == 1; }));
  EXPECT_EQ(f.manager->listed().size(), 2u);
  EXPECT_EQ(f.manager->snapshot().size(), 1u);
  f.manager->add("arn:c");  // another peer's
  EXPECT_EQ(f.manager->snapshot().size(), 1u);
  EXPECT_EQ(f.manager->listed().size(), 3u);

  // The peer set changed: b is ours now, a is being handed over.
  hold["arn:b"] = StageManager::StageHold::kYes;
  hold["arn:a"] = StageManager::StageHold::kHandingOver;
  f.manager->refilter();
  ASSERT_TRUE(f.run_until([&] { return f.egress.records.size() == 2; }));
  EXPECT_FALSE(f.egress.records[0]->close_called);  // make-before-break: a is still published
  f.egress.records[0]->callbacks.on_connected(true, "");
  f.egress.records[0]->callbacks.on_failed("the stage closed the DTLS session");
  ASSERT_TRUE(f.run_until([&] { return f.manager->snapshot().size() == 1; }));
  f.run_until([] { return false; }, seconds(10));  // past any backoff step for a
  EXPECT_EQ(f.egress.records.size(), 2u);          // no retry for a
  EXPECT_EQ(f.state_of("arn:b"), engine::StageState::connecting);
}

TEST(StageManager, ShutdownClosesEverySessionThenReportsDone) {
  Fixture f;
  f.manager->sync({"arn:a", "arn:b", "arn:c"});
  ASSERT_TRUE(f.run_until([&] { return f.egress.records.size() == 3; }));
  f.egress.records[0]->callbacks.on_connected(true, "");
  f.egress.records[1]->callbacks.on_connected(false, "tracking");  // still opening: arn:c
  bool done = false;
  f.manager->shutdown([&] { done = true; });
  ASSERT_TRUE(f.run_until([&] { return done; }));
  for (auto& record : f.egress.records) {
    EXPECT_TRUE(record->close_called) << record->target.stage_arn;
  }
  EXPECT_EQ(f.manager->open_sessions(), 0u);
  EXPECT_EQ(f.manager->connected_count(), 0u);
}

TEST(StageManager, RepublishSwitchesStatsToTheNewSessionThenClosesTheOld) {
  Fixture f;  // the default session age: 23 h, an hour before IVS ends a session
  f.manager->add("arn:a");
  ASSERT_TRUE(f.run_until([&] { return f.egress.records.size() == 1; }));
  f.egress.records[0]->stats = EgressStats{};
  f.egress.records[0]->stats->packets_sent = 1;
  f.egress.records[0]->callbacks.on_connected(true, "");
  const Instant connected_at = f.clock.now();
  ASSERT_EQ(f.manager->stats("arn:a")->packets_sent, 1u);

  // The session age is reached: a second session opens with a fresh token, not before.
  ASSERT_TRUE(f.run_until([&] { return f.egress.records.size() == 2; }, hours(24)));
  EXPECT_GE(f.clock.now() - connected_at, hours(23));
  EXPECT_LT(f.clock.now() - connected_at, hours(23) + seconds(1));
  EXPECT_EQ(f.egress.records[1]->target.token, "token-2");
  EXPECT_FALSE(f.egress.records[0]->close_called) << "the old one keeps publishing";
  EXPECT_EQ(f.manager->stats("arn:a")->packets_sent, 1u) << "the new one is not publishing yet";
  // The one-pass form the status snapshot uses agrees, newest publishing session first.
  EXPECT_EQ(f.manager->stats_by_stage().at("arn:a").packets_sent, 1u);

  f.egress.records[1]->stats = EgressStats{};
  f.egress.records[1]->stats->packets_sent = 2;
  f.egress.records[1]->callbacks.on_connected(true, "");
  EXPECT_EQ(f.manager->stats("arn:a")->packets_sent, 2u);
  EXPECT_EQ(f.manager->stats_by_stage().at("arn:a").packets_sent, 2u);
  EXPECT_EQ(f.manager->stats_by_stage().size(), 1u);
  ASSERT_TRUE(f.run_until([&] { return f.egress.records[0]->close_called; }));
  EXPECT_FALSE(f.egress.records[1]->close_called);
  EXPECT_EQ(f.state_of("arn:a"), engine::StageState::connected);
  EXPECT_EQ(f.manager->connected_count(), 1u);
}

TEST(StaticDestinations, PublishesToEachConfiguredUrlWithItsToken) {
  boost::asio::io_context io;
  test::SimulatedControlClock clock;
  RecordingEgress egress(io);
  engine::SeededRandom random(3);
  StaticDestinations destinations(
      io, {{"http://a.example/whip", "tok-a"}, {"http://b.example/whip", ""}}, egress, random, {},
      &clock);
  EXPECT_EQ(destinations.stage_ids(), (std::vector<std::string>{"static-1", "static-2"}));
  EXPECT_EQ(destinations.url_of("static-2"), "http://b.example/whip");
  destinations.start();
  ASSERT_TRUE(clock.run_until(io, [&] { return egress.records.size() == 2; }));
  std::map<std::string, EgressTarget> by_id;
  for (auto& record : egress.records) {
    by_id[record->target.stage_arn] = record->target;
  }
  EXPECT_EQ(by_id["static-1"].whip_url, "http://a.example/whip");
  EXPECT_EQ(by_id["static-1"].token, "tok-a");
  EXPECT_EQ(by_id["static-2"].token, "");

  // Same backoff and retry as API stages: a failure opens the destination again.
  egress.records[0]->callbacks.on_failed("HTTP 500");
  ASSERT_TRUE(clock.run_until(io, [&] { return egress.records.size() == 3; }));
  EXPECT_EQ(egress.records[2]->target.stage_arn, egress.records[0]->target.stage_arn);

  bool done = false;
  destinations.shutdown([&] { done = true; });
  ASSERT_TRUE(clock.run_until(io, [&] { return done; }));
  EXPECT_EQ(destinations.manager().open_sessions(), 0u);
}

}  // namespace
}  // namespace ivs::app
