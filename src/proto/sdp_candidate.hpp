// a=candidate (RFC 8839 §5.1) with the RFC 6544 TCP extension:
//
//   candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
//             [raddr <address>] [rport <port>] *(SP <extension name> SP <extension value>)
//
// Extensions we use are typed (tcptype, generation); any other name/value pair (Chromium's
// network-id, network-cost; werift's ufrag) is kept in order so the candidate re-serializes
// as written. The address stays text: it may be an mDNS name ("<uuid>.local") that only the
// ICE agent can decide to resolve or ignore.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/result.hpp"

namespace ivs::proto {

struct SdpCandidate {
  std::string foundation;
  std::uint16_t component = 1;  // 1 = RTP; 2 = RTCP (never used with rtcp-mux)
  std::string transport;        // as written ("udp", "UDP", "tcp"); compare with is_udp()
  std::uint32_t priority = 0;
  std::string address;
  std::uint16_t port = 0;
  std::string type;  // "host", "srflx", "prflx", "relay"
  std::optional<std::string> related_address;
  std::optional<std::uint16_t> related_port;
  std::optional<std::string> tcp_type;  // "active", "passive", "so" (RFC 6544 §4.5)
  std::optional<std::uint32_t> generation;
  std::vector<std::pair<std::string, std::string>> extensions;

  // Accepts the value with or without the "candidate:" prefix (trickle bodies carry it).
  static Result<SdpCandidate> parse(std::string_view value);
  std::string to_string() const;  // the attribute value, without "candidate:"
  bool is_udp() const;
  bool is_tcp() const;
  friend bool operator==(const SdpCandidate&, const SdpCandidate&) = default;
};

}  // namespace ivs::proto
