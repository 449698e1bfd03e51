// ICE candidates and candidate-pair priorities (RFC 8445 §5.1.2, §6.1.2.3) as plain values, plus
// the conversion to and from the SDP codec's a=candidate (proto::SdpCandidate, RFC 8839 §5.1):
// the text is parsed in one place (proto), the agent works with resolved socket addresses.
//
//   candidate priority = 2^24 * type preference + 2^8 * local preference + (256 - component)
//   pair priority      = 2^32 * MIN(G, D) + 2 * MAX(G, D) + (G > D ? 1 : 0)
//                        (G: the controlling agent's candidate, D: the controlled agent's)
//
// We only use component 1 (BUNDLE + rtcp-mux) and UDP.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/sdp_candidate.hpp"
#include "proto/socket_address.hpp"

namespace ivs::engine {

enum class IceCandidateType : std::uint8_t { kHost, kServerReflexive, kPeerReflexive, kRelay };

// Recommended type preferences (RFC 8445 §5.1.2.2).
constexpr std::uint32_t ice_type_preference(IceCandidateType type) {
  switch (type) {
    case IceCandidateType::kHost:
      return 126;
    case IceCandidateType::kPeerReflexive:
      return 110;
    case IceCandidateType::kServerReflexive:
      return 100;
    case IceCandidateType::kRelay:
      return 0;
  }
  return 0;
}

constexpr std::uint32_t ice_candidate_priority(IceCandidateType type,
                                               std::uint32_t local_preference,
                                               std::uint32_t component = 1) {
  return (ice_type_preference(type) << 24) | ((local_preference & 0xFFFF) << 8) | (256 - component);
}

constexpr std::uint64_t ice_pair_priority(std::uint32_t controlling, std::uint32_t controlled) {
  const std::uint64_t low = controlling < controlled ? controlling : controlled;
  const std::uint64_t high = controlling < controlled ? controlled : controlling;
  return (low << 32) + 2 * high + (controlling > controlled ? 1 : 0);
}

struct IceCandidate {
  IceCandidateType type = IceCandidateType::kHost;
  std::string foundation;
  std::uint32_t priority = 0;
  SocketAddress address;
  // For host candidates the address itself; for reflexive ones the host socket they map.
  SocketAddress base;
  std::uint16_t component = 1;
};

// For the offer: UDP, with raddr/rport for reflexive candidates.
proto::SdpCandidate to_sdp_candidate(const IceCandidate& candidate);
// From the answer: only UDP candidates with an IP literal are usable (no TCP, no mDNS names
// since we do not resolve them, no unknown types); nullopt otherwise.
std::optional<IceCandidate> from_sdp_candidate(const proto::SdpCandidate& candidate);
// Every usable one of an answer's candidates (above), in order: what a client's ICE agent checks.
std::vector<IceCandidate> usable_candidates(const std::vector<proto::SdpCandidate>& candidates);

// "candidate:<foundation> 1 udp <priority> <ip> <port> typ <type> [raddr <ip> rport <port>]",
// the value of an a=candidate attribute (without the "a=").
std::string to_candidate_attribute(const IceCandidate& candidate);
// Parses an a=candidate value (with or without "a=" / "candidate:") via proto::SdpCandidate and
// from_sdp_candidate().
std::optional<IceCandidate> parse_candidate_attribute(std::string_view text);

std::string_view to_string(IceCandidateType type);

}  // namespace ivs::engine
