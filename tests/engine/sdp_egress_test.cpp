// WHIP egress: the offer we send to a stage and the checks on the stage's answer.
#include <gtest/gtest.h>

#include "engine/sdp_negotiation.hpp"

namespace ivs::engine {
namespace {

using proto::SdpDirection;

EgressOfferParams client_params() {
  EgressOfferParams params;
  params.local.ice = {"cliU", "clientPasswordOf22Char"};
  params.local.fingerprint = proto::SdpFingerprint{"sha-256", Bytes(32, 0xc1)};
  params.local.host_addresses = {*SocketAddress::from_string("127.0.0.1:42000")};
  params.local.session_id = 7;
  params.streams.video_ssrc = 1001;
  params.streams.audio_ssrc = 1002;
  params.streams.cname = "egress-cname";
  params.streams.stream_id = "stage-0";
  params.h264_profile_level_id = "42c01e";
  return params;
}

LocalTransport server_transport() {
  LocalTransport local;
  local.ice = {"srvU", "serverPasswordOf22Chars"};
  local.fingerprint = proto::SdpFingerprint{"sha-256", Bytes(32, 0xab)};
  local.host_addresses = {*SocketAddress::from_string("127.0.0.2:43000")};
  return local;
}

// Shaped like an IVS answer: ICE and DTLS at session level, candidates only in the first
// m-section of the BUNDLE, setup active, video PT and extension ids echoed.
const char kIvsShapedAnswer[] =
    "v=0\r\n"
    "o=- 1700000000 2 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=ice-ufrag:ivsU\r\n"
    "a=ice-pwd:ivsPasswordOf22Chars00\r\n"
    "a=fingerprint:sha-256 "
    "0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:"
    "0F:0F\r\n"
    "a=setup:active\r\n"
    "m=audio 3478 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "a=mid:0\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=candidate:1 1 udp 2130706431 192.0.2.10 3478 typ host\r\n"
    "a=candidate:2 1 tcp 1694498815 192.0.2.10 443 typ host tcptype passive\r\n"
    "m=video 3478 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "a=mid:1\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42c01e\r\n";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) {
    text.replace(at, from.size(), to);
  }
  return text;
}

TEST(SdpEgress, OfferHasTheShapeIvsAccepts) {
  const EgressOffer offer = make_egress_offer(client_params());
  auto parsed = proto::parse_sdp(offer.sdp);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, offer.description);
  EXPECT_FALSE(parsed->ice_lite());
  EXPECT_EQ(parsed->bundle_group()->mids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(parsed->media.size(), 2u);
  const proto::SdpMedia& audio = parsed->media[0];
  const proto::SdpMedia& video = parsed->media[1];
  EXPECT_EQ(audio.kind, "audio");
  EXPECT_EQ(video.kind, "video");
  for (const proto::SdpMedia* media : {&audio, &video}) {
    EXPECT_EQ(media->direction(), SdpDirection::kSendOnly);
    EXPECT_TRUE(media->rtcp_mux());
    EXPECT_EQ(media->attributes.setup(), proto::SdpSetup::kActpass);
    EXPECT_EQ(media->attributes.ice_ufrag(), "cliU");
    EXPECT_EQ(media->candidates().size(), 1u);
    EXPECT_EQ(media->port, 42000);
    EXPECT_EQ(media->ssrcs().at(0).value, "egress-cname");
    EXPECT_EQ(media->attributes.extmaps().size(), 2u);
  }
  auto h264 = video.codec(96);
  ASSERT_TRUE(h264);
  EXPECT_TRUE(h264->is("H264"));
  EXPECT_EQ(h264->parameters.get("packetization-mode"), "1");
  EXPECT_EQ(h264->parameters.get("profile-level-id"), "42c01e");
  EXPECT_EQ(h264->feedback.size(), 3u);  // nack, nack pli, ccm fir
  EXPECT_EQ(video.ssrc_ids(), std::vector<std::uint32_t>{1001});
  EXPECT_EQ(video.formats.size(), 1u);  // no RTX: NACKs are answered from our own history
  auto opus = audio.codec(111);
  ASSERT_TRUE(opus);
  EXPECT_EQ(opus->channels, 2u);
  EXPECT_EQ(offer.sdp.find("transport-cc"), std::string::npos);
}

TEST(SdpEgress, TransportCcAndVideoOnlyAreOptions) {
  EgressOfferParams params = client_params();
  params.offer_transport_cc = true;
  params.include_audio = false;
  const EgressOffer offer = make_egress_offer(params);
  ASSERT_EQ(offer.description.media.size(), 1u);
  EXPECT_EQ(offer.description.bundle_group()->mids, std::vector<std::string>{"1"});
  EXPECT_NE(offer.sdp.find("a=rtcp-fb:96 transport-cc\r\n"), std::string::npos);
  EXPECT_NE(offer.sdp.find("a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-"
                           "cc-extensions-01\r\n"),
            std::string::npos);
}

TEST(SdpEgress, IvsShapedAnswerWithCandidatesOnlyInTheFirstSection) {
  const EgressOffer offer = make_egress_offer(client_params());
  auto answer = accept_egress_answer(offer.description, kIvsShapedAnswer);
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->dtls_role, DtlsRole::kServer);  // IVS is active, so we are the DTLS server
  const NegotiatedMedia& media = answer->media;
  EXPECT_EQ(media.remote.ice.ufrag, "ivsU");
  EXPECT_EQ(media.remote.ice.pwd, "ivsPasswordOf22Chars00");
  EXPECT_EQ(media.remote.fingerprint.digest, Bytes(32, 0x0f));
  EXPECT_FALSE(media.remote.ice_lite);
  ASSERT_EQ(media.remote.candidates.size(), 2u);
  EXPECT_EQ(media.remote.candidates[0].address, "192.0.2.10");
  EXPECT_EQ(media.video.mid, "1");
  EXPECT_EQ(media.video.payload_type, 96);
  EXPECT_EQ(media.video.h264_profile_level_id, "42c01e");
  EXPECT_TRUE(media.video.feedback.nack && media.video.feedback.pli);
  EXPECT_FALSE(media.video.feedback.fir);
  EXPECT_EQ(media.video.extensions.mid, 1);
  EXPECT_EQ(media.video.extensions.abs_send_time, 2);
  ASSERT_TRUE(media.audio);
  EXPECT_EQ(media.audio->payload_type, 111);
  EXPECT_EQ(media.bundle_mids, (std::vector<std::string>{"0", "1"}));

  const std::string passive = replace(kIvsShapedAnswer, "a=setup:active", "a=setup:passive");
  EXPECT_EQ(accept_egress_answer(offer.description, passive)->dtls_role, DtlsRole::kClient);
}

TEST(SdpEgress, OurOwnServerAnswersOurOwnClient) {
  const EgressOffer offer = make_egress_offer(client_params());
  auto server_answer = negotiate_ingest(offer.sdp, server_transport());
  ASSERT_TRUE(server_answer) << server_answer.error().message;
  EXPECT_EQ(server_answer->media.remote.ice.ufrag, "cliU");
  EXPECT_EQ(server_answer->media.video.remote_ssrcs, std::vector<std::uint32_t>{1001});
  EXPECT_EQ(server_answer->media.video.h264_profile_level_id, "42c01e");

  auto client_view = accept_egress_answer(offer.description, server_answer->sdp);
  ASSERT_TRUE(client_view) << client_view.error().message;
  EXPECT_EQ(client_view->dtls_role, DtlsRole::kClient);
  EXPECT_TRUE(client_view->media.remote.ice_lite);
  EXPECT_EQ(client_view->media.remote.ice.ufrag, "srvU");
  ASSERT_EQ(client_view->media.remote.candidates.size(), 1u);
  EXPECT_EQ(client_view->media.remote.candidates[0].port, 43000);
  EXPECT_EQ(client_view->media.video.extensions.abs_send_time, 2);
  EXPECT_TRUE(client_view->media.video.feedback.fir);
}

// An edge pulling from an origin (INGEST_PULL_URL) offers the same sections recvonly, with no
// SSRC of its own; our WHEP endpoint answers it sendonly with the SSRCs the edge will receive.
TEST(SdpEgress, PullOfferIsRecvonlyAndOurWhepAnswerNamesTheOriginsSsrcs) {
  EgressOfferParams params = client_params();
  params.receive_only = true;
  const EgressOffer offer = make_egress_offer(params);
  EXPECT_EQ(offer.sdp.find("a=ssrc"), std::string::npos) << offer.sdp;
  EXPECT_EQ(offer.sdp.find("msid"), std::string::npos) << offer.sdp;
  ASSERT_EQ(offer.description.media.size(), 2u);
  for (const auto& media : offer.description.media) {
    EXPECT_EQ(media.direction(), SdpDirection::kRecvOnly) << media.kind;
  }

  OutgoingStreams origin;
  origin.video_ssrc = 5001;
  origin.audio_ssrc = 5002;
  origin.cname = "origin";
  auto whep_answer = negotiate_whep(offer.sdp, server_transport(), origin);
  ASSERT_TRUE(whep_answer) << whep_answer.error().message;

  auto edge_view = accept_egress_answer(offer.description, whep_answer->sdp);
  ASSERT_TRUE(edge_view) << edge_view.error().message;
  EXPECT_EQ(edge_view->dtls_role, DtlsRole::kClient);
  EXPECT_EQ(edge_view->media.video.remote_ssrcs, std::vector<std::uint32_t>{5001});
  ASSERT_TRUE(edge_view->media.audio);
  EXPECT_EQ(edge_view->media.audio->remote_ssrcs, std::vector<std::uint32_t>{5002});
  EXPECT_TRUE(edge_view->media.video.feedback.nack);
  EXPECT_TRUE(edge_view->media.video.feedback.pli);
}

TEST(SdpEgress, AnswersThatCannotCarryVideoAreRefused) {
  const EgressOffer offer = make_egress_offer(client_params());
  auto error_of = [&](const std::string& answer) {
    auto accepted = accept_egress_answer(offer.description, answer);
    return accepted ? std::string("<accepted>") : accepted.error().message;
  };
  EXPECT_EQ(error_of(replace(kIvsShapedAnswer, "m=video 3478", "m=video 0")),
            "answer rejected the video m-section (port 0); IVS requires H.264 video");
  EXPECT_EQ(error_of(replace(kIvsShapedAnswer, "a=rtpmap:96 H264/90000", "a=rtpmap:96 VP8/90000")),
            "answer's video m-section does not accept H.264");
  EXPECT_NE(error_of(replace(kIvsShapedAnswer, "a=group:BUNDLE 0 1\r\n", "")).find("BUNDLE"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kIvsShapedAnswer, "a=ice-ufrag:ivsU\r\n", "")).find("ice-ufrag"),
            std::string::npos);
  const std::string no_video =
      std::string(kIvsShapedAnswer).substr(0, std::string(kIvsShapedAnswer).find("m=video"));
  EXPECT_NE(error_of(no_video).find("answer has 1 m-sections"), std::string::npos);
  EXPECT_NE(error_of("v=0\r\n").find("invalid SDP answer"), std::string::npos);
}

TEST(SdpEgress, RejectedAudioLeavesVideoOnly) {
  const EgressOffer offer = make_egress_offer(client_params());
  const std::string answer = replace(kIvsShapedAnswer, "m=audio 3478", "m=audio 0");
  auto accepted = accept_egress_answer(offer.description, answer);
  ASSERT_TRUE(accepted) << accepted.error().message;
  EXPECT_FALSE(accepted->media.audio);
  EXPECT_EQ(accepted->media.bundle_mids, std::vector<std::string>{"1"});
  // The audio section still carries IVS's candidates; the BUNDLE tag is read regardless.
  EXPECT_EQ(accepted->media.remote.candidates.size(), 2u);
}

}  // namespace
}  // namespace ivs::engine
