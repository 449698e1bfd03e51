// IP networks in CIDR notation (RFC 4632 §3.1 for IPv4, RFC 4291 §2.3 for IPv6 prefixes), for
// address allow-lists such as WHIP_INGEST_ALLOWED_CIDRS (the seed's "IP whitelist").
//
//   "10.0.0.0/8"   "192.0.2.7" (= /32)   "2001:db8::/32"   "::1" (= /128)
//
// Host bits below the prefix must be zero ("10.0.0.1/8" is refused): an operator who wrote it
// most likely meant a different prefix, and silently widening it would admit more than asked.
// An IPv4 network also matches the IPv4-mapped IPv6 form of its addresses (::ffff:a.b.c.d), which
// a dual-stack listener reports for IPv4 clients.
#pragma once

#include <string_view>
#include <vector>

#include "proto/result.hpp"
#include "proto/socket_address.hpp"

namespace ivs {

struct IpNetwork {
  SocketAddress base;  // the network address; its port is unused (0)
  unsigned prefix_length = 0;

  // Whether `address` (its IP only; the port is ignored) lies in this network.
  bool contains(const SocketAddress& address) const;
  // "10.0.0.0/8", "2001:db8::/32".
  std::string to_string() const;
};

// One network: an address with an optional "/<prefix>" (0-32 for IPv4, 0-128 for IPv6).
Result<IpNetwork> parse_ip_network(std::string_view text);

// A list separated by commas and/or whitespace ("10.0.0.0/8, 192.0.2.7 2001:db8::/32"). An empty
// or blank list is an error: an allow-list that admits nobody is a mistake, not a setting.
// Errors name the entry.
Result<std::vector<IpNetwork>> parse_ip_network_list(std::string_view text);

// Whether any network of `networks` contains `address`.
bool any_contains(const std::vector<IpNetwork>& networks, const SocketAddress& address);

}  // namespace ivs
