// Congestion-control feedback from RelayChannel to a real (loopback, SRTP) publisher: one that
// offers the transport-cc extension, rtcp-fb transport-cc and goog-remb receives transport-wide
// feedback covering the packets it sent and a REMB with INGEST_MAX_BITRATE; one that offers
// goog-remb only (OBS's shape) receives neither, only the relay's receiver reports as before.
// No sleeps: the loop runs until a condition holds, with a deadline.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <functional>
#include <set>

#include "app/relay/media_plane.hpp"
#include "app/relay/relay_channel.hpp"
#include "proto/rtp_builder.hpp"
#include "webrtc_test_peer.hpp"

namespace ivs::app {
namespace {

using test::TestPeer;

constexpr std::uint8_t kTransportCcId = 3;
constexpr std::uint64_t kCapBps = 3'000'000;

bool run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Adds lines after every line that starts with `after`.
std::string insert_after(const std::string& sdp, std::string_view after, std::string_view add) {
  std::string out;
  std::size_t start = 0;
  while (start < sdp.size()) {
    std::size_t end = sdp.find('\n', start);
    end = end == std::string::npos ? sdp.size() : end + 1;
    const std::string line = sdp.substr(start, end - start);
    out += line;
    if (line.rfind(after, 0) == 0) {
      out += add;
    }
    start = end;
  }
  return out;
}

struct Received {
  std::set<std::uint16_t> reported_received;  // transport-wide numbers reported as arrived
  std::size_t transport_feedback = 0;
  std::vector<std::uint64_t> remb_bitrates;
};

Received received_feedback(const TestPeer& peer) {
  Received out;
  for (const auto& rtcp : peer.rtcp) {
    for (const auto& packet : rtcp.packets) {
      if (const auto* remb = std::get_if<proto::RtcpRemb>(&packet)) {
        out.remb_bitrates.push_back(remb->bitrate_bps());
      } else if (const auto* twcc = std::get_if<proto::RtcpTransportFeedback>(&packet)) {
        ++out.transport_feedback;
        for (std::size_t i = 0; i < twcc->packets.size(); ++i) {
          if (twcc->packets[i].status != proto::TwccStatus::kNotReceived) {
            out.reported_received.insert(static_cast<std::uint16_t>(twcc->base_sequence + i));
          }
        }
      }
    }
  }
  return out;
}

class RelayChannelFeedbackTest : public ::testing::Test {
 protected:
  RelayChannelFeedbackTest() {
    MediaPlaneOptions plane_options;
    plane_options.bind_ip = "127.0.0.1";
    auto started = MediaPlane::start(io, plane_options);
    plane = std::move(*started);
    RelayChannelOptions options;
    options.ingest_max_bitrate_bps = kCapBps;
    channel = std::make_unique<RelayChannel>(io, *plane, options);
  }

  void connect(TestPeer& peer) {
    auto outcome = channel->accept_publisher(peer.offer());
    ASSERT_TRUE(std::holds_alternative<SessionAccepted>(outcome))
        << std::get<SessionRefused>(outcome).message;
    answer = std::get<SessionAccepted>(outcome).answer_sdp;
    ASSERT_TRUE(peer.accept(answer));
    ASSERT_TRUE(run_until(io, [&] { return peer.connected; }));
  }

  // Video packets 0x4000.. with the transport-wide number `first + i` when `numbered`.
  void send_video(TestPeer& peer, int count, std::uint16_t first, bool numbered) {
    for (int i = 0; i < count; ++i) {
      proto::RtpPacket packet;
      packet.payload_type = peer.video_payload_type;
      packet.sequence_number = static_cast<std::uint16_t>(0x4000 + sent_);
      packet.timestamp = 90000 + static_cast<std::uint32_t>(sent_) * 3000;
      packet.ssrc = TestPeer::kVideoSsrc;
      const auto number = static_cast<std::uint16_t>(first + i);
      if (numbered) {
        packet.extensions.push_back(
            {kTransportCcId,
             {static_cast<std::uint8_t>(number >> 8), static_cast<std::uint8_t>(number)}});
      }
      packet.payload = Bytes(200, 0x41);
      peer.send_rtp(*packet.serialize());
      ++sent_;
    }
  }

  boost::asio::io_context io;
  std::unique_ptr<MediaPlane> plane;
  std::unique_ptr<RelayChannel> channel;
  std::string answer;
  int sent_ = 0;
};

TEST_F(RelayChannelFeedbackTest, BrowserLikePublisherGetsTransportFeedbackAndTheRembCap) {
  TestPeer peer(io, TestPeer::Mode::publisher);
  std::string offer = insert_after(
      peer.offer(), "a=extmap:2 ",
      "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n");
  offer = insert_after(offer, "a=rtcp-fb:96 nack\r",
                       "a=rtcp-fb:96 transport-cc\r\na=rtcp-fb:96 goog-remb\r\n");
  peer.set_offer(offer);
  connect(peer);
  EXPECT_NE(answer.find("a=rtcp-fb:96 transport-cc"), std::string::npos) << answer;
  EXPECT_NE(answer.find("transport-wide-cc-extensions-01"), std::string::npos) << answer;

  // Numbers 65530..65535, 0..23 (across the wrap); 65533 is "lost".
  send_video(peer, 3, 65530, true);
  send_video(peer, 26, 65534, true);
  ASSERT_TRUE(run_until(io, [&] {
    const auto got = received_feedback(peer);
    return got.reported_received.size() >= 29 && !got.remb_bitrates.empty();
  })) << received_feedback(peer).reported_received.size();
  const auto got = received_feedback(peer);
  EXPECT_EQ(got.reported_received.count(65533), 0u);
  EXPECT_EQ(got.reported_received.count(65530), 1u);
  EXPECT_EQ(got.reported_received.count(23), 1u);
  EXPECT_EQ(got.remb_bitrates.front(), kCapBps);
}

bool has_receiver_report(const TestPeer& peer) {
  for (const auto& rtcp : peer.rtcp) {
    for (const auto& packet : rtcp.packets) {
      if (std::holds_alternative<proto::RtcpReceiverReport>(packet)) {
        return true;
      }
    }
  }
  return false;
}

TEST_F(RelayChannelFeedbackTest, ObsLikePublisherGetsNoCongestionFeedback) {
  TestPeer peer(io, TestPeer::Mode::publisher);
  peer.set_offer(insert_after(peer.offer(), "a=rtcp-fb:96 nack\r", "a=rtcp-fb:96 goog-remb\r\n"));
  connect(peer);
  EXPECT_EQ(answer.find("transport-cc"), std::string::npos) << answer;
  // The relay's receiver report comes a second after media starts; transport-wide feedback
  // (every 50 ms) or a REMB (at the first packet), were they sent, would have come before it.
  ASSERT_TRUE(run_until(io, [&] {
    send_video(peer, 1, 0, false);
    return has_receiver_report(peer);
  }));
  const auto got = received_feedback(peer);
  EXPECT_EQ(got.transport_feedback, 0u);
  EXPECT_TRUE(got.remb_bitrates.empty());
}

}  // namespace
}  // namespace ivs::app
