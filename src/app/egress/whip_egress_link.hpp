// WHIP Link headers (RFC 9725 §4.4, RFC 8288 "Web Linking"): a WHIP endpoint may name ICE
// servers in the 201 response, e.g.
//   Link: <stun:stun.example.net:3478>; rel="ice-server"
//   Link: <turn:turn.example.net?transport=udp>; rel="ice-server"; username="u"; credential="p"
// One header may also hold several comma-separated links.
//
// Why only STUN is used: the egress runs full ICE from a server with a public address, so a
// server-reflexive candidate is all a NAT in front of it can need; TURN relaying toward IVS is
// out of scope (DESIGN.md §3). TURN entries are parsed (so they are not mistaken for STUN) and
// ignored by the caller. Pure functions, std library only, fuzzed by whip_link_fuzz.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ivs::app {

struct IceServerLink {
  std::string scheme;  // "stun", "stuns", "turn", "turns"
  std::string host;    // without brackets for IPv6 literals
  std::uint16_t port = 3478;
  std::string username;    // TURN only
  std::string credential;  // TURN only
};

// Every rel="ice-server" link in one Link header value; other relations and entries whose URI
// does not parse are skipped.
std::vector<IceServerLink> parse_ice_server_links(std::string_view header_value);

// The first usable STUN server (scheme "stun") across all Link header values, in order.
std::optional<IceServerLink> first_stun_server(const std::vector<std::string>& link_headers);

// `reference` resolved against `base` (RFC 3986 §5.2, the cases HTTP Location headers use:
// absolute URI, scheme-relative "//host/p", absolute path "/p", relative path "p").
std::string resolve_url(std::string_view base, std::string_view reference);

}  // namespace ivs::app
