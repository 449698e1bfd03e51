// Conversions between the engines' SocketAddress value type and the kernel's sockaddr
// structures (POSIX <netinet/in.h>; RFC 4291 §2.5.5.2 for IPv4-mapped IPv6 addresses).
//
// Why a separate helper: the UDP port hands every received datagram's source to the engines
// and turns every Transmit destination back into a sockaddr, so this runs once per packet and
// must not allocate. A dual-stack IPv6 socket sees IPv4 peers as ::ffff:a.b.c.d; the engines
// must see them as plain IPv4 (ICE compares addresses by value), so from_sockaddr() unmaps them
// and to_sockaddr() maps IPv4 destinations back when the socket is IPv6.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>

#include "proto/socket_address.hpp"

namespace ivs::io {

// Writes `address` into `storage` and returns the length to pass to the kernel. When
// `ipv6_socket` is true an IPv4 address is written as IPv4-mapped IPv6 (for dual-stack
// sockets); an IPv6 address on an IPv4 socket cannot be sent and yields 0.
socklen_t to_sockaddr(const SocketAddress& address, bool ipv6_socket, sockaddr_storage& storage);

// Reads an AF_INET or AF_INET6 sockaddr; IPv4-mapped IPv6 addresses come back as IPv4.
// nullopt for other families or a short length.
std::optional<SocketAddress> from_sockaddr(const sockaddr* address, socklen_t length);

}  // namespace ivs::io
