#include "proto/socket_address.hpp"

#include <gtest/gtest.h>

namespace ivs {
namespace {

TEST(SocketAddress, ParsesAndPrintsIpv4) {
  auto address = SocketAddress::from_string("192.168.1.20:5004");
  ASSERT_TRUE(address);
  EXPECT_TRUE(address->is_ipv4());
  EXPECT_EQ(address->port(), 5004);
  EXPECT_EQ(address->to_string(), "192.168.1.20:5004");
}

TEST(SocketAddress, ParsesAndCompressesIpv6) {
  auto address = SocketAddress::from_string("[2001:db8:0:0:0:0:0:1]:443");
  ASSERT_TRUE(address);
  EXPECT_FALSE(address->is_ipv4());
  EXPECT_EQ(address->to_string(), "[2001:db8::1]:443");
  EXPECT_EQ(SocketAddress::from_ip("::1", 1)->ip_string(), "::1");
  EXPECT_EQ(SocketAddress::from_ip("::ffff:1.2.3.4", 1)->ip_string(), "::ffff:102:304");
}

TEST(SocketAddress, RejectsMalformedText) {
  for (const char* text : {"", "1.2.3", "1.2.3.4", "1.2.3.256:1", "1.2.3.4:70000", "[::1:5",
                           "1:2:3:4:5:6:7:8:9", "::1::2", "hello:80", "[::1]:"}) {
    EXPECT_FALSE(SocketAddress::from_string(text)) << text;
  }
}

TEST(SocketAddress, EqualityIncludesPortAndFamily) {
  auto a = *SocketAddress::from_string("127.0.0.1:1000");
  auto b = *SocketAddress::from_string("127.0.0.1:1001");
  EXPECT_NE(a, b);
  b.set_port(1000);
  EXPECT_EQ(a, b);
  EXPECT_EQ(SocketAddressHash{}(a), SocketAddressHash{}(b));
}

}  // namespace
}  // namespace ivs
