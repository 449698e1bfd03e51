#include "engine/ice_candidate.hpp"

namespace ivs::engine {
namespace {

std::optional<IceCandidateType> parse_type(std::string_view text) {
  if (text == "host") {
    return IceCandidateType::kHost;
  }
  if (text == "srflx") {
    return IceCandidateType::kServerReflexive;
  }
  if (text == "prflx") {
    return IceCandidateType::kPeerReflexive;
  }
  if (text == "relay") {
    return IceCandidateType::kRelay;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(IceCandidateType type) {
  switch (type) {
    case IceCandidateType::kHost:
      return "host";
    case IceCandidateType::kServerReflexive:
      return "srflx";
    case IceCandidateType::kPeerReflexive:
      return "prflx";
    case IceCandidateType::kRelay:
      return "relay";
  }
  return "host";
}

proto::SdpCandidate to_sdp_candidate(const IceCandidate& candidate) {
  proto::SdpCandidate sdp;
  sdp.foundation = candidate.foundation;
  sdp.component = candidate.component;
  sdp.transport = "udp";
  sdp.priority = candidate.priority;
  sdp.address = candidate.address.ip_string();
  sdp.port = candidate.address.port();
  sdp.type = std::string(to_string(candidate.type));
  if (candidate.type != IceCandidateType::kHost) {
    sdp.related_address = candidate.base.ip_string();
    sdp.related_port = candidate.base.port();
  }
  return sdp;
}

std::optional<IceCandidate> from_sdp_candidate(const proto::SdpCandidate& sdp) {
  const auto type = parse_type(sdp.type);
  const auto address = SocketAddress::from_ip(sdp.address, sdp.port);
  if (!sdp.is_udp() || !type || !address) {
    return std::nullopt;
  }
  IceCandidate candidate;
  candidate.type = *type;
  candidate.foundation = sdp.foundation;
  candidate.priority = sdp.priority;
  candidate.component = sdp.component;
  candidate.address = *address;
  candidate.base = *address;
  if (sdp.related_address) {
    if (auto related = SocketAddress::from_ip(*sdp.related_address, sdp.related_port.value_or(0))) {
      candidate.base = *related;
    }
  }
  return candidate;
}

std::string to_candidate_attribute(const IceCandidate& candidate) {
  return "candidate:" + to_sdp_candidate(candidate).to_string();
}

std::vector<IceCandidate> usable_candidates(const std::vector<proto::SdpCandidate>& candidates) {
  std::vector<IceCandidate> usable;
  for (const auto& candidate : candidates) {
    if (auto converted = from_sdp_candidate(candidate)) {
      usable.push_back(*converted);
    }
  }
  return usable;
}

std::optional<IceCandidate> parse_candidate_attribute(std::string_view text) {
  if (text.starts_with("a=")) {
    text.remove_prefix(2);
  }
  auto sdp = proto::SdpCandidate::parse(text);
  if (!sdp) {
    return std::nullopt;
  }
  return from_sdp_candidate(*sdp);
}

}  // namespace ivs::engine
