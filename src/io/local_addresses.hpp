// The IPv4 addresses of this host's interfaces (getifaddrs(3)), for ICE host candidates
// (RFC 8445 §5.1.1.1) when a UDP socket is bound to the wildcard address: the socket then
// receives on every interface, so every interface address is a candidate.
//
// Why loopback is included (last): a browser or test peer on the same host reaches us over
// 127.0.0.1, and in the test network namespace loopback is the only interface.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "proto/socket_address.hpp"

namespace ivs::io {

// Every up IPv4 interface address with `port`: non-loopback ones first (in interface order),
// then loopback ones; duplicates removed. Empty only if getifaddrs fails.
std::vector<SocketAddress> local_ipv4_addresses(std::uint16_t port);

// What a client socket bound to `bound` advertises as host candidates: every interface address
// (above) when it is bound to the wildcard address, else `bound` itself.
std::vector<SocketAddress> host_addresses_of(const SocketAddress& bound);

// The one local address a client-mode ICE agent pairs from (RFC 8445 §6.1.2.2: a pair's local
// candidate is the socket that sends): `bound` itself when it names an address; for a wildcard
// bind, the source address the kernel's routing picks toward `remote` (read off a connected UDP
// socket that sends nothing), else the first interface address. Why: with lo and eth0 up, a
// wildcard socket has two host addresses, but its packets toward a stage leave from eth0's
// alone; the agent needs that one, not a list (the egress refused to start with the default
// RTC_BIND_IP=0.0.0.0 on every machine with an interface besides loopback).
std::optional<SocketAddress> sending_address_of(const SocketAddress& bound,
                                                const SocketAddress& remote);

}  // namespace ivs::io
