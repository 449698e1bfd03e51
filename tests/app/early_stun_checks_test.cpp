// EarlyStunChecks (WHIP egress and the edge's WHEP pull): STUN checks that arrive before the
// answer are kept, within bounds, and nothing else is. That they are answered once the ICE agent
// exists is tested end to end by WhipEgress's early-check test (whip_egress_test.cpp).
#include "app/egress/early_stun_checks.hpp"

#include <gtest/gtest.h>

#include "proto/stun_message.hpp"

namespace ivs::app {
namespace {

Bytes binding_request(std::size_t software_bytes = 0) {
  proto::StunBuilder builder(proto::kStunBindingMethod, proto::StunClass::kRequest,
                             proto::StunTransactionId{});
  builder.add_username("remote:local");
  if (software_bytes > 0) {
    builder.add_software(std::string(software_bytes, 's'));
  }
  builder.add_fingerprint();
  return std::move(builder).take();
}

TEST(EarlyStunChecks, KeepsAFewSmallStunChecksAndNothingElse) {
  EarlyStunChecks checks;
  const SocketAddress from = *SocketAddress::from_string("127.0.0.1:5000");
  const Bytes rtp = {0x80, 0x60, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_FALSE(checks.keep(from, rtp));
  EXPECT_FALSE(checks.keep(from, binding_request(EarlyStunChecks::kMaxDatagramBytes)));
  for (std::size_t i = 0; i < EarlyStunChecks::kMaxDatagrams; ++i) {
    EXPECT_TRUE(checks.keep(from, binding_request()));
  }
  EXPECT_FALSE(checks.keep(from, binding_request()));
  EXPECT_EQ(checks.size(), EarlyStunChecks::kMaxDatagrams);
}

}  // namespace
}  // namespace ivs::app
