// Attribute value grammars (fingerprint, candidate, extmap, rtpmap, fmtp, rtcp-fb, ssrc, rid,
// simulcast) and the errors the line codec reports for malformed or oversized input.
#include "proto/sdp_attributes.hpp"

#include <gtest/gtest.h>

#include "proto/sdp.hpp"
#include "proto/sdp_candidate.hpp"
#include "proto/sdp_simulcast.hpp"

namespace ivs::proto {
namespace {

const char kMinimal[] =
    "v=0\r\n"
    "o=- 1 1 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n";

std::string error_of(std::string_view text) {
  auto parsed = parse_sdp(text);
  return parsed ? std::string("<parsed>") : parsed.error().message;
}

TEST(SdpAttributes, Fingerprint) {
  auto fingerprint = SdpFingerprint::parse(
      "SHA-256 3e:9D:9A:32:EC:40:85:2F:07:A1:C8:00:24:17:28:66:C6:C0:BD:41:68:B6:B6:1F:40:83:08:"
      "34:8A:B3:55:40");
  ASSERT_TRUE(fingerprint) << fingerprint.error().message;
  EXPECT_EQ(fingerprint->algorithm, "sha-256");
  ASSERT_EQ(fingerprint->digest.size(), 32u);
  EXPECT_EQ(fingerprint->digest[0], 0x3e);
  EXPECT_EQ(fingerprint->to_string().substr(0, 14), "sha-256 3E:9D:");
  EXPECT_FALSE(SdpFingerprint::parse("sha-256"));
  EXPECT_FALSE(SdpFingerprint::parse("sha-256 3E:9G"));
  EXPECT_FALSE(SdpFingerprint::parse("sha-256 3E:9D"));  // too short for any hash
}

TEST(SdpAttributes, CandidateWithRelatedAddressAndUnknownExtensions) {
  auto candidate = SdpCandidate::parse(
      "candidate:842163049 1 udp 1677729535 203.0.113.7 61000 typ srflx raddr 10.0.0.2 rport "
      "51000 generation 3 network-cost 10 x-custom y");
  ASSERT_TRUE(candidate) << candidate.error().message;
  EXPECT_EQ(candidate->type, "srflx");
  EXPECT_EQ(candidate->related_address, "10.0.0.2");
  EXPECT_EQ(candidate->related_port, 51000);
  EXPECT_EQ(candidate->generation, 3u);
  ASSERT_EQ(candidate->extensions.size(), 2u);
  EXPECT_EQ(candidate->extensions[1].second, "y");
  EXPECT_EQ(candidate->to_string(),
            "842163049 1 udp 1677729535 203.0.113.7 61000 typ srflx raddr 10.0.0.2 rport 51000 "
            "generation 3 network-cost 10 x-custom y");
}

TEST(SdpAttributes, CandidateRejectsBadFields) {
  EXPECT_FALSE(SdpCandidate::parse("1 1 udp 100 1.2.3.4 5000 typ"));            // too short
  EXPECT_FALSE(SdpCandidate::parse("1 1 udp 100 1.2.3.4 70000 typ host"));      // port
  EXPECT_FALSE(SdpCandidate::parse("1 1 udp 99999999999 1.2.3.4 1 typ host"));  // priority
  EXPECT_FALSE(SdpCandidate::parse("1 0 udp 100 1.2.3.4 1 typ host"));          // component
  EXPECT_FALSE(SdpCandidate::parse("f-1 1 udp 100 1.2.3.4 1 typ host"));        // foundation
  EXPECT_FALSE(SdpCandidate::parse("1 1 udp 100 1.2.3.4 1 type host"));         // not "typ"
  EXPECT_FALSE(SdpCandidate::parse("1 1 udp 100 1.2.3.4 1 typ host rport"));    // dangling
  EXPECT_FALSE(SdpCandidate::parse("1 1 udp 100 1.2.3.4 1 typ host rport x"));
}

TEST(SdpAttributes, ExtmapWithDirection) {
  auto extmap = SdpExtmap::parse("3/sendonly urn:ietf:params:rtp-hdrext:sdes:mid");
  ASSERT_TRUE(extmap);
  EXPECT_EQ(extmap->id, 3);
  EXPECT_EQ(extmap->direction, SdpDirection::kSendOnly);
  EXPECT_EQ(extmap->to_string(), "3/sendonly urn:ietf:params:rtp-hdrext:sdes:mid");
  EXPECT_FALSE(SdpExtmap::parse("0 urn:x"));
  EXPECT_FALSE(SdpExtmap::parse("3/sideways urn:x"));
  EXPECT_FALSE(SdpExtmap::parse("3"));
}

TEST(SdpAttributes, RtpmapFmtpAndFeedback) {
  auto rtpmap = SdpRtpmap::parse("111 OPUS/48000/2");
  ASSERT_TRUE(rtpmap);
  EXPECT_TRUE(rtpmap->is("opus"));
  EXPECT_EQ(rtpmap->channels, 2u);
  EXPECT_FALSE(SdpRtpmap::parse("128 opus/48000"));
  EXPECT_FALSE(SdpRtpmap::parse("96 H264"));
  EXPECT_FALSE(SdpRtpmap::parse("96 H264/0"));

  auto fmtp = SdpFmtp::parse("96 Profile-Level-Id=42e01f; packetization-mode=1");
  ASSERT_TRUE(fmtp);
  EXPECT_EQ(fmtp->parameters.get("profile-level-id"), "42e01f");
  EXPECT_EQ(fmtp->parameters.get("PACKETIZATION-MODE"), "1");
  EXPECT_FALSE(fmtp->parameters.get("apt"));
  auto red = SdpFmtp::parse("63 111/111");
  ASSERT_TRUE(red);
  EXPECT_EQ(red->to_string(), "63 111/111");

  auto feedback = SdpRtcpFeedback::parse("* nack pli");
  ASSERT_TRUE(feedback);
  EXPECT_FALSE(feedback->payload_type);
  EXPECT_EQ(feedback->parameter, "pli");
  EXPECT_FALSE(SdpRtcpFeedback::parse("96"));
}

TEST(SdpAttributes, SsrcAndGroups) {
  auto ssrc = SdpSsrc::parse("3279502183 msid:stream track");
  ASSERT_TRUE(ssrc);
  EXPECT_EQ(ssrc->ssrc, 3279502183u);
  EXPECT_EQ(ssrc->attribute, "msid");
  EXPECT_EQ(ssrc->value, "stream track");
  EXPECT_FALSE(SdpSsrc::parse("4294967296 cname:x"));
  auto group = SdpSsrcGroup::parse("SIM 1 2 3");
  ASSERT_TRUE(group);
  EXPECT_EQ(group->ssrcs.size(), 3u);
}

TEST(SdpAttributes, RidAndSimulcast) {
  auto rid = SdpRid::parse("h send pt=96,97;max-width=1280");
  ASSERT_TRUE(rid) << rid.error().message;
  EXPECT_EQ(rid->payload_types, (std::vector<std::uint8_t>{96, 97}));
  EXPECT_EQ(rid->to_string(), "h send pt=96,97;max-width=1280");
  EXPECT_FALSE(SdpRid::parse("h sideways"));
  auto simulcast = SdpSimulcast::parse("send 0;1,~2 recv q");
  ASSERT_TRUE(simulcast) << simulcast.error().message;
  ASSERT_EQ(simulcast->send.size(), 2u);
  EXPECT_EQ(simulcast->send[1].size(), 2u);
  EXPECT_TRUE(simulcast->send[1][1].paused);
  EXPECT_EQ(simulcast->recv[0][0].id, "q");
  EXPECT_EQ(simulcast->to_string(), "send 0;1,~2 recv q");
  EXPECT_FALSE(SdpSimulcast::parse("send"));
  EXPECT_FALSE(SdpSimulcast::parse("send 0 send 1"));
}

TEST(SdpErrors, MissingVersionLine) {
  EXPECT_EQ(error_of("o=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n"),
            "SDP line 1: expected v=0 as the first line, got 'o=- 1 1 IN IP4 0.0.0.0'");
  EXPECT_EQ(error_of(""), "SDP: empty (no v=0 line)");
  EXPECT_EQ(error_of("v=0\r\ns=-\r\n"), "SDP: missing o= line");
}

TEST(SdpErrors, BadMediaLineNamesTheLine) {
  std::string text = std::string(kMinimal) + "m=video nine UDP/TLS/RTP/SAVPF 96\r\n";
  EXPECT_EQ(error_of(text), "SDP line 5: m=: bad port 'nine'");
  text = std::string(kMinimal) + "m=video 9\r\n";
  EXPECT_EQ(error_of(text).substr(0, 14), "SDP line 5: m=");
}

TEST(SdpErrors, BadCandidateNamesTheLine) {
  const std::string text = std::string(kMinimal) +
                           "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                           "a=mid:0\r\n"
                           "a=candidate:1 1 udp 2130706431 127.0.0.1 port typ host\r\n";
  EXPECT_EQ(error_of(text), "SDP line 7: candidate: bad port 'port'");
}

TEST(SdpErrors, OtherMalformedLines) {
  EXPECT_NE(error_of(std::string(kMinimal) + "garbage\r\n").find("line 5"), std::string::npos);
  EXPECT_NE(error_of(std::string(kMinimal) + "x=1\r\n").find("unknown line type"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kMinimal) + "a=setup:sometimes\r\n").find("setup"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kMinimal) + "a=group\r\n").find("group"), std::string::npos);
  EXPECT_NE(error_of(std::string(kMinimal) + "a=rtpmap:96\r\n").find("rtpmap"), std::string::npos);
}

TEST(SdpErrors, HugeInputIsRefusedBeforeParsing) {
  std::string text = kMinimal;
  while (text.size() <= 64 * 1024) {
    text += "a=x-padding:0123456789012345678901234567890123456789\r\n";
  }
  EXPECT_NE(error_of(text).find("exceeds the limit"), std::string::npos);

  SdpLimits few_lines;
  few_lines.max_lines = 6;
  auto parsed = parse_sdp(std::string(kMinimal) + "a=a\r\na=b\r\na=c\r\n", few_lines);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "SDP: more than 6 lines");

  SdpLimits one_media;
  one_media.max_media = 1;
  parsed = parse_sdp(std::string(kMinimal) + "m=audio 9 RTP/AVP 0\r\nm=video 9 RTP/AVP 96\r\n",
                     one_media);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("more than 1 m= sections"), std::string::npos);
}

TEST(SdpErrors, UnknownAttributesArePreservedInOrder) {
  const std::string text = std::string(kMinimal) +
                           "a=x-b\r\n"
                           "a=x-a:1 2 3\r\n"
                           "m=audio 9 RTP/AVP 0\r\n"
                           "a=x-empty:\r\n"
                           "a=framerate:30\r\n";
  auto parsed = parse_sdp(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->attributes.list()[0].name, "x-b");
  EXPECT_FALSE(parsed->attributes.list()[0].value);
  EXPECT_EQ(parsed->media[0].attributes.first("x-empty"), "");
  EXPECT_EQ(serialize_sdp(*parsed), text);
}

// Story: the fuzzer's round-trip property needs lines without typed access (k=, i=, r=) to be
// written back in a fixed order even when the input had them elsewhere.
TEST(SdpErrors, UntypedLinesRoundTripInRfcOrder) {
  const std::string text =
      "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nk=prompt\r\ni=info\r\nt=0 0\r\nr=7d 1h 0 25h\r\n"
      "m=audio 9 RTP/AVP 0\r\nk=clear:x\r\ni=media info\r\n";
  auto first = parse_sdp(text);
  ASSERT_TRUE(first) << first.error().message;
  const std::string serialized = serialize_sdp(*first);
  auto second = parse_sdp(serialized);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(
      serialized,
      "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\ni=info\r\nt=0 0\r\nk=prompt\r\nr=7d 1h 0 25h\r\n"
      "m=audio 9 RTP/AVP 0\r\ni=media info\r\nk=clear:x\r\n");
}

}  // namespace
}  // namespace ivs::proto
