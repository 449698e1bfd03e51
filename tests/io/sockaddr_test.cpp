// sockaddr <-> SocketAddress: both families, IPv4-mapped unmapping, and the dual-stack mapping
// of IPv4 destinations on IPv6 sockets.
#include "io/sockaddr.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace ivs::io {
namespace {

TEST(Sockaddr, Ipv4RoundTrip) {
  const SocketAddress address = SocketAddress::ipv4({192, 0, 2, 7}, 5004);
  sockaddr_storage storage{};
  const socklen_t length = to_sockaddr(address, /*ipv6_socket=*/false, storage);
  ASSERT_EQ(length, sizeof(sockaddr_in));
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage);
  EXPECT_EQ(v4->sin_family, AF_INET);
  EXPECT_EQ(ntohs(v4->sin_port), 5004);
  EXPECT_EQ(ntohl(v4->sin_addr.s_addr), 0xc0000207u);
  EXPECT_EQ(from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), length), address);
}

TEST(Sockaddr, Ipv6RoundTrip) {
  const SocketAddress address = *SocketAddress::from_ip("2001:db8::1", 443);
  sockaddr_storage storage{};
  const socklen_t length = to_sockaddr(address, /*ipv6_socket=*/true, storage);
  ASSERT_EQ(length, sizeof(sockaddr_in6));
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, text,
            sizeof(text));
  EXPECT_STREQ(text, "2001:db8::1");
  EXPECT_EQ(from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), length), address);
}

TEST(Sockaddr, Ipv4OnIpv6SocketIsMappedAndUnmappedBack) {
  const SocketAddress address = SocketAddress::ipv4({127, 0, 0, 1}, 9000);
  sockaddr_storage storage{};
  const socklen_t length = to_sockaddr(address, /*ipv6_socket=*/true, storage);
  ASSERT_EQ(length, sizeof(sockaddr_in6));
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, text,
            sizeof(text));
  EXPECT_STREQ(text, "::ffff:127.0.0.1");
  const auto back = from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), length);
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->is_ipv4());
  EXPECT_EQ(*back, address);
}

TEST(Sockaddr, Ipv6OnIpv4SocketIsRefused) {
  sockaddr_storage storage{};
  EXPECT_EQ(to_sockaddr(*SocketAddress::from_ip("::1", 1), /*ipv6_socket=*/false, storage), 0u);
}

TEST(Sockaddr, ShortOrForeignSockaddrIsRejected) {
  sockaddr_storage storage{};
  to_sockaddr(SocketAddress::ipv4({1, 2, 3, 4}, 5), false, storage);
  EXPECT_FALSE(from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), 4).has_value());
  storage.ss_family = AF_UNIX;
  EXPECT_FALSE(
      from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), sizeof(storage)).has_value());
  EXPECT_FALSE(from_sockaddr(nullptr, 0).has_value());
}

}  // namespace
}  // namespace ivs::io
