// Media workers (app/relay/media_workers.hpp, app/relay/worker_shard.hpp) with real threads: a
// RelayChannel on the main loop and two WorkerShards on two worker threads, a publisher over
// loopback (webrtc_test_peer.hpp), and legs attached on each worker. Checks across the two workers:
// a stage join from each shard's GOP cache, PLI aggregation into one request upstream, a NACK
// answered byte-identical on a worker, a publisher switch that keeps every leg's numbering, and
// the channel's status counting the workers' legs and delays. Run under ThreadSanitizer in CI
// (scripts/test.sh). No sleeps: the main loop runs until a condition holds, with a deadline.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <functional>
#include <future>
#include <mutex>

#include "app/egress/worker_egress.hpp"
#include "h264_feed.hpp"
#include "io/clock.hpp"
#include "media_workers_fixture.hpp"
#include "proto/h264_packetizer.hpp"
#include "proto/rtp_builder.hpp"
#include "proto/rtp_packet.hpp"
#include "support/testdata.hpp"
#include "webrtc_test_peer.hpp"

namespace ivs::app {
namespace {

using test::H264Feed;
using test::LockedSink;
using test::MediaWorkersFixture;
using test::plis;
using test::run_until;
using test::TestPeer;
using Fixture = MediaWorkersFixture;

TEST(MediaWorkers, LegsJoinOnTwoWorkersFromTheirGopAndTheirPlisBecomeOneRequest) {
  Fixture f;
  TestPeer publisher(f.io, TestPeer::Mode::publisher, 1);
  f.connect(publisher);
  H264Feed feed;
  const std::size_t gop = feed.send_frame(publisher, true) + feed.send_frame(publisher, false);
  ASSERT_TRUE(
      run_until(f.io, [&] { return f.channel->status().publisher.gop_cache_packets == gop; }));

  std::array<LockedSink, 2> sinks;
  std::array<engine::EgressId, 2> legs{};
  // The channel hands a receive batch to the workers at the end of its loop turn: one more
  // turn and every packet is posted, and a worker runs posts in order, so the attach below
  // finds the shard's cache complete.
  f.io.restart();
  f.io.poll();
  for (std::size_t i = 0; i < 2; ++i) {
    legs[i] = f.attach(i, sinks[i], 0x5000 + static_cast<std::uint32_t>(i));
  }
  ASSERT_TRUE(run_until(f.io, [&] { return sinks[0].size() == gop && sinks[1].size() == gop; }))
      << sinks[0].size() << " " << sinks[1].size();
  for (std::size_t i = 0; i < 2; ++i) {
    auto first = proto::parse_rtp(sinks[i].rtp().front());
    ASSERT_TRUE(first);
    EXPECT_EQ(first->ssrc, 0x5000u + i) << "each leg under its own SSRC";
  }
  EXPECT_EQ(f.channel->status().egress_legs, 2u) << "the status counts the workers' legs";

  const std::size_t before = plis(publisher);
  for (std::size_t i = 0; i < 2; ++i) {
    f.feedback(i, legs[i], proto::RtcpPli{0x99, 0x5000u + static_cast<std::uint32_t>(i)});
  }
  ASSERT_TRUE(run_until(f.io, [&] { return plis(publisher) > before; }));
  run_until(
      f.io, [] { return false; }, std::chrono::milliseconds(200));
  EXPECT_EQ(plis(publisher), before + 1) << "two legs on two workers, one PLI upstream";

  feed.send_frame(publisher, false);
  ASSERT_TRUE(run_until(f.io, [&] { return sinks[1].size() == gop + 1; }));
  EXPECT_GT(f.channel->status().forward_delay.count(), 0u) << "the workers' delays are measured";
}

TEST(MediaWorkers, ANackOnAWorkerIsAnsweredByteIdentical) {
  Fixture f;
  TestPeer publisher(f.io, TestPeer::Mode::publisher, 1);
  f.connect(publisher);
  LockedSink sink;
  const engine::EgressId leg = f.attach(1, sink, 0x6000);
  H264Feed feed;
  const std::size_t sent = feed.send_frame(publisher, true);
  ASSERT_TRUE(run_until(f.io, [&] { return sink.size() == sent; }));
  const Bytes second = sink.rtp()[1];
  const auto view = proto::parse_rtp(second);
  ASSERT_TRUE(view);
  f.feedback(1, leg,
             proto::RtcpNack::from_sequence_numbers(
                 0x99, 0x6000, std::vector<std::uint16_t>{view->sequence_number}));
  ASSERT_EQ(sink.size(), sent + 1) << "answered on the worker, within the feedback call";
  EXPECT_EQ(sink.rtp().back(), second);
}

TEST(MediaWorkers, APublisherSwitchKeepsTheNumberingOfLegsOnBothWorkers) {
  Fixture f;
  TestPeer first(f.io, TestPeer::Mode::publisher, 1);
  f.connect(first);
  std::array<LockedSink, 2> sinks;
  for (std::size_t i = 0; i < 2; ++i) {
    f.attach(i, sinks[i], 0x7000 + static_cast<std::uint32_t>(i));
  }
  H264Feed first_feed;
  const std::size_t keyframe = first_feed.send_frame(first, true);
  ASSERT_TRUE(
      run_until(f.io, [&] { return sinks[0].size() == keyframe && sinks[1].size() == keyframe; }));

  TestPeer second(f.io, TestPeer::Mode::publisher, 2);
  f.connect(second);  // replaces the first once connected
  ASSERT_TRUE(run_until(f.io, [&] { return first.closed; }));
  H264Feed second_feed;
  const std::size_t more = second_feed.send_frame(second, true);
  ASSERT_TRUE(run_until(f.io, [&] {
    return sinks[0].size() == keyframe + more && sinks[1].size() == keyframe + more;
  }));
  for (const auto& sink : sinks) {
    const auto packets = sink.rtp();
    const auto last_old = proto::parse_rtp(packets[keyframe - 1]);
    const auto first_new = proto::parse_rtp(packets[keyframe]);
    ASSERT_TRUE(last_old && first_new);
    EXPECT_EQ(first_new->sequence_number,
              static_cast<std::uint16_t>(last_old->sequence_number + 1));
    EXPECT_EQ(first_new->ssrc, last_old->ssrc);
  }
}

TEST(MediaWorkers, EgressTransportsGoToTheLeastLoadedWorkerAndLeaveItWhenClosed) {
  // The egress split (issue 12): the StageManager's session is the signalling half on this
  // thread, its transport is hosted by a worker's shard, and the worker's load count is given
  // back when the session is closed or destroyed (it used to live in a proxy that is gone).
  Fixture f;
  WhipEgressOptions options;
  options.bind_ip = "127.0.0.1";
  options.request_timeout = std::chrono::milliseconds(500);
  auto factory =
      make_worker_egress_factory(f.io, f.workers, {f.shards[0].get(), f.shards[1].get()}, options);
  // Nobody listens on port 9 of the loopback: the POST fails, which is not what this is about.
  const EgressTarget target{"arn:stage/load", "", "http://127.0.0.1:9/whip"};
  const auto hosted = [&f](std::size_t index) {
    std::size_t count = 0;
    f.on_worker(index, [&] { count = f.shards[index]->transports().size(); });
    return count;
  };

  auto first = factory->open(target, {});
  EXPECT_EQ(f.workers.least_loaded(), 1u);
  auto second = factory->open(target, {});
  EXPECT_EQ(hosted(0), 1u);
  EXPECT_EQ(hosted(1), 1u);

  bool closed = false;
  first->close([&] { closed = true; });
  EXPECT_EQ(f.workers.least_loaded(), 0u) << "worker 0 still counted the closed session";
  ASSERT_TRUE(run_until(f.io, [&] { return closed; }));
  EXPECT_EQ(hosted(0), 0u);

  auto third = factory->open(target, {});  // to the emptier worker
  EXPECT_EQ(hosted(0), 1u);
  second.reset();  // destroyed without close(): its transport goes too, on its own thread
  EXPECT_EQ(f.workers.least_loaded(), 1u);
  EXPECT_EQ(hosted(1), 0u);
  third.reset();
  EXPECT_EQ(hosted(0), 0u);
}

}  // namespace
}  // namespace ivs::app
