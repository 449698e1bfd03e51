// IngestPolicy::dtls_role: the answerer may take the DTLS client role (a=setup:active, RFC 8842
// §5.2) while staying ICE-lite. The benchmark's sink answers Janus's streaming offer this way
// (testdata/sdp/janus-streaming-offer.sdp, a captured Janus 1.1.2 offer); the default stays the
// DTLS-passive server every WHIP/WHEP client expects.
#include <gtest/gtest.h>

#include "engine/sdp_negotiation.hpp"
#include "support/testdata.hpp"

namespace ivs::engine {
namespace {

LocalTransport sink_transport() {
  LocalTransport local;
  local.ice = {"sinkU", "sinkPasswordOf22Chars!"};
  local.fingerprint = proto::SdpFingerprint{"sha-256", Bytes(32, 0xcd)};
  local.host_addresses = {*SocketAddress::from_string("127.0.0.1:41000")};
  local.session_id = 777;
  return local;
}

IngestPolicy client_policy() {
  IngestPolicy policy;
  policy.dtls_role = DtlsRole::kClient;
  policy.accept_transport_cc = false;
  policy.accept_remb = false;
  return policy;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

std::string janus_offer() {
  return test::read_testdata("sdp/janus-streaming-offer.sdp");
}

TEST(SdpAnswerRole, JanusOfferAnsweredActiveAndIceLite) {
  auto answer = negotiate_ingest(janus_offer(), sink_transport(), client_policy());
  ASSERT_TRUE(answer) << answer.error().message;
  auto reparsed = proto::parse_sdp(answer->sdp);
  ASSERT_TRUE(reparsed) << reparsed.error().message;
  EXPECT_TRUE(reparsed->ice_lite());
  ASSERT_EQ(reparsed->media.size(), 2u);
  for (const auto& media : reparsed->media) {
    EXPECT_FALSE(media.rejected()) << media.kind;
    EXPECT_EQ(media.attributes.setup(), proto::SdpSetup::kActive) << media.kind;
    EXPECT_EQ(media.direction(), proto::SdpDirection::kRecvOnly) << media.kind;
  }
  EXPECT_EQ(answer->sdp.find("a=setup:passive"), std::string::npos);
  // Janus: video first with mid "v", H.264 PT 96 (its RTX PT 97 dropped), Opus PT 111 mid "a".
  EXPECT_EQ(answer->media.video.mid, "v");
  EXPECT_EQ(answer->media.video.payload_type, 96);
  EXPECT_EQ(answer->media.video.h264_profile_level_id, "42e01f");
  ASSERT_TRUE(answer->media.audio);
  EXPECT_EQ(answer->media.audio->mid, "a");
  EXPECT_EQ(answer->media.audio->payload_type, 111);
  EXPECT_EQ(answer->media.bundle_mids, (std::vector<std::string>{"v", "a"}));
  EXPECT_EQ(answer->media.remote.setup, proto::SdpSetup::kActpass);
  EXPECT_EQ(answer->sdp.find("rtx"), std::string::npos);
  // The sink sends no congestion feedback, so it agrees to none.
  EXPECT_FALSE(answer->media.video.feedback.transport_cc);
  EXPECT_FALSE(answer->media.video.feedback.remb);
  EXPECT_EQ(answer->sdp.find("transport-cc"), std::string::npos);
  EXPECT_EQ(answer->media.video.remote_ssrcs.size(), 2u);  // media + RTX of the FID group
}

TEST(SdpAnswerRole, DefaultPolicyStillAnswersPassive) {
  auto answer = negotiate_ingest(janus_offer(), sink_transport());
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_NE(answer->sdp.find("a=setup:passive"), std::string::npos);
  EXPECT_EQ(answer->sdp.find("a=setup:active"), std::string::npos);
}

TEST(SdpAnswerRole, ActiveAnswererAcceptsPassiveOffer) {
  const std::string offer = replace_all(janus_offer(), "a=setup:actpass", "a=setup:passive");
  auto answer = negotiate_ingest(offer, sink_transport(), client_policy());
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_NE(answer->sdp.find("a=setup:active"), std::string::npos);
  // The server role must still refuse it: two passive ends never start a handshake.
  auto server = negotiate_ingest(offer, sink_transport());
  ASSERT_FALSE(server);
  EXPECT_NE(server.error().message.find("a=setup:passive"), std::string::npos);
}

TEST(SdpAnswerRole, ActiveAnswererRefusesActiveOffer) {
  // Two DTLS clients would both send ClientHello and never finish.
  const std::string offer = replace_all(janus_offer(), "a=setup:actpass", "a=setup:active");
  auto answer = negotiate_ingest(offer, sink_transport(), client_policy());
  ASSERT_FALSE(answer);
  EXPECT_NE(answer.error().message.find("a=setup:active"), std::string::npos);
  EXPECT_NE(answer.error().message.find("actpass or passive"), std::string::npos);
  // The server role accepts the same offer.
  EXPECT_TRUE(negotiate_ingest(offer, sink_transport()));
}

}  // namespace
}  // namespace ivs::engine
