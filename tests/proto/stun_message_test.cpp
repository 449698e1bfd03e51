// STUN codec against the RFC 5769 vectors (structure and FINGERPRINT; MESSAGE-INTEGRITY needs
// HMAC and is checked in tests/engine/stun_integrity_test.cpp) and against malformed input.
#include "proto/stun_message.hpp"

#include <gtest/gtest.h>

#include "proto/packet_demux.hpp"
#include "support/testdata.hpp"

namespace ivs::proto {
namespace {

Bytes vector_bytes(const std::string& name) {
  const std::string text = test::read_testdata("stun/" + name);
  return Bytes(text.begin(), text.end());
}

constexpr StunTransactionId kRfc5769Id = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                          0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

TEST(StunMessage, ParsesRfc5769Request) {
  const Bytes bytes = vector_bytes("rfc5769-request.bin");
  auto message = StunMessage::parse(bytes);
  ASSERT_TRUE(message) << message.error().message;
  EXPECT_EQ(message->method(), kStunBindingMethod);
  EXPECT_EQ(message->message_class(), StunClass::kRequest);
  EXPECT_EQ(message->transaction_id(), kRfc5769Id);
  EXPECT_EQ(message->software(), "STUN test client");
  EXPECT_EQ(message->username(), "evtj:h6vY");
  EXPECT_EQ(message->priority(), 0x6e0001ffu);
  EXPECT_EQ(message->ice_controlled(), 0x932ff9b151263b36ull);
  EXPECT_FALSE(message->ice_controlling());
  EXPECT_FALSE(message->use_candidate());
  ASSERT_TRUE(message->message_integrity());
  EXPECT_EQ(message->message_integrity()->size(), 20u);
  EXPECT_TRUE(message->fingerprint_matches());
  EXPECT_EQ(message->attributes().size(), 6u);
  EXPECT_TRUE(message->unknown_comprehension_required().empty());
  // The integrity input ends before the MESSAGE-INTEGRITY header and counts up to its end.
  const auto input = message->message_integrity_input();
  ASSERT_TRUE(input);
  EXPECT_EQ(input->covered.size(), bytes.size() - 24 - 8);
  EXPECT_EQ(input->adjusted_length, bytes.size() - 20 - 8);
}

TEST(StunMessage, ParsesRfc5769Ipv4Response) {
  const Bytes bytes = vector_bytes("rfc5769-ipv4-response.bin");
  auto message = StunMessage::parse(bytes);
  ASSERT_TRUE(message) << message.error().message;
  EXPECT_EQ(message->message_class(), StunClass::kSuccessResponse);
  EXPECT_EQ(message->software(), "test vector");
  EXPECT_EQ(message->xor_mapped_address(), SocketAddress::from_string("192.0.2.1:32853"));
  EXPECT_TRUE(message->fingerprint_matches());
}

TEST(StunMessage, ParsesRfc5769Ipv6Response) {
  const Bytes bytes = vector_bytes("rfc5769-ipv6-response.bin");
  auto message = StunMessage::parse(bytes);
  ASSERT_TRUE(message) << message.error().message;
  EXPECT_EQ(message->xor_mapped_address(),
            SocketAddress::from_string("[2001:db8:1234:5678:11:2233:4455:6677]:32853"));
  EXPECT_TRUE(message->fingerprint_matches());
}

TEST(StunMessage, ParsesLongTermRequestKeepingUnknownAttributes) {
  const Bytes bytes = vector_bytes("rfc5769-long-term-request.bin");
  auto message = StunMessage::parse(bytes);
  ASSERT_TRUE(message) << message.error().message;
  EXPECT_EQ(message->username(),
            "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf"
            "\xe3\x82\xb9");
  ASSERT_NE(message->find(stun_attribute::kNonce), nullptr);
  EXPECT_EQ(as_text(message->find(stun_attribute::kNonce)->value), "f//499k954d6OL34oL9FSTvy64sA");
  EXPECT_EQ(as_text(message->find(stun_attribute::kRealm)->value), "example.org");
  EXPECT_FALSE(message->has_fingerprint());
  EXPECT_FALSE(message->fingerprint_matches());
}

TEST(StunMessage, ParsesMessageIntegritySha256AndReportsUnknownComprehensionRequired) {
  const Bytes bytes = vector_bytes("rfc8489-sha256-request.bin");
  auto message = StunMessage::parse(bytes);
  ASSERT_TRUE(message) << message.error().message;
  ASSERT_TRUE(message->message_integrity_sha256());
  EXPECT_EQ(message->message_integrity_sha256()->size(), 32u);
  EXPECT_FALSE(message->message_integrity());
  // USERHASH (0x001E) and PASSWORD-ALGORITHM (0x001D) are comprehension-required and unknown.
  EXPECT_EQ(message->unknown_comprehension_required(),
            (std::vector<std::uint16_t>{0x001E, 0x001D}));
}

TEST(StunMessage, DetectsCorruptedFingerprint) {
  Bytes bytes = vector_bytes("rfc5769-ipv4-response.bin");
  bytes[25] ^= 0x01;  // Inside SOFTWARE: the CRC no longer matches.
  auto message = StunMessage::parse(bytes);
  ASSERT_TRUE(message);
  EXPECT_FALSE(message->fingerprint_matches());
}

TEST(StunMessage, EveryTruncationIsAnError) {
  const Bytes bytes = vector_bytes("rfc5769-request.bin");
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(StunMessage::parse(ByteSpan(bytes).first(size))) << size;
  }
}

TEST(StunMessage, RejectsMalformedHeaders) {
  const Bytes good = vector_bytes("rfc5769-request.bin");
  Bytes bad_cookie = good;
  bad_cookie[4] = 0x22;
  EXPECT_FALSE(StunMessage::parse(bad_cookie));
  Bytes top_bits = good;
  top_bits[0] = 0x40;
  EXPECT_FALSE(StunMessage::parse(top_bits));
  Bytes odd_length = good;
  odd_length[3] = 0x57;
  EXPECT_FALSE(StunMessage::parse(odd_length));
  Bytes trailing = good;
  trailing.insert(trailing.end(), {0, 0, 0, 0});
  EXPECT_FALSE(StunMessage::parse(trailing));
}

TEST(StunMessage, RejectsAttributeOverrunsAndBadKnownLengths) {
  StunBuilder builder(kStunBindingMethod, StunClass::kRequest, kRfc5769Id);
  builder.add_priority(1);
  Bytes overrun = builder.bytes();
  overrun[23] = 0x08;  // PRIORITY claims 8 bytes but only 4 follow.
  EXPECT_FALSE(StunMessage::parse(overrun));
  Bytes short_priority = builder.bytes();
  short_priority[23] = 0x02;  // 2 bytes + 2 padding: fits, but PRIORITY must be 4.
  EXPECT_FALSE(StunMessage::parse(short_priority));
}

TEST(StunMessage, RejectsAttributesAfterFingerprintAndIgnoresThoseAfterIntegrity) {
  StunBuilder builder(kStunBindingMethod, StunClass::kRequest, kRfc5769Id);
  builder.reserve_message_integrity();
  builder.add_username("late");  // Ignored: it follows MESSAGE-INTEGRITY.
  auto ignored = StunMessage::parse(builder.bytes());
  ASSERT_TRUE(ignored);
  EXPECT_FALSE(ignored->username());
  builder.add_fingerprint();
  builder.add_software("after");
  EXPECT_FALSE(StunMessage::parse(builder.bytes()));
}

TEST(StunMessage, RejectsMoreThanTheMaximumAttributes) {
  StunBuilder builder(kStunBindingMethod, StunClass::kIndication, kRfc5769Id);
  for (std::size_t i = 0; i <= StunMessage::kMaxAttributes; ++i) {
    builder.add(0x8050, {});
  }
  EXPECT_FALSE(StunMessage::parse(builder.bytes()));
}

TEST(StunBuilder, RoundTripsIceAttributesAndAddresses) {
  const StunTransactionId id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  StunBuilder builder(kStunBindingMethod, StunClass::kErrorResponse, id);
  builder.add_username("abcd:efgh");
  builder.add_priority(0x7e7f00ff);
  builder.add_use_candidate();
  builder.add_ice_controlling(0x0102030405060708ull);
  builder.add_xor_mapped_address(*SocketAddress::from_string("[2001:db8::7]:5000"));
  builder.add_mapped_address(*SocketAddress::from_string("10.0.0.1:9"));
  builder.add_error_code(487, "Role Conflict");
  builder.add_fingerprint();
  auto message = StunMessage::parse(builder.bytes());
  ASSERT_TRUE(message) << message.error().message;
  EXPECT_EQ(message->message_class(), StunClass::kErrorResponse);
  EXPECT_EQ(message->transaction_id(), id);
  EXPECT_EQ(message->username(), "abcd:efgh");
  EXPECT_EQ(message->priority(), 0x7e7f00ffu);
  EXPECT_TRUE(message->use_candidate());
  EXPECT_EQ(message->ice_controlling(), 0x0102030405060708ull);
  EXPECT_EQ(message->xor_mapped_address(), SocketAddress::from_string("[2001:db8::7]:5000"));
  EXPECT_EQ(message->mapped_address(), SocketAddress::from_string("10.0.0.1:9"));
  ASSERT_TRUE(message->error_code());
  EXPECT_EQ(message->error_code()->code, 487);
  EXPECT_EQ(message->error_code()->reason, "Role Conflict");
  EXPECT_TRUE(message->fingerprint_matches());
}

TEST(StunBuilder, EncodesMessageTypeBits) {
  EXPECT_EQ(stun_message_type(kStunBindingMethod, StunClass::kRequest), 0x0001);
  EXPECT_EQ(stun_message_type(kStunBindingMethod, StunClass::kIndication), 0x0011);
  EXPECT_EQ(stun_message_type(kStunBindingMethod, StunClass::kSuccessResponse), 0x0101);
  EXPECT_EQ(stun_message_type(kStunBindingMethod, StunClass::kErrorResponse), 0x0111);
  // A method using every bit position round-trips through the interleaving.
  StunBuilder builder(0x0FFF, StunClass::kErrorResponse, kRfc5769Id);
  auto message = StunMessage::parse(builder.bytes());
  ASSERT_TRUE(message);
  EXPECT_EQ(message->method(), 0x0FFF);
  EXPECT_EQ(message->message_class(), StunClass::kErrorResponse);
}

TEST(Crc32, MatchesTheCheckValue) {
  EXPECT_EQ(crc32(as_bytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32({}), 0u);
}

TEST(PacketDemux, ClassifiesByFirstByteAsRfc7983Says) {
  EXPECT_EQ(classify_packet(std::uint8_t{0}), PacketKind::kStun);
  EXPECT_EQ(classify_packet(std::uint8_t{3}), PacketKind::kStun);
  EXPECT_EQ(classify_packet(std::uint8_t{4}), PacketKind::kUnknown);
  EXPECT_EQ(classify_packet(std::uint8_t{19}), PacketKind::kZrtp);
  EXPECT_EQ(classify_packet(std::uint8_t{20}), PacketKind::kDtls);
  EXPECT_EQ(classify_packet(std::uint8_t{63}), PacketKind::kDtls);
  EXPECT_EQ(classify_packet(std::uint8_t{64}), PacketKind::kTurnChannel);
  EXPECT_EQ(classify_packet(std::uint8_t{127}), PacketKind::kUnknown);
  EXPECT_EQ(classify_packet(std::uint8_t{128}), PacketKind::kRtp);
  EXPECT_EQ(classify_packet(std::uint8_t{191}), PacketKind::kRtp);
  EXPECT_EQ(classify_packet(std::uint8_t{192}), PacketKind::kUnknown);
  EXPECT_EQ(classify_packet(ByteSpan{}), PacketKind::kUnknown);
  EXPECT_TRUE(looks_like_stun(vector_bytes("rfc5769-request.bin")));
}

}  // namespace
}  // namespace ivs::proto
