// CIDR networks for address allow-lists (RFC 4632 §3.1, RFC 4291 §2.3 and §2.5.5.2).
#include "proto/ip_network.hpp"

#include <gtest/gtest.h>

namespace ivs {
namespace {

SocketAddress ip(std::string_view text) {
  return *SocketAddress::from_ip(text, 4242);
}

IpNetwork network(std::string_view text) {
  Result<IpNetwork> parsed = parse_ip_network(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << (parsed ? "" : parsed.error().message);
  return parsed ? *parsed : IpNetwork{};
}

TEST(IpNetwork, Ipv4PrefixContainsItsAddressesOnly) {
  const IpNetwork ten = network("10.0.0.0/8");
  EXPECT_TRUE(ten.contains(ip("10.0.0.0")));
  EXPECT_TRUE(ten.contains(ip("10.255.255.255")));
  EXPECT_FALSE(ten.contains(ip("11.0.0.0")));
  EXPECT_FALSE(ten.contains(ip("9.255.255.255")));
}

TEST(IpNetwork, PrefixThatIsNotAWholeByte) {
  const IpNetwork net = network("192.0.2.64/26");  // .64 - .127
  EXPECT_FALSE(net.contains(ip("192.0.2.63")));
  EXPECT_TRUE(net.contains(ip("192.0.2.64")));
  EXPECT_TRUE(net.contains(ip("192.0.2.127")));
  EXPECT_FALSE(net.contains(ip("192.0.2.128")));
}

TEST(IpNetwork, BareAddressIsASingleHost) {
  EXPECT_EQ(network("192.0.2.7").prefix_length, 32u);
  EXPECT_TRUE(network("192.0.2.7").contains(ip("192.0.2.7")));
  EXPECT_FALSE(network("192.0.2.7").contains(ip("192.0.2.8")));
  EXPECT_EQ(network("::1").prefix_length, 128u);
  EXPECT_TRUE(network("::1").contains(ip("::1")));
}

TEST(IpNetwork, ZeroPrefixMatchesItsWholeFamily) {
  EXPECT_TRUE(network("0.0.0.0/0").contains(ip("203.0.113.9")));
  EXPECT_FALSE(network("0.0.0.0/0").contains(ip("2001:db8::1")));
  EXPECT_TRUE(network("::/0").contains(ip("2001:db8::1")));
}

TEST(IpNetwork, Ipv6Prefix) {
  const IpNetwork doc = network("2001:db8::/32");
  EXPECT_TRUE(doc.contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE(doc.contains(ip("2001:db9::1")));
  EXPECT_FALSE(doc.contains(ip("10.0.0.1")));
}

TEST(IpNetwork, Ipv4NetworkMatchesTheMappedFormOfItsAddresses) {
  EXPECT_TRUE(network("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")));
  EXPECT_FALSE(network("10.0.0.0/8").contains(ip("::ffff:11.1.2.3")));
  EXPECT_FALSE(network("10.0.0.0/8").contains(ip("::10.1.2.3")));
}

TEST(IpNetwork, RefusesWhatIsNotANetwork) {
  for (std::string_view bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1",
                               "10.0.0.0/8x", "10.0.0/8", "example.com", "10.0.0.0/08/1"}) {
    EXPECT_FALSE(parse_ip_network(bad).ok()) << bad;
  }
}

TEST(IpNetwork, RefusesHostBitsAfterThePrefixAndSaysSo) {
  Result<IpNetwork> parsed = parse_ip_network("10.0.0.1/8");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("host bits"), std::string::npos);
  EXPECT_FALSE(parse_ip_network("2001:db8::1/32").ok());
}

TEST(IpNetwork, ToStringRoundTrips) {
  EXPECT_EQ(network("10.0.0.0/8").to_string(), "10.0.0.0/8");
  EXPECT_EQ(network("2001:db8::/32").to_string(), "2001:db8::/32");
}

TEST(IpNetworkList, CommasAndWhitespaceSeparate) {
  Result<std::vector<IpNetwork>> list =
      parse_ip_network_list(" 10.0.0.0/8,192.0.2.7\n2001:db8::/32 ,");
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->size(), 3u);
  EXPECT_TRUE(any_contains(*list, ip("10.9.9.9")));
  EXPECT_TRUE(any_contains(*list, ip("192.0.2.7")));
  EXPECT_TRUE(any_contains(*list, ip("2001:db8::5")));
  EXPECT_FALSE(any_contains(*list, ip("127.0.0.1")));
}

TEST(IpNetworkList, ErrorNamesTheBadEntry) {
  Result<std::vector<IpNetwork>> list = parse_ip_network_list("10.0.0.0/8, 300.1.1.1");
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.error().message.find("300.1.1.1"), std::string::npos);
}

TEST(IpNetworkList, AnEmptyListIsAnError) {
  EXPECT_FALSE(parse_ip_network_list("").ok());
  EXPECT_FALSE(parse_ip_network_list(" , ").ok());
}

}  // namespace
}  // namespace ivs
