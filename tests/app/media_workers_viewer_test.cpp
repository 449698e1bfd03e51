// WHEP viewers sent from media workers (app/relay/worker_viewers.hpp), with real threads and real
// WebRTC over loopback: a publisher and viewers (our own engine's client sessions,
// webrtc_test_peer.hpp) on the main loop, the channel's MediaPlane there too, two WorkerShards
// on two worker threads. Checked: a connected viewer's media comes from a worker (its leg counts
// among the workers' legs) under the viewer's own SSRC, from the plane's one port, starting with
// the cached GOP; its NACK is answered there (the same packet under the same SRTP index); two
// viewers spread over the two workers and their PLIs become one request upstream; a DELETE ends the
// worker's leg. These are our code against our code; the interop tests (tests/interop, Chromium as
// a WHEP viewer of the serve role, which runs media workers by default) are the proof with a stack
// we did not write. Run under ThreadSanitizer in CI (scripts/test.sh). No sleeps: the main loop
// runs until a condition holds.
#include <gtest/gtest.h>

#include <string>

#include "h264_feed.hpp"
#include "media_workers_fixture.hpp"
#include "proto/rtcp_compound.hpp"
#include "proto/rtp_packet.hpp"

namespace ivs::app {
namespace {

using test::H264Feed;
using test::MediaWorkersFixture;
using test::plis;
using test::run_until;
using test::TestPeer;

// POSTs a viewer's offer and waits until both ends are connected.
std::string connect_viewer(MediaWorkersFixture& f, TestPeer& viewer, std::size_t viewers) {
  const auto outcome = f.channel->accept_viewer(viewer.offer());
  if (const auto* refused = std::get_if<SessionRefused>(&outcome)) {
    ADD_FAILURE() << refused->http_status << " " << refused->message;
    return {};
  }
  const auto& accepted = std::get<SessionAccepted>(outcome);
  EXPECT_TRUE(viewer.accept(accepted.answer_sdp));
  EXPECT_TRUE(
      run_until(f.io, [&] { return viewer.connected && f.channel->viewer_count() == viewers; }));
  return accepted.id;
}

std::size_t viewers_on(MediaWorkersFixture& f, std::size_t worker) {
  std::size_t count = 0;
  f.on_worker(worker, [&] { count = f.shards[worker]->viewers().size(); });
  return count;
}

std::uint32_t first_ssrc(const TestPeer& viewer) {
  const auto view = proto::parse_rtp(viewer.media.front().packet);
  return view ? view->ssrc : 0;
}

TEST(MediaWorkersViewers, AViewerGetsTheGopFromAWorkerAndItsNackIsAnsweredThereUnderTheSameIndex) {
  MediaWorkersFixture f;
  TestPeer publisher(f.io, TestPeer::Mode::publisher, 1);
  f.connect(publisher);
  H264Feed feed;
  const std::size_t gop = feed.send_frame(publisher, true) + feed.send_frame(publisher, false);
  ASSERT_TRUE(
      run_until(f.io, [&] { return f.channel->status().publisher.gop_cache_packets == gop; }));

  TestPeer viewer(f.io, TestPeer::Mode::viewer, 12);
  connect_viewer(f, viewer, 1);
  ASSERT_TRUE(run_until(f.io, [&] { return viewer.media.size() >= gop; }))
      << viewer.media.size() << " of " << gop;
  EXPECT_EQ(f.channel->status().viewers_on_workers, 1u) << "the viewer's leg is a worker's";
  EXPECT_EQ(f.channel->status().egress_legs, 0u) << "and no stage's";
  EXPECT_EQ(viewers_on(f, 0) + viewers_on(f, 1), 1u);
  const std::uint32_t ssrc = first_ssrc(viewer);
  EXPECT_NE(ssrc, TestPeer::kVideoSsrc) << "rewritten to the viewer's own SSRC";
  EXPECT_EQ(viewer.session()->remote_address(), f.plane->local_address())
      << "sent from the plane's one port";

  // The viewer NACKs a packet it has: the answer is that packet again, protected under the same
  // SRTP index, which the viewer's replay check then refuses. So the count of replays is the
  // count of retransmissions that reached it, byte-for-byte the packet's own.
  const auto view = proto::parse_rtp(viewer.media[1].packet);
  ASSERT_TRUE(view);
  const std::size_t before = viewer.media.size();
  Bytes nack;
  proto::RtcpNack::from_sequence_numbers(0x99, ssrc,
                                         std::vector<std::uint16_t>{view->sequence_number})
      .append_to(nack);
  viewer.send_rtcp(nack);
  ASSERT_TRUE(
      run_until(f.io, [&] { return viewer.session()->counters().decrypt_replay_failures == 1; }));
  EXPECT_EQ(viewer.session()->counters().decrypt_auth_failures, 0u);
  EXPECT_EQ(viewer.media.size(), before);

  feed.send_frame(publisher, false);
  ASSERT_TRUE(run_until(f.io, [&] { return viewer.media.size() > before; }));
  EXPECT_EQ(f.channel->viewer_count(), 1u);
}

TEST(MediaWorkersViewers, TwoViewersSpreadOverTwoWorkersTheirPlisBecomeOneAndDeleteEndsTheLeg) {
  MediaWorkersFixture f;
  TestPeer publisher(f.io, TestPeer::Mode::publisher, 1);
  f.connect(publisher);
  H264Feed feed;
  const std::size_t gop = feed.send_frame(publisher, true);
  ASSERT_TRUE(
      run_until(f.io, [&] { return f.channel->status().publisher.gop_cache_packets == gop; }));

  TestPeer first(f.io, TestPeer::Mode::viewer, 21);
  TestPeer second(f.io, TestPeer::Mode::viewer, 22);
  const std::string first_id = connect_viewer(f, first, 1);
  connect_viewer(f, second, 2);
  ASSERT_TRUE(
      run_until(f.io, [&] { return first.media.size() >= gop && second.media.size() >= gop; }));
  EXPECT_EQ(viewers_on(f, 0), 1u);
  EXPECT_EQ(viewers_on(f, 1), 1u);

  const std::size_t before = plis(publisher);
  for (TestPeer* viewer : {&first, &second}) {
    Bytes pli;
    proto::RtcpPli{0x99, first_ssrc(*viewer)}.append_to(pli);
    viewer->send_rtcp(pli);
  }
  ASSERT_TRUE(run_until(f.io, [&] { return plis(publisher) > before; }));
  run_until(
      f.io, [] { return false; }, std::chrono::milliseconds(200));
  EXPECT_EQ(plis(publisher), before + 1) << "two viewers on two workers, one PLI upstream";

  EXPECT_TRUE(f.channel->end_session(first_id, SessionRole::viewer));
  EXPECT_EQ(f.channel->viewer_count(), 1u);
  ASSERT_TRUE(run_until(f.io, [&] { return first.closed; })) << "close_notify from the plane";
  ASSERT_TRUE(run_until(f.io, [&] { return f.channel->status().viewers_on_workers == 1; }));
  EXPECT_EQ(viewers_on(f, 0) + viewers_on(f, 1), 1u);
  const std::size_t still = second.media.size();
  feed.send_frame(publisher, true);
  ASSERT_TRUE(run_until(f.io, [&] { return second.media.size() > still; }));
}

}  // namespace
}  // namespace ivs::app
