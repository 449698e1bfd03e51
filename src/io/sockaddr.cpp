#include "io/sockaddr.hpp"

#include <array>
#include <cstring>

namespace ivs::io {
namespace {

constexpr std::array<std::uint8_t, 12> kIpv4MappedPrefix = {0, 0, 0, 0, 0,    0,
                                                            0, 0, 0, 0, 0xff, 0xff};

}  // namespace

socklen_t to_sockaddr(const SocketAddress& address, bool ipv6_socket, sockaddr_storage& storage) {
  std::memset(&storage, 0, sizeof(sockaddr_in6));
  if (address.is_ipv4() && !ipv6_socket) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port());
    std::memcpy(&v4->sin_addr, address.ip_bytes(), 4);
    return sizeof(sockaddr_in);
  }
  if (!ipv6_socket) {
    return 0;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(address.port());
  if (address.is_ipv4()) {
    std::memcpy(&v6->sin6_addr, kIpv4MappedPrefix.data(), kIpv4MappedPrefix.size());
    std::memcpy(reinterpret_cast<std::uint8_t*>(&v6->sin6_addr) + 12, address.ip_bytes(), 4);
  } else {
    std::memcpy(&v6->sin6_addr, address.ip_bytes(), 16);
  }
  return sizeof(sockaddr_in6);
}

std::optional<SocketAddress> from_sockaddr(const sockaddr* address, socklen_t length) {
  if (address == nullptr) {
    return std::nullopt;
  }
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    std::array<std::uint8_t, 4> octets{};
    std::memcpy(octets.data(), &v4->sin_addr, 4);
    return SocketAddress::ipv4(octets, ntohs(v4->sin_port));
  }
  if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(&v6->sin6_addr);
    if (std::memcmp(bytes, kIpv4MappedPrefix.data(), kIpv4MappedPrefix.size()) == 0) {
      std::array<std::uint8_t, 4> octets{};
      std::memcpy(octets.data(), bytes + 12, 4);
      return SocketAddress::ipv4(octets, ntohs(v6->sin6_port));
    }
    std::array<std::uint8_t, 16> octets{};
    std::memcpy(octets.data(), bytes, 16);
    return SocketAddress::ipv6(octets, ntohs(v6->sin6_port));
  }
  return std::nullopt;
}

}  // namespace ivs::io
