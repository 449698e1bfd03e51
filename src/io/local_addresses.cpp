#include "io/local_addresses.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "io/sockaddr.hpp"

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

namespace {

bool is_wildcard(const SocketAddress& address) {
  for (std::size_t i = 0; i < address.ip_size(); ++i) {
    if (address.ip_bytes()[i] != 0) {
      return false;
    }
  }
  return true;
}

// The IPv4 source address routing picks toward `remote`; connect(2) on a UDP socket only looks
// the route up, nothing is sent.
std::optional<SocketAddress> routed_source_toward(const SocketAddress& remote, std::uint16_t port) {
  if (!remote.is_ipv4()) {
    return std::nullopt;
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return std::nullopt;
  }
  sockaddr_storage to{};
  const socklen_t to_size = to_sockaddr(remote, false, to);
  sockaddr_storage from{};
  socklen_t from_size = sizeof from;
  std::optional<SocketAddress> out;
  // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API's own types
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), to_size) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&from), &from_size) == 0) {
    out = from_sockaddr(reinterpret_cast<const sockaddr*>(&from), from_size);
  }
  // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
  ::close(fd);
  if (!out || is_wildcard(*out)) {
    return std::nullopt;
  }
  out->set_port(port);
  return out;
}

}  // namespace

std::vector<SocketAddress> host_addresses_of(const SocketAddress& bound) {
  if (!is_wildcard(bound)) {
    return {bound};
  }
  return local_ipv4_addresses(bound.port());
}

std::optional<SocketAddress> sending_address_of(const SocketAddress& bound,
                                                const SocketAddress& remote) {
  if (!is_wildcard(bound)) {
    return bound;
  }
  if (auto source = routed_source_toward(remote, bound.port())) {
    return source;
  }
  auto all = local_ipv4_addresses(bound.port());
  if (all.empty()) {
    return std::nullopt;
  }
  return all.front();
}

}  // namespace ivs::io
