// WHIP egress against a local WHIP endpoint played by our own engine (whip_egress_fixture.hpp):
// an endpoint that never answers, ICE that never completes, a close during the POST, the STUN
// server of the 201's Link header, the signalling on the control thread while the transport's
// worker is busy, and the factory's mode.
#include <gtest/gtest.h>

#include "whip_egress_fixture.hpp"

namespace ivs::app::whip_egress_test {
namespace {

using namespace std::chrono_literals;

TEST_F(WhipEgressTest, EndpointThatNeverAnswersTimesOut) {
  // Accepts the TCP connection and never says a word.
  asio::ip::tcp::acceptor acceptor(io_, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket held(io_);
  acceptor.async_accept(held, [](auto) {});
  options_.request_timeout = 500ms;
  EgressCallbacks callbacks;
  callbacks.on_failed = [this](std::string reason) { failure_ = std::move(reason); };
  auto session = std::make_unique<WhipEgressSession>(
      io_, host_, spec(),
      EgressTarget{
          "arn:stage/test", "t",
          "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/whip"},
      std::move(callbacks));
  ASSERT_TRUE(run_until([&] { return failure_.has_value(); }, 3000ms));
  EXPECT_NE(failure_->find("timed out"), std::string::npos) << *failure_;
}

TEST_F(WhipEgressTest, NoIceAnswerFailsAfterConnectTimeout) {
  options_.connect_timeout = 800ms;
  auto session = open("/deaf");  // a valid answer, but nobody answers STUN
  ASSERT_TRUE(run_until([&] { return failure_.has_value(); }, 4000ms));
  EXPECT_NE(failure_->find("ICE/DTLS connect timed out after 800 ms"), std::string::npos)
      << *failure_;
  EXPECT_FALSE(connected_);
  // The resource the endpoint created is released.
  ASSERT_TRUE(run_until([&] { return !endpoint_.deletes.empty(); }));
}

TEST_F(WhipEgressTest, CloseWhilePostingDeletesOnceTheAnswerArrives) {
  auto session = open("/whip");
  bool closed = false;
  // Run until the POST has reached the endpoint but before ICE could finish.
  ASSERT_TRUE(run_until([&] { return !endpoint_.offers.empty(); }));
  session->close([&] { closed = true; });
  ASSERT_TRUE(run_until([&] { return closed; }));
  EXPECT_FALSE(connected_);
  EXPECT_FALSE(failure_);
  EXPECT_EQ(endpoint_.deletes.size(), 1u);
  EXPECT_EQ(media_.detached, media_.attached);
}

TEST_F(WhipEgressTest, StunLinkFromThe201IsUsed) {
  endpoint_.link_header = "<stun:127.0.0.1:3478>; rel=\"ice-server\"";
  auto session = open("/whip");
  ASSERT_TRUE(run_until([&] { return connected_ || failure_; }));
  ASSERT_FALSE(failure_) << *failure_;
  ASSERT_TRUE(session->stun_server().has_value());
  EXPECT_EQ(session->stun_server()->to_string(), "127.0.0.1:3478");
}

TEST_F(WhipEgressTest, SignallingRunsOnTheControlThreadWhileTheTransportsWorkerIsBusy) {
  // Issue 12: a stage's POST and DELETE (TLS handshakes to IVS, DNS, redirects) ran on the media
  // worker that feeds the stage, so a burst of stages joining or leaving held up every leg of
  // that worker. Now only the transport runs there. With the transport on a worker thread, the
  // session connects, and while that worker is blocked its close still sends the DELETE from
  // this thread; the transport closes once the worker runs again.
  asio::io_context worker_io;
  auto worker_work = asio::make_work_guard(worker_io);
  FakeMediaSource worker_media;  // touched on the worker only, read here after the join
  auto worker_host = std::make_unique<EgressTransportHost>(worker_io, worker_media);
  std::thread worker([&worker_io] { worker_io.run(); });

  EgressCallbacks callbacks;
  callbacks.on_connected = [this](bool publishing, const std::string&) {
    connected_ = true;
    publishing_ = publishing;
  };
  callbacks.on_failed = [this](std::string reason) { failure_ = std::move(reason); };
  auto session = std::make_unique<WhipEgressSession>(
      io_, *worker_host, spec(), EgressTarget{"arn:stage/test", "t", endpoint_.url("/whip")},
      std::move(callbacks));
  ASSERT_TRUE(run_until([&] { return connected_ || failure_; }));
  ASSERT_FALSE(failure_) << *failure_;

  std::promise<void> gate;
  asio::post(worker_io, [opened = gate.get_future().share()] { opened.wait(); });
  bool closed = false;
  session->close([&] { closed = true; });
  const bool deleted = run_until([&] { return endpoint_.deletes.size() == 1; });
  const bool closed_while_blocked = closed;
  gate.set_value();
  EXPECT_TRUE(deleted) << "the DELETE waited for the transport's worker";
  EXPECT_FALSE(closed_while_blocked) << "done ran before the transport had closed";
  EXPECT_TRUE(run_until([&] { return closed; }));

  worker_work.reset();
  worker_io.stop();
  worker.join();
  EXPECT_EQ(worker_host->size(), 0u);
  worker_host.reset();
  EXPECT_EQ(worker_media.attached, 1);
  EXPECT_EQ(worker_media.detached, 1);
  EXPECT_EQ(endpoint_.deletes[0], "/whip/resource-1");
}

TEST_F(WhipEgressTest, FactoryModeIsWhip) {
  auto factory = make_whip_egress_factory(io_, media_, options_);
  EXPECT_EQ(factory->mode(), "whip");
  EgressCallbacks callbacks;
  callbacks.on_connected = [this](bool publishing, const std::string&) {
    connected_ = true;
    publishing_ = publishing;
  };
  callbacks.on_failed = [this](std::string reason) { failure_ = std::move(reason); };
  auto session = factory->open(EgressTarget{"arn", "tok", endpoint_.url("/whip")}, callbacks);
  ASSERT_TRUE(run_until([&] { return connected_ || failure_; }));
  ASSERT_FALSE(failure_) << *failure_;
  EXPECT_TRUE(run_until([&] { return session->stats().has_value(); }));
}

}  // namespace
}  // namespace ivs::app::whip_egress_test
