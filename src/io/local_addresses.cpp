#include "io/local_addresses.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace ivs::io {

std::vector<SocketAddress> local_ipv4_addresses(std::uint16_t port) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    return {};
  }
  std::vector<SocketAddress> outer;
  std::vector<SocketAddress> loopback;
  for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET ||
        (entry->ifa_flags & IFF_UP) == 0) {
      continue;
    }
    sockaddr_in address{};
    std::memcpy(&address, entry->ifa_addr, sizeof address);
    std::array<std::uint8_t, 4> octets{};
    std::memcpy(octets.data(), &address.sin_addr.s_addr, 4);
    const SocketAddress found = SocketAddress::ipv4(octets, port);
    auto& target = (entry->ifa_flags & IFF_LOOPBACK) != 0 ? loopback : outer;
    if (std::find(target.begin(), target.end(), found) == target.end()) {
      target.push_back(found);
    }
  }
  freeifaddrs(list);
  outer.insert(outer.end(), loopback.begin(), loopback.end());
  return outer;
}

std::vector<SocketAddress> host_addresses_of(const SocketAddress& bound) {
  for (std::size_t i = 0; i < bound.ip_size(); ++i) {
    if (bound.ip_bytes()[i] != 0) {
      return {bound};
    }
  }
  return local_ipv4_addresses(bound.port());
}

}  // namespace ivs::io
