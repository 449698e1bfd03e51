// WHIP ingest negotiation against the captured publisher offers (testdata/sdp/README.md) and
// against offers we must refuse with a reason a user can act on.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/sdp_negotiation.hpp"
#include "support/testdata.hpp"

namespace ivs::engine {
namespace {

using proto::SdpDirection;
using proto::SessionDescription;

LocalTransport server_transport() {
  LocalTransport local;
  local.ice = {"srvU", "serverPasswordOf22Chars"};
  local.fingerprint = proto::SdpFingerprint{"sha-256", Bytes(32, 0xab)};
  local.host_addresses = {*SocketAddress::from_string("127.0.0.1:40000")};
  local.session_id = 12345;
  return local;
}

std::string fixture(const std::string& name) {
  return test::read_testdata("sdp/" + name);
}

Answer ingest(const std::string& offer_text, const IngestPolicy& policy = {}) {
  auto answer = negotiate_ingest(offer_text, server_transport(), policy);
  EXPECT_TRUE(answer) << (answer ? "" : answer.error().message);
  return answer ? std::move(*answer) : Answer{};
}

std::string ingest_error(const std::string& offer_text) {
  auto answer = negotiate_ingest(offer_text, server_transport());
  return answer ? std::string("<accepted>") : answer.error().message;
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

// Every answer we produce must itself parse and obey our own assumptions.
void expect_server_answer_shape(const Answer& answer) {
  auto reparsed = proto::parse_sdp(answer.sdp);
  ASSERT_TRUE(reparsed) << reparsed.error().message;
  EXPECT_EQ(*reparsed, answer.description);
  EXPECT_TRUE(reparsed->ice_lite());
  for (const auto& media : reparsed->media) {
    if (media.rejected()) {
      continue;
    }
    EXPECT_EQ(media.attributes.setup(), proto::SdpSetup::kPassive);
    EXPECT_EQ(media.attributes.ice_ufrag(), "srvU");
    EXPECT_TRUE(media.rtcp_mux());
    EXPECT_EQ(media.formats.size(), 1u);
    EXPECT_TRUE(media.end_of_candidates());
    ASSERT_EQ(media.candidates().size(), 1u);
    EXPECT_EQ(media.candidates()[0].to_string(), "1 1 udp 2130706431 127.0.0.1 40000 typ host");
    EXPECT_EQ(media.port, 40000);
  }
}

TEST(SdpIngest, ChromiumOfferPicksConstrainedBaselineAndDropsRtx) {
  const Answer answer = ingest(fixture("chromium-offer.sdp"));
  expect_server_answer_shape(answer);
  const NegotiatedMedia& media = answer.media;
  EXPECT_EQ(media.video.mid, "1");
  EXPECT_EQ(media.video.payload_type, 108);
  EXPECT_EQ(media.video.clock_rate, 90000u);
  EXPECT_EQ(media.video.h264_profile_level_id, "42e01f");
  ASSERT_TRUE(media.audio);
  EXPECT_EQ(media.audio->payload_type, 111);
  EXPECT_EQ(media.audio->channels, 2u);
  EXPECT_EQ(media.bundle_mids, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(media.video.extensions.mid, 4);
  EXPECT_EQ(media.video.extensions.abs_send_time, 2);
  EXPECT_EQ(media.video.extensions.transport_cc, 3);
  EXPECT_EQ(media.video.extensions.rtp_stream_id, 10);
  EXPECT_EQ(media.video.extensions.repaired_rtp_stream_id, 11);
  EXPECT_EQ(media.audio->extensions.mid, 4);
  EXPECT_TRUE(media.video.feedback.nack && media.video.feedback.pli && media.video.feedback.fir);
  EXPECT_TRUE(media.video.feedback.remb && media.video.feedback.transport_cc);
  EXPECT_EQ(media.video.remote_ssrcs, (std::vector<std::uint32_t>{3279502183u, 3234708029u}));
  EXPECT_EQ(media.remote.ice.ufrag, answer.media.remote.ice.ufrag);
  EXPECT_EQ(media.remote.fingerprint.digest.size(), 32u);
  // A UDP candidate per section plus the TCP one (port 9) that both sections repeat verbatim.
  EXPECT_EQ(media.remote.candidates.size(), 3u);

  const auto& video = answer.description.media[1];
  EXPECT_EQ(video.formats, std::vector<std::string>{"108"});
  EXPECT_EQ(video.direction(), SdpDirection::kRecvOnly);
  EXPECT_EQ(answer.sdp.find("rtx"), std::string::npos);
  EXPECT_EQ(answer.sdp.find("toffset"), std::string::npos);
  EXPECT_NE(answer.sdp.find("a=group:BUNDLE 0 1\r\n"), std::string::npos);
  EXPECT_NE(answer.sdp.find("a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;"
                            "profile-level-id=42e01f\r\n"),
            std::string::npos);
}

TEST(SdpIngest, ObsOfferWithSessionLevelTransportAndNoCandidates) {
  const Answer answer = ingest(fixture("obs-offer.sdp"));
  expect_server_answer_shape(answer);
  const NegotiatedMedia& media = answer.media;
  ASSERT_TRUE(media.audio);
  EXPECT_EQ(media.audio->mid, "0");
  EXPECT_EQ(media.audio->payload_type, 111);
  EXPECT_EQ(media.audio->parameters.get("sprop-stereo"), "1");
  EXPECT_EQ(media.video.mid, "1");
  EXPECT_EQ(media.video.payload_type, 96);
  EXPECT_EQ(media.video.h264_profile_level_id, "42e01f");
  EXPECT_EQ(media.remote.ice.ufrag, "Xk3b");
  EXPECT_EQ(media.remote.ice.pwd, "QmP7cZ2vJ9wL1rT4yN8eHa");
  EXPECT_EQ(media.remote.fingerprint.digest[0], 0x5b);
  EXPECT_EQ(media.remote.setup, proto::SdpSetup::kActpass);
  EXPECT_TRUE(media.remote.candidates.empty());  // peer-reflexive discovery is ICE's job
  EXPECT_TRUE(media.video.feedback.nack && media.video.feedback.pli);
  EXPECT_TRUE(media.video.feedback.fir && media.video.feedback.remb);
  EXPECT_FALSE(media.video.feedback.transport_cc);
  EXPECT_FALSE(media.video.extensions.mid);  // OBS sends none; demux by SSRC/PT
  EXPECT_EQ(media.video.remote_ssrcs, std::vector<std::uint32_t>{3047752410u});
  EXPECT_EQ(media.bundle_mids, (std::vector<std::string>{"0", "1"}));
  // Opus parameters are echoed without the sender-only sprop-stereo.
  EXPECT_NE(answer.sdp.find("a=fmtp:111 minptime=10;maxaveragebitrate=96000;stereo=1;"
                            "useinbandfec=1\r\n"),
            std::string::npos);
}

TEST(SdpIngest, AiortcDuplicateExtmapIdIsNotAcceptedTwice) {
  const Answer answer = ingest(fixture("aiortc-offer-h264.sdp"));
  expect_server_answer_shape(answer);
  EXPECT_EQ(answer.media.video.mid, "0");
  EXPECT_EQ(answer.media.video.payload_type, 101);  // 42e01f beats 42001f
  EXPECT_EQ(answer.media.video.extensions.abs_send_time, 2);
  EXPECT_EQ(answer.media.audio->extensions.mid, 1);
  EXPECT_FALSE(answer.media.audio->extensions.abs_send_time);

  // Story: aiortc 1.4 reuses id 2 for a different URI in audio. If that URI were one we
  // accept, answering it would bind id 2 to two URIs on one BUNDLE transport.
  const std::string clash = replace(
      fixture("aiortc-offer-h264.sdp"), "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
      "a=extmap:2 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01");
  const Answer clashed = ingest(clash);
  EXPECT_EQ(clashed.media.video.extensions.abs_send_time, 2);
  EXPECT_FALSE(clashed.media.audio->extensions.transport_cc);
  EXPECT_EQ(clashed.description.media[1].attributes.extmaps().size(), 1u);
}

TEST(SdpIngest, GstreamerBundleOnlyAudioIsAcceptedOnTheBundle) {
  for (const char* name :
       {"gst-webrtcbin-offer-h264.sdp", "whip-client-offer.sdp", "whip-client-offer-trickle.sdp"}) {
    SCOPED_TRACE(name);
    const Answer answer = ingest(fixture(name));
    expect_server_answer_shape(answer);
    ASSERT_TRUE(answer.media.audio);
    EXPECT_EQ(answer.media.audio->mid, "audio1");
    EXPECT_EQ(answer.media.bundle_mids, (std::vector<std::string>{"video0", "audio1"}));
    EXPECT_EQ(answer.media.video.h264_profile_level_id, "42c01e");
    // The offer's sprop-parameter-sets reach the relay, but not the answer.
    EXPECT_TRUE(answer.media.video.parameters.get("sprop-parameter-sets"));
    EXPECT_EQ(answer.sdp.find("sprop-parameter-sets"), std::string::npos);
    const auto& audio = answer.description.media[1];
    EXPECT_NE(audio.port, 0);
    EXPECT_FALSE(audio.bundle_only());
    EXPECT_EQ(audio.codecs().at(0).name, "OPUS");
  }
  EXPECT_EQ(ingest(fixture("whip-client-offer.sdp")).media.remote.candidates.size(), 3u);
  EXPECT_TRUE(ingest(fixture("whip-client-offer-trickle.sdp")).media.remote.candidates.empty());
  EXPECT_EQ(ingest(fixture("whip-client-offer.sdp")).media.remote.ice.ufrag,
            "gmR9je+DPyoNyfDPl8g4IauyonITOHv5");
}

TEST(SdpIngest, WeriftLowerCaseCodecNames) {
  const Answer answer = ingest(fixture("werift-offer-h264.sdp"));
  expect_server_answer_shape(answer);
  EXPECT_EQ(answer.media.video.payload_type, 97);
  EXPECT_EQ(answer.media.audio->payload_type, 96);
  EXPECT_NE(answer.sdp.find("a=rtpmap:97 h264/90000\r\n"), std::string::npos);
  EXPECT_EQ(answer.media.remote.candidates.size(), 1u);
  EXPECT_TRUE(answer.media.remote.end_of_candidates);
}

// OBS 32.1+ simulcast shape: three rids in one video section. OBS fails unless every layer
// is accepted.
TEST(SdpIngest, SimulcastOfferIsAnsweredWithEveryLayer) {
  const std::string offer = replace(fixture("obs-offer.sdp"),
                                    "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n",
                                    "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n"
                                    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
                                    "a=extmap:5 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
                                    "a=rid:0 send pt=96;max-width=1920\r\n"
                                    "a=rid:1 send\r\n"
                                    "a=rid:2 send\r\n"
                                    "a=simulcast:send 0;1;2\r\n");
  const Answer answer = ingest(offer);
  expect_server_answer_shape(answer);
  EXPECT_EQ(answer.media.video.rids, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(answer.media.video.extensions.rtp_stream_id, 5);
  const auto& video = answer.description.media[1];
  const auto rids = video.rids();
  ASSERT_EQ(rids.size(), 3u);
  EXPECT_EQ(rids[0].direction, proto::RidDirection::kRecv);
  EXPECT_EQ(rids[0].restrictions, "max-width=1920");
  ASSERT_TRUE(video.simulcast());
  EXPECT_TRUE(video.simulcast()->send.empty());
  EXPECT_EQ(video.simulcast()->recv.size(), 3u);
  EXPECT_NE(answer.sdp.find("a=simulcast:recv 0;1;2\r\n"), std::string::npos);

  IngestPolicy no_simulcast;
  no_simulcast.accept_simulcast = false;
  EXPECT_TRUE(ingest(offer, no_simulcast).media.video.rids.empty());
}

TEST(SdpIngest, PolicyCanDeclineTransportCc) {
  IngestPolicy policy;
  policy.accept_transport_cc = false;
  policy.accept_remb = false;
  const Answer answer = ingest(fixture("chromium-offer.sdp"), policy);
  EXPECT_EQ(answer.sdp.find("transport-cc"), std::string::npos);
  EXPECT_EQ(answer.sdp.find("transport-wide-cc"), std::string::npos);
  EXPECT_EQ(answer.sdp.find("goog-remb"), std::string::npos);
  EXPECT_FALSE(answer.media.video.feedback.transport_cc);
  EXPECT_TRUE(answer.media.video.feedback.nack);
}

TEST(SdpIngest, AnnouncedIpReplacesTheBoundAddress) {
  LocalTransport local = server_transport();
  local.announced_ip = "203.0.113.5";
  auto answer = negotiate_ingest(fixture("obs-offer.sdp"), local);
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_NE(answer->sdp.find("a=candidate:1 1 udp 2130706431 203.0.113.5 40000 typ host\r\n"),
            std::string::npos);
  EXPECT_NE(answer->sdp.find("c=IN IP4 203.0.113.5\r\n"), std::string::npos);
}

TEST(SdpIngest, NonOpusAudioAndDataChannelAreRejectedWithTheirMids) {
  std::string offer = replace(fixture("obs-offer.sdp"), "m=audio 9 UDP/TLS/RTP/SAVPF 111",
                              "m=audio 9 UDP/TLS/RTP/SAVPF 0");
  offer = replace(offer, "a=rtpmap:111 opus/48000/2\r\n", "");
  offer += "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:2\r\n";
  const Answer answer = ingest(offer);
  expect_server_answer_shape(answer);
  EXPECT_FALSE(answer.media.audio);
  ASSERT_EQ(answer.description.media.size(), 3u);
  EXPECT_TRUE(answer.description.media[0].rejected());
  EXPECT_EQ(answer.description.media[0].mid(), "0");
  EXPECT_TRUE(answer.description.media[2].rejected());
  EXPECT_EQ(answer.description.media[2].formats, std::vector<std::string>{"webrtc-datachannel"});
  EXPECT_NE(answer.sdp.find("a=group:BUNDLE 1\r\n"), std::string::npos);
}

TEST(SdpIngest, UnusableOffersGiveReasons) {
  // VP8 only.
  std::string vp8 =
      replace(fixture("obs-offer.sdp"), "a=rtpmap:96 H264/90000", "a=rtpmap:96 VP8/90000");
  EXPECT_EQ(ingest_error(vp8),
            "offer has no H.264 with packetization-mode=1 (OBS: set the encoder to x264 or NVENC "
            "H.264; browsers: allow H.264) (offered: VP8)");
  // H.264 only in packetization-mode 0.
  std::string mode0 =
      replace(fixture("obs-offer.sdp"), "packetization-mode=1", "packetization-mode=0");
  EXPECT_NE(ingest_error(mode0).find("(offered: H264 packetization-mode=0)"), std::string::npos);
  // Audio and video not bundled.
  std::string unbundled = replace(fixture("obs-offer.sdp"), "a=group:BUNDLE 0 1\r\n", "");
  EXPECT_NE(ingest_error(unbundled).find("does not BUNDLE audio and video"), std::string::npos);
  // Audio only.
  std::string audio_only = fixture("obs-offer.sdp");
  audio_only = audio_only.substr(0, audio_only.find("m=video"));
  EXPECT_NE(ingest_error(audio_only).find("no video m-section"), std::string::npos);
  // A viewer's offer sent to the publish endpoint.
  EXPECT_NE(ingest_error(fixture("chromium-whep-offer.sdp")).find("does not send (a=recvonly)"),
            std::string::npos);
  // DTLS roles that cannot work with a passive server.
  std::string passive = replace(fixture("obs-offer.sdp"), "a=setup:actpass", "a=setup:passive");
  EXPECT_NE(ingest_error(passive).find("a=setup:passive"), std::string::npos);
  std::string no_ice = replace(fixture("obs-offer.sdp"), "a=ice-ufrag:Xk3b\r\n", "");
  EXPECT_NE(ingest_error(no_ice).find("no a=ice-ufrag"), std::string::npos);
  std::string no_dtls = replace(fixture("obs-offer.sdp"), "a=fingerprint:", "a=x-fingerprint:");
  EXPECT_NE(ingest_error(no_dtls).find("no a=fingerprint"), std::string::npos);
  std::string no_mux = replace(fixture("obs-offer.sdp"), "a=rtcp-mux\r\n", "");
  EXPECT_NE(ingest_error(no_mux).find("a=rtcp-mux"), std::string::npos);
  std::string plain_rtp = replace(fixture("obs-offer.sdp"), "UDP/TLS/RTP/SAVPF", "RTP/AVP");
  EXPECT_NE(ingest_error(plain_rtp).find("DTLS-SRTP"), std::string::npos);
  std::string same_mid = replace(fixture("obs-offer.sdp"), "a=mid:1", "a=mid:0");
  EXPECT_EQ(ingest_error(same_mid), "offer uses a=mid:0 for more than one m-section");
  EXPECT_EQ(ingest_error("hello").substr(0, 25), "invalid SDP offer: SDP li");
}

}  // namespace
}  // namespace ivs::engine
