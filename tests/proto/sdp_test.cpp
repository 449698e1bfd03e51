// The SDP line codec against the captured offers and answers in testdata/sdp/ (see its
// README for the quirk each file carries) and against malformed input.
#include "proto/sdp.hpp"

#include <gtest/gtest.h>

#include "support/testdata.hpp"

namespace ivs::proto {
namespace {

const char* const kFixtures[] = {
    "aiortc-offer-h264-extfix.sdp",
    "aiortc-offer-h264.sdp",
    "chromium-answer-maxbundle.sdp",
    "chromium-answer.sdp",
    "chromium-offer-maxbundle.sdp",
    "chromium-offer.sdp",
    "chromium-whep-offer.sdp",
    "gst-webrtcbin-offer-h264.sdp",
    "obs-offer.sdp",
    "werift-offer-h264.sdp",
    "whip-client-offer-trickle.sdp",
    "whip-client-offer.sdp",
};

SessionDescription load(const std::string& name) {
  auto parsed = parse_sdp(test::read_testdata("sdp/" + name));
  EXPECT_TRUE(parsed) << name << ": " << (parsed ? "" : parsed.error().message);
  return parsed ? *parsed : SessionDescription{};
}

TEST(Sdp, EveryFixtureRoundTrips) {
  for (const char* name : kFixtures) {
    const std::string text = test::read_testdata(std::string("sdp/") + name);
    auto first = parse_sdp(text);
    ASSERT_TRUE(first) << name << ": " << first.error().message;
    const std::string serialized = serialize_sdp(*first);
    auto second = parse_sdp(serialized);
    ASSERT_TRUE(second) << name << ": " << second.error().message;
    EXPECT_EQ(*first, *second) << name;
    // The fixtures are already CRLF and in RFC order, so the bytes come back unchanged.
    EXPECT_EQ(serialized, text) << name;
  }
}

TEST(Sdp, AcceptsBareLineFeeds) {
  std::string text = test::read_testdata("sdp/obs-offer.sdp");
  const std::string crlf_text = text;
  std::erase(text, '\r');
  auto parsed = parse_sdp(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(serialize_sdp(*parsed), crlf_text);
}

TEST(Sdp, ChromiumOfferFields) {
  const SessionDescription offer = load("chromium-offer.sdp");
  EXPECT_EQ(offer.origin.session_id, "5805494202970483205");
  ASSERT_TRUE(offer.bundle_group());
  EXPECT_EQ(offer.bundle_group()->mids, (std::vector<std::string>{"0", "1"}));
  EXPECT_TRUE(offer.attributes.extmap_allow_mixed());
  ASSERT_EQ(offer.media.size(), 2u);
  const SdpMedia& audio = offer.media[0];
  EXPECT_EQ(audio.kind, "audio");
  EXPECT_EQ(audio.mid(), "0");
  EXPECT_EQ(audio.direction(), SdpDirection::kSendOnly);
  EXPECT_TRUE(audio.rtcp_mux());
  EXPECT_TRUE(audio.rtcp_rsize());
  EXPECT_FALSE(audio.rtcp_mux_only());
  // A UDP host candidate and a TCP active candidate on the discard port 9.
  const auto candidates = audio.candidates();
  ASSERT_EQ(candidates.size(), 2u);
  EXPECT_TRUE(candidates[0].is_udp());
  EXPECT_EQ(candidates[0].generation, 0u);
  EXPECT_TRUE(candidates[1].is_tcp());
  EXPECT_EQ(candidates[1].port, 9);
  EXPECT_EQ(candidates[1].tcp_type, "active");
  ASSERT_EQ(candidates[1].extensions.size(), 2u);
  EXPECT_EQ(candidates[1].extensions[0].first, "network-id");

  const SdpMedia& video = offer.media[1];
  std::vector<std::string> h264_profiles;
  for (const SdpCodec& codec : video.codecs()) {
    if (codec.is("H264")) {
      h264_profiles.push_back(std::string(*codec.parameters.get("profile-level-id")) + "/" +
                              std::string(*codec.parameters.get("packetization-mode")));
    }
  }
  EXPECT_EQ(h264_profiles.size(), 6u);
  auto h264 = video.codec(108);
  ASSERT_TRUE(h264);
  EXPECT_TRUE(h264->is("h264"));
  EXPECT_EQ(h264->feedback.size(), 5u);
  auto rtx = video.codec(109);
  ASSERT_TRUE(rtx);
  EXPECT_TRUE(rtx->is("rtx"));
  EXPECT_EQ(rtx->parameters.get("apt"), "108");
  EXPECT_EQ(video.ssrc_groups().at(0).semantics, "FID");
  EXPECT_EQ(video.ssrc_ids().size(), 2u);
  EXPECT_TRUE(video.msid());
}

TEST(Sdp, ChromiumMaxBundleSectionHasNoCandidates) {
  const SessionDescription offer = load("chromium-offer-maxbundle.sdp");
  ASSERT_EQ(offer.media.size(), 2u);
  EXPECT_FALSE(offer.media[0].candidates().empty());
  EXPECT_EQ(offer.media[1].port, 9);
  EXPECT_TRUE(offer.media[1].candidates().empty());
  EXPECT_FALSE(offer.media[1].rejected());
}

TEST(Sdp, ChromiumWhepOfferListsManyVideoPayloadTypes) {
  const SessionDescription offer = load("chromium-whep-offer.sdp");
  EXPECT_EQ(offer.media[0].kind, "video");
  EXPECT_EQ(offer.media[0].formats.size(), 34u);
  EXPECT_EQ(offer.media[0].direction(), SdpDirection::kRecvOnly);
  // "a=msid-semantic: WMS" has a space the grammar does not allow; we tolerate it.
  ASSERT_TRUE(offer.msid_semantic());
  EXPECT_EQ(offer.msid_semantic()->semantic, "WMS");
  EXPECT_TRUE(offer.msid_semantic()->ids.empty());
}

TEST(Sdp, AiortcDuplicateExtmapIdsAcrossSections) {
  const SessionDescription offer = load("aiortc-offer-h264.sdp");
  const auto video_extmaps = offer.media[0].attributes.extmaps();
  const auto audio_extmaps = offer.media[1].attributes.extmaps();
  ASSERT_EQ(video_extmaps.size(), 2u);
  ASSERT_EQ(audio_extmaps.size(), 2u);
  EXPECT_EQ(video_extmaps[1].id, 2);
  EXPECT_EQ(audio_extmaps[1].id, 2);
  EXPECT_NE(video_extmaps[1].uri, audio_extmaps[1].uri);
  EXPECT_EQ(offer.media[0].end_of_candidates(), true);
}

TEST(Sdp, GstreamerBundleOnlyAudio) {
  const SessionDescription offer = load("gst-webrtcbin-offer-h264.sdp");
  EXPECT_EQ(offer.bundle_group()->mids, (std::vector<std::string>{"video0", "audio1"}));
  EXPECT_EQ(offer.attributes.ice_options(), std::vector<std::string>{"trickle"});
  const SdpMedia& audio = offer.media[1];
  EXPECT_EQ(audio.port, 0);
  EXPECT_TRUE(audio.bundle_only());
  EXPECT_FALSE(audio.rejected());
  EXPECT_TRUE(audio.rtcp_mux_only());
  EXPECT_EQ(audio.direction(), SdpDirection::kSendRecv);
  auto opus = audio.codec(111);
  ASSERT_TRUE(opus);
  EXPECT_TRUE(opus->is("opus"));
  EXPECT_EQ(opus->channels, 2u);
  auto h264 = offer.media[0].codec(96);
  ASSERT_TRUE(h264);
  EXPECT_EQ(h264->parameters.get("profile-level-id"), "42c01e");
  EXPECT_EQ(h264->parameters.get("sprop-parameter-sets"),
            "Z0LAHtoCgL/lwFqDAwNSgAAAAwCAAAAeR4sXUA==,aM48gA==");
}

TEST(Sdp, WhipClientUfragWithSlashAndPlus) {
  const SessionDescription trickle = load("whip-client-offer-trickle.sdp");
  EXPECT_EQ(trickle.media[0].attributes.ice_ufrag(), "BzKF8fNYA5O16hmAgD9lU4LmAeB1X4f9");
  EXPECT_EQ(trickle.media[0].attributes.ice_pwd(), "YaA/pl67ZfaKLi7KN1VRjt/t8QTKm/nG");
  EXPECT_TRUE(trickle.media[0].candidates().empty());
  const SessionDescription offer = load("whip-client-offer.sdp");
  EXPECT_EQ(offer.media[0].attributes.ice_ufrag(), "gmR9je+DPyoNyfDPl8g4IauyonITOHv5");
  const auto candidates = offer.media[0].candidates();
  ASSERT_EQ(candidates.size(), 3u);
  EXPECT_EQ(candidates[0].transport, "UDP");
  EXPECT_TRUE(candidates[0].is_udp());
  EXPECT_EQ(candidates[2].tcp_type, "passive");
  EXPECT_EQ(candidates[2].port, 49217);
}

TEST(Sdp, WeriftCaseAndNoMsid) {
  const SessionDescription offer = load("werift-offer-h264.sdp");
  auto video = offer.media[0].codec(97);
  ASSERT_TRUE(video);
  EXPECT_EQ(video->name, "h264");
  EXPECT_TRUE(video->is("H264"));
  auto audio = offer.media[1].codec(96);
  ASSERT_TRUE(audio);
  EXPECT_EQ(audio->name, "OPUS");
  EXPECT_TRUE(audio->is("opus"));
  EXPECT_FALSE(offer.media[0].msid());
  EXPECT_TRUE(offer.media[0].end_of_candidates());
  const auto candidates = offer.media[0].candidates();
  ASSERT_EQ(candidates.size(), 1u);
  ASSERT_EQ(candidates[0].extensions.size(), 1u);
  EXPECT_EQ(candidates[0].extensions[0], (std::pair<std::string, std::string>{"ufrag", "83cd"}));
}

TEST(Sdp, ObsOfferHasTransportAtSessionLevel) {
  const SessionDescription offer = load("obs-offer.sdp");
  ASSERT_EQ(offer.media.size(), 2u);
  EXPECT_FALSE(offer.media[0].attributes.ice_ufrag());
  EXPECT_FALSE(offer.media[1].attributes.has("fingerprint"));
  const SdpTransportParameters transport = effective_transport(offer, offer.media[1]);
  EXPECT_EQ(transport.ice_ufrag, "Xk3b");
  EXPECT_EQ(transport.ice_pwd, "QmP7cZ2vJ9wL1rT4yN8eHa");
  ASSERT_EQ(transport.fingerprints.size(), 1u);
  EXPECT_EQ(transport.fingerprints[0].algorithm, "sha-256");
  EXPECT_EQ(transport.fingerprints[0].digest.size(), 32u);
  EXPECT_EQ(transport.fingerprints[0].digest[0], 0x5b);
  EXPECT_EQ(transport.setup, SdpSetup::kActpass);
  EXPECT_TRUE(offer.media[0].candidates().empty());
  auto video = offer.media[1].codec(96);
  ASSERT_TRUE(video);
  EXPECT_EQ(video->feedback.size(), 4u);
  EXPECT_EQ(offer.media[0].codec(111)->parameters.get("maxaveragebitrate"), "96000");
}

TEST(Sdp, MediaLevelTransportWinsOverSessionLevel) {
  SessionDescription offer = load("obs-offer.sdp");
  offer.media[0].attributes.add("ice-ufrag", "mediaLevel");
  offer.media[0].attributes.add("setup", "active");
  EXPECT_EQ(effective_transport(offer, offer.media[0]).ice_ufrag, "mediaLevel");
  EXPECT_EQ(effective_transport(offer, offer.media[0]).setup, SdpSetup::kActive);
  EXPECT_EQ(effective_transport(offer, offer.media[1]).ice_ufrag, "Xk3b");
}

TEST(Sdp, TricklePatchFragment) {
  const std::string text = test::read_testdata("sdp/whip-client-trickle-patch.sdpfrag");
  auto fragment = parse_sdp_fragment(text);
  ASSERT_TRUE(fragment) << fragment.error().message;
  EXPECT_EQ(fragment->attributes.ice_ufrag(), "BzKF8fNYA5O16hmAgD9lU4LmAeB1X4f9");
  ASSERT_EQ(fragment->media.size(), 1u);
  const SdpMedia& placeholder = fragment->media[0];
  EXPECT_EQ(placeholder.protocol, "RTP/AVP");
  EXPECT_EQ(placeholder.mid(), "video0");
  EXPECT_EQ(placeholder.candidates().size(), 3u);
  EXPECT_TRUE(placeholder.candidates()[1].is_tcp());
  EXPECT_TRUE(placeholder.end_of_candidates());
  EXPECT_EQ(serialize_sdp_fragment(*fragment), text);
  // A fragment is not a full description.
  EXPECT_FALSE(parse_sdp(text));
}

}  // namespace
}  // namespace ivs::proto
