// WHEP negotiation: a viewer's recvonly offer answered with our sendonly H.264 + Opus.
#include <gtest/gtest.h>

#include "engine/sdp_negotiation.hpp"
#include "support/testdata.hpp"

namespace ivs::engine {
namespace {

LocalTransport server_transport() {
  LocalTransport local;
  local.ice = {"whepU", "whepPasswordOf22Chars0"};
  local.fingerprint = proto::SdpFingerprint{"sha-256", Bytes(32, 0x5a)};
  local.host_addresses = {*SocketAddress::from_string("127.0.0.1:41000"),
                          *SocketAddress::from_string("[::1]:41000")};
  local.session_id = 99;
  return local;
}

OutgoingStreams our_streams() {
  OutgoingStreams streams;
  streams.video_ssrc = 0x11111111;
  streams.audio_ssrc = 0x22222222;
  streams.cname = "relay-cname";
  streams.stream_id = "relay";
  return streams;
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

TEST(SdpWhep, ChromiumViewerGetsConstrainedBaselineFromThirtyFourPayloadTypes) {
  auto answer = negotiate_whep(test::read_testdata("sdp/chromium-whep-offer.sdp"),
                               server_transport(), our_streams());
  ASSERT_TRUE(answer) << answer.error().message;
  const NegotiatedMedia& media = answer->media;
  EXPECT_EQ(media.video.mid, "0");
  // 102 (42001f, Baseline) comes first in the offer; 108 (42e01f) is Constrained Baseline.
  EXPECT_EQ(media.video.payload_type, 108);
  EXPECT_EQ(media.video.h264_profile_level_id, "42e01f");
  ASSERT_TRUE(media.audio);
  EXPECT_EQ(media.audio->payload_type, 111);
  EXPECT_EQ(media.video.extensions.mid, 9);
  EXPECT_EQ(media.video.extensions.abs_send_time, 2);
  EXPECT_EQ(media.video.extensions.transport_cc, 4);
  EXPECT_FALSE(media.video.extensions.rtp_stream_id);  // we send no simulcast to viewers
  EXPECT_EQ(media.remote.ice.ufrag, "sIWm");
  EXPECT_EQ(media.remote.setup, proto::SdpSetup::kActpass);

  auto parsed = proto::parse_sdp(answer->sdp);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed->ice_lite());
  EXPECT_EQ(parsed->msid_semantic()->ids, std::vector<std::string>{"relay"});
  ASSERT_EQ(parsed->media.size(), 2u);
  const proto::SdpMedia& video = parsed->media[0];
  EXPECT_EQ(video.formats, std::vector<std::string>{"108"});
  EXPECT_EQ(video.direction(), proto::SdpDirection::kSendOnly);
  EXPECT_EQ(video.attributes.setup(), proto::SdpSetup::kPassive);
  EXPECT_EQ(video.ssrc_ids(), std::vector<std::uint32_t>{0x11111111});
  EXPECT_EQ(video.msid()->stream_id, "relay");
  EXPECT_EQ(video.msid()->track_id, "video");
  EXPECT_EQ(video.ssrcs()[0].value, "relay-cname");
  EXPECT_EQ(parsed->media[1].ssrc_ids(), std::vector<std::uint32_t>{0x22222222});
  EXPECT_EQ(video.candidates().size(), 2u);
  EXPECT_EQ(video.candidates()[1].address, "::1");
  EXPECT_LT(video.candidates()[1].priority, video.candidates()[0].priority);
  EXPECT_EQ(video.connections.at(0).address_type, "IP4");
}

TEST(SdpWhep, ViewerWithoutAudioGetsVideoOnly) {
  std::string offer = test::read_testdata("sdp/chromium-whep-offer.sdp");
  offer = offer.substr(0, offer.find("m=audio"));
  offer = replace(offer, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0");
  auto answer = negotiate_whep(offer, server_transport(), our_streams());
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_FALSE(answer->media.audio);
  EXPECT_EQ(answer->description.media.size(), 1u);
}

TEST(SdpWhep, RefusesSendersAndViewersWithoutH264) {
  const LocalTransport local = server_transport();
  auto publisher =
      negotiate_whep(test::read_testdata("sdp/chromium-offer.sdp"), local, our_streams());
  ASSERT_FALSE(publisher);
  EXPECT_NE(publisher.error().message.find("does not receive (a=sendonly)"), std::string::npos);

  std::string vp8_only = test::read_testdata("sdp/chromium-whep-offer.sdp");
  vp8_only = replace(vp8_only, "H264/90000", "H265/90000");
  auto no_h264 = negotiate_whep(vp8_only, local, our_streams());
  ASSERT_FALSE(no_h264);
  EXPECT_EQ(no_h264.error().message.substr(0, 66),
            "viewer offer has no H.264 with packetization-mode=1; this server r");
  EXPECT_NE(no_h264.error().message.find("VP8, VP9"), std::string::npos);
}

}  // namespace
}  // namespace ivs::engine
