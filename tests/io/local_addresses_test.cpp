// The local addresses a socket stands for: its interface addresses when it is bound to the
// wildcard, and the one a client-mode ICE agent sends from (sending_address_of). Real getifaddrs
// and routing lookups, in whatever namespace the test runs (loopback at least).
#include "io/local_addresses.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace ivs::io {
namespace {

bool contains(const std::vector<SocketAddress>& all, const SocketAddress& one) {
  return std::find(all.begin(), all.end(), one) != all.end();
}

TEST(LocalAddresses, LoopbackComesLastAndEveryAddressCarriesThePort) {
  const auto all = local_ipv4_addresses(5004);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back(), SocketAddress::ipv4({127, 0, 0, 1}, 5004));
  for (const auto& address : all) {
    EXPECT_EQ(address.port(), 5004);
  }
}

TEST(LocalAddresses, ABoundAddressStandsForItself) {
  const SocketAddress bound = SocketAddress::ipv4({127, 0, 0, 1}, 40000);
  EXPECT_EQ(host_addresses_of(bound), std::vector<SocketAddress>{bound});
  EXPECT_EQ(sending_address_of(bound, SocketAddress::ipv4({192, 0, 2, 1}, 9)), bound);
}

// The bug this guards: with the default RTC_BIND_IP=0.0.0.0, a machine with loopback and one
// more interface gave the egress's client-mode ICE agent two host addresses, and it refused to
// start ("needs exactly one local socket"): no stage was ever published. The agent now gets the
// one address the kernel sends from toward the stage.
TEST(LocalAddresses, AWildcardSocketSendsFromTheRoutedSourceAddress) {
  const SocketAddress wildcard = SocketAddress::ipv4({0, 0, 0, 0}, 40000);
  EXPECT_EQ(sending_address_of(wildcard, SocketAddress::ipv4({127, 0, 0, 1}, 3478)),
            SocketAddress::ipv4({127, 0, 0, 1}, 40000));
  EXPECT_EQ(sending_address_of(wildcard, SocketAddress::ipv4({127, 9, 9, 9}, 3478)),
            SocketAddress::ipv4({127, 0, 0, 1}, 40000));
  // Toward an address with no route (the test namespace has none off loopback) or an IPv6 one,
  // the first interface address; whatever the host, one of this socket's host addresses.
  for (const auto& remote :
       {SocketAddress::ipv4({192, 0, 2, 1}, 9), *SocketAddress::from_ip("2001:db8::1", 9)}) {
    const auto sending = sending_address_of(wildcard, remote);
    ASSERT_TRUE(sending.has_value());
    EXPECT_TRUE(contains(host_addresses_of(wildcard), *sending)) << sending->to_string();
  }
}

}  // namespace
}  // namespace ivs::io
