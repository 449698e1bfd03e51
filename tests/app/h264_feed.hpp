// Helpers shared by the app tests that publish over loopback with a TestPeer
// (webrtc_test_peer.hpp): running the io_context until a condition holds, with a deadline and no
// sleeps, and an H.264 publisher that sends the real x264 fixtures of testdata/h264.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "proto/h264_packetizer.hpp"
#include "proto/rtp_builder.hpp"
#include "support/testdata.hpp"
#include "webrtc_test_peer.hpp"

namespace ivs::test {

// Runs the loop in short slices until `done` holds; false when `limit` passed first.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

inline Bytes nal(const std::string& fixture) {
  const std::string text = read_testdata("h264/" + fixture);
  return Bytes(text.begin(), text.end());
}

// Sends H.264 access units as the publisher: an IDR with SPS/PPS first, then P slices.
class H264Feed {
 public:
  explicit H264Feed(std::string sps = "base720.sps", std::string pps = "base720.pps")
      : sps_(nal(sps)),
        pps_(nal(pps)),
        idr_(nal("base720_idr_head.nal")),
        p_(nal("base720_p_head.nal")) {}

  // Returns the number of RTP packets sent.
  std::size_t send_frame(TestPeer& peer, bool keyframe) {
    std::vector<ByteSpan> units;
    if (keyframe) {
      units = {sps_, pps_, idr_};
    } else {
      units = {p_};
    }
    const auto payloads = proto::packetize_h264(units, 1100);
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      proto::RtpPacket packet;
      packet.payload_type = peer.video_payload_type;
      packet.sequence_number = sequence_++;
      packet.timestamp = timestamp_;
      packet.ssrc = TestPeer::kVideoSsrc;
      packet.marker = i + 1 == payloads.size();
      packet.payload = payloads[i];
      peer.send_rtp(*packet.serialize());
    }
    timestamp_ += 3000;
    return payloads.size();
  }

 private:
  Bytes sps_, pps_, idr_, p_;
  std::uint16_t sequence_ = 1000;
  std::uint32_t timestamp_ = 90000;
};

}  // namespace ivs::test
