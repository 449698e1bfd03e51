// ICE-lite responder driven by hand-built binding requests: demultiplexing by USERNAME and by
// source address, the error responses the RFCs ask for, counters, and consent expiry.
#include "engine/ice_lite.hpp"

#include <gtest/gtest.h>

namespace ivs::engine {
namespace {

using proto::StunBuilder;
using proto::StunClass;
using proto::StunMessage;

const SocketAddress kPeer = *SocketAddress::from_string("192.0.2.10:40000");
const SocketAddress kOtherPeer = *SocketAddress::from_string("192.0.2.11:40001");
const IceCredentials kServer{"srvA", "server-password-0123456789"};
const IceCredentials kClient{"cliA", "client-password-0123456789"};

struct RequestOptions {
  std::string username = "srvA:cliA";
  std::string pwd = "server-password-0123456789";
  bool integrity = true;
  bool fingerprint = true;
  bool priority = true;
  bool use_candidate = false;
  bool controlled = false;
  std::uint8_t id = 1;
};

Bytes make_request(const RequestOptions& options) {
  proto::StunTransactionId id{};
  id.fill(options.id);
  StunBuilder builder(proto::kStunBindingMethod, StunClass::kRequest, id);
  builder.add_username(options.username);
  if (options.priority) {
    builder.add_priority(0x6e0001ff);
  }
  if (options.controlled) {
    builder.add_ice_controlled(42);
  } else {
    builder.add_ice_controlling(42);
  }
  if (options.use_candidate) {
    builder.add_use_candidate();
  }
  StunIntegrity integrity;
  if (options.integrity) {
    integrity.sign(builder, as_bytes(options.pwd));
  }
  if (options.fingerprint) {
    builder.add_fingerprint();
  }
  return std::move(builder).take();
}

int error_code_of(const IceLiteDecision& decision) {
  auto reply = StunMessage::parse(decision.reply.payload);
  if (!reply || !reply->error_code()) {
    return 0;
  }
  return reply->error_code()->code;
}

const Bytes kRtp = {0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
const Bytes kDtls = {22, 0xfe, 0xfd, 0, 0};

class IceLiteTest : public ::testing::Test {
 protected:
  IceLiteTest() { session_ = *lite_.add_session(kServer, kClient); }
  Instant now_{};
  IceLite lite_;
  IceSessionId session_ = 0;
};

TEST_F(IceLiteTest, AnswersValidRequestWithSignedXorMappedAddress) {
  const auto decision = lite_.handle_packet(now_, kPeer, make_request({}));
  ASSERT_EQ(decision.action, IceLiteDecision::Action::kSendReply);
  EXPECT_EQ(decision.reason, IceLiteDropReason::kNone);
  EXPECT_EQ(decision.session, session_);
  EXPECT_EQ(decision.reply.destination, kPeer);
  auto reply = StunMessage::parse(decision.reply.payload);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->message_class(), StunClass::kSuccessResponse);
  EXPECT_EQ(reply->xor_mapped_address(), kPeer);
  EXPECT_TRUE(reply->fingerprint_matches());
  StunIntegrity integrity;
  EXPECT_TRUE(integrity.verify(*reply, as_bytes(kServer.pwd)));
  EXPECT_EQ(lite_.counters().binding_requests, 1u);
  // Validated but not nominated: media is routed, no selection yet.
  EXPECT_FALSE(lite_.selected_address(session_));
  EXPECT_FALSE(lite_.poll_event());
}

TEST_F(IceLiteTest, RoutesMediaOnlyFromValidatedAddresses) {
  auto before = lite_.handle_packet(now_, kPeer, kDtls);
  EXPECT_EQ(before.action, IceLiteDecision::Action::kDrop);
  EXPECT_EQ(before.reason, IceLiteDropReason::kUnknownAddress);
  (void)lite_.handle_packet(now_, kPeer, make_request({}));
  for (const Bytes& packet : {kDtls, kRtp}) {
    auto routed = lite_.handle_packet(now_, kPeer, packet);
    EXPECT_EQ(routed.action, IceLiteDecision::Action::kRouteToSession);
    EXPECT_EQ(routed.session, session_);
  }
  auto stranger = lite_.handle_packet(now_, kOtherPeer, kRtp);
  EXPECT_EQ(stranger.reason, IceLiteDropReason::kUnknownAddress);
  EXPECT_EQ(lite_.counters().routed, 2u);
  EXPECT_EQ(lite_.counters().dropped_unknown_address, 2u);
  auto junk = lite_.handle_packet(now_, kPeer, Bytes{100, 1, 2});
  EXPECT_EQ(junk.reason, IceLiteDropReason::kUnknownPacket);
}

TEST_F(IceLiteTest, UseCandidateSelectsTheAddressOnce) {
  (void)lite_.handle_packet(now_, kPeer, make_request({.use_candidate = true}));
  (void)lite_.handle_packet(now_, kPeer, make_request({.use_candidate = true, .id = 2}));
  EXPECT_EQ(lite_.selected_address(session_), kPeer);
  auto event = lite_.poll_event();
  ASSERT_TRUE(event);
  EXPECT_EQ(event->kind, IceLiteEvent::Kind::kSelected);
  EXPECT_EQ(event->address, kPeer);
  EXPECT_FALSE(lite_.poll_event());
  EXPECT_EQ(lite_.counters().nominations, 1u);
}

TEST_F(IceLiteTest, UnknownUfragGets401AndIsCounted) {
  auto decision = lite_.handle_packet(now_, kPeer, make_request({.username = "nope:cliA"}));
  EXPECT_EQ(decision.action, IceLiteDecision::Action::kSendReply);
  EXPECT_EQ(decision.reason, IceLiteDropReason::kUnknownUfrag);
  EXPECT_EQ(error_code_of(decision), 401);
  auto wrong_remote = lite_.handle_packet(now_, kPeer, make_request({.username = "srvA:other"}));
  EXPECT_EQ(error_code_of(wrong_remote), 401);
  auto no_colon = lite_.handle_packet(now_, kPeer, make_request({.username = "srvA"}));
  EXPECT_EQ(error_code_of(no_colon), 401);
  EXPECT_EQ(lite_.counters().rejected_unknown_ufrag, 3u);
  // None of them validated the address.
  EXPECT_EQ(lite_.handle_packet(now_, kPeer, kRtp).reason, IceLiteDropReason::kUnknownAddress);
}

TEST_F(IceLiteTest, BadIntegrityGets401WithoutIntegrity) {
  auto decision = lite_.handle_packet(now_, kPeer, make_request({.pwd = "wrong"}));
  EXPECT_EQ(decision.reason, IceLiteDropReason::kBadIntegrity);
  EXPECT_EQ(error_code_of(decision), 401);
  auto reply = StunMessage::parse(decision.reply.payload);
  ASSERT_TRUE(reply);
  EXPECT_FALSE(reply->message_integrity());
  EXPECT_TRUE(reply->fingerprint_matches());
  EXPECT_EQ(lite_.counters().rejected_bad_integrity, 1u);
  EXPECT_EQ(lite_.handle_packet(now_, kPeer, kRtp).reason, IceLiteDropReason::kUnknownAddress);
}

TEST_F(IceLiteTest, MissingAttributesGet400) {
  EXPECT_EQ(error_code_of(lite_.handle_packet(now_, kPeer, make_request({.integrity = false}))),
            400);
  EXPECT_EQ(error_code_of(lite_.handle_packet(now_, kPeer, make_request({.priority = false}))),
            400);
  EXPECT_EQ(lite_.counters().rejected_bad_request, 2u);
}

TEST_F(IceLiteTest, BadOrMissingFingerprintIsDroppedSilently) {
  auto decision = lite_.handle_packet(now_, kPeer, make_request({.fingerprint = false}));
  EXPECT_EQ(decision.action, IceLiteDecision::Action::kDrop);
  EXPECT_EQ(decision.reason, IceLiteDropReason::kBadFingerprint);
  Bytes corrupted = make_request({});
  corrupted.back() ^= 1;
  EXPECT_EQ(lite_.handle_packet(now_, kPeer, corrupted).reason, IceLiteDropReason::kBadFingerprint);
  Bytes truncated = make_request({});
  truncated.resize(truncated.size() - 4);
  EXPECT_EQ(lite_.handle_packet(now_, kPeer, truncated).reason, IceLiteDropReason::kMalformedStun);
  EXPECT_EQ(lite_.counters().dropped_bad_fingerprint, 2u);
  EXPECT_EQ(lite_.counters().dropped_malformed, 1u);
}

TEST_F(IceLiteTest, PeerClaimingControlledGetsSigned487) {
  auto decision = lite_.handle_packet(now_, kPeer, make_request({.controlled = true}));
  EXPECT_EQ(error_code_of(decision), 487);
  auto reply = StunMessage::parse(decision.reply.payload);
  StunIntegrity integrity;
  EXPECT_TRUE(integrity.verify(*reply, as_bytes(kServer.pwd)));
  EXPECT_EQ(lite_.counters().rejected_role_conflict, 1u);
}

TEST_F(IceLiteTest, ConsentExpiresThirtySecondsAfterTheLastValidRequest) {
  (void)lite_.handle_packet(now_, kPeer, make_request({.use_candidate = true}));
  (void)lite_.poll_event();
  ASSERT_EQ(lite_.poll_timeout(), now_ + seconds(30));
  // A refresh at 20 s moves the deadline to 50 s.
  (void)lite_.handle_packet(now_ + seconds(20), kPeer, make_request({.id = 2}));
  lite_.handle_timeout(now_ + seconds(30));
  EXPECT_FALSE(lite_.poll_event());
  EXPECT_EQ(lite_.poll_timeout(), now_ + seconds(50));
  lite_.handle_timeout(now_ + seconds(50));
  auto event = lite_.poll_event();
  ASSERT_TRUE(event);
  EXPECT_EQ(event->kind, IceLiteEvent::Kind::kConsentExpired);
  EXPECT_EQ(event->session, session_);
  EXPECT_FALSE(lite_.poll_timeout());
  EXPECT_EQ(lite_.counters().consent_expired, 1u);
}

TEST_F(IceLiteTest, ValidatedButNeverNominatedSessionAlsoExpires) {
  (void)lite_.handle_packet(now_, kPeer, make_request({}));
  lite_.handle_timeout(now_ + seconds(29));
  EXPECT_FALSE(lite_.poll_event());
  lite_.handle_timeout(now_ + seconds(30));
  auto event = lite_.poll_event();
  ASSERT_TRUE(event);
  EXPECT_EQ(event->kind, IceLiteEvent::Kind::kConsentExpired);
  EXPECT_EQ(event->address, kPeer);
}

TEST_F(IceLiteTest, RemovedSessionStopsRoutingAndTiming) {
  (void)lite_.handle_packet(now_, kPeer, make_request({.use_candidate = true}));
  lite_.remove_session(session_);
  EXPECT_EQ(lite_.handle_packet(now_, kPeer, kRtp).reason, IceLiteDropReason::kUnknownAddress);
  lite_.handle_timeout(now_ + seconds(60));
  while (auto event = lite_.poll_event()) {
    EXPECT_NE(event->kind, IceLiteEvent::Kind::kConsentExpired);
  }
  EXPECT_EQ(error_code_of(lite_.handle_packet(now_, kPeer, make_request({}))), 401);
}

TEST(IceLite, DemultiplexesManySessionsOnOnePort) {
  IceLite lite;
  std::vector<IceSessionId> ids;
  for (int i = 0; i < 200; ++i) {
    ids.push_back(*lite.add_session({"s" + std::to_string(i), "pwd-" + std::to_string(i)}));
  }
  EXPECT_FALSE(lite.add_session({"s7", "dup"}));
  for (int i = 0; i < 200; ++i) {
    const auto from = SocketAddress::ipv4({10, 0, 0, 1}, static_cast<std::uint16_t>(1000 + i));
    const auto decision =
        lite.handle_packet(Instant{}, from,
                           make_request({.username = "s" + std::to_string(i) + ":anything",
                                         .pwd = "pwd-" + std::to_string(i)}));
    ASSERT_EQ(decision.session, ids[static_cast<std::size_t>(i)]);
  }
  for (int i = 0; i < 200; ++i) {
    const auto from = SocketAddress::ipv4({10, 0, 0, 1}, static_cast<std::uint16_t>(1000 + i));
    EXPECT_EQ(lite.handle_packet(Instant{}, from, kRtp).session, ids[static_cast<std::size_t>(i)]);
  }
}

}  // namespace
}  // namespace ivs::engine
