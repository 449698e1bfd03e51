// Transport-level pieces of the negotiation: our ICE/DTLS attributes and candidates, the remote
// side's parameters, and SSRC announcements (sdp_negotiation_detail.hpp).
#include <algorithm>

#include "engine/sdp_negotiation_detail.hpp"

namespace ivs::engine::sdp_detail {

using proto::SdpCandidate;
using proto::SdpMedia;

namespace {

proto::SdpConnection connection_for(const std::vector<SdpCandidate>& candidates) {
  if (candidates.empty()) {
    return proto::SdpConnection{};
  }
  const std::string& address = candidates.front().address;
  const bool ipv6 = address.find(':') != std::string::npos;
  return proto::SdpConnection{"IN", ipv6 ? "IP6" : "IP4", address};
}

// RFC 8122 §5: several fingerprints may be offered; sha-256 is what every peer supports.
std::optional<proto::SdpFingerprint> pick_fingerprint(
    const std::vector<proto::SdpFingerprint>& fingerprints) {
  for (const auto& fingerprint : fingerprints) {
    if (fingerprint.algorithm == "sha-256") {
      return fingerprint;
    }
  }
  if (fingerprints.empty()) {
    return std::nullopt;
  }
  return fingerprints.front();
}

}  // namespace

bool is_dtls_srtp(const SdpMedia& media) {
  return media.protocol.find("TLS/RTP/SAVP") != std::string::npos;
}

proto::SessionDescription new_description(const LocalTransport& local) {
  proto::SessionDescription description;
  description.origin.session_id = std::to_string(local.session_id & 0x7fffffffffffffffULL);
  description.origin.session_version = "2";
  const auto candidates = host_candidates(local);
  description.origin.address = connection_for(candidates).address;
  description.origin.address_type = connection_for(candidates).address_type;
  description.timings.push_back({0, 0});
  return description;
}

void add_transport(SdpMedia& media, const LocalTransport& local, proto::SdpSetup setup,
                   const std::vector<SdpCandidate>& candidates) {
  media.port = candidates.empty() ? 9 : candidates.front().port;
  media.connections = {connection_for(candidates)};
  media.attributes.add("ice-ufrag", local.ice.ufrag);
  media.attributes.add("ice-pwd", local.ice.pwd);
  media.attributes.add("fingerprint", local.fingerprint.to_string());
  media.attributes.add("setup", std::string(proto::to_string(setup)));
}

void add_candidates(SdpMedia& media, const std::vector<SdpCandidate>& candidates) {
  for (const SdpCandidate& candidate : candidates) {
    media.attributes.add("candidate", candidate.to_string());
  }
  media.attributes.add("end-of-candidates");
}

void add_outgoing_ssrc(SdpMedia& media, std::uint32_t ssrc, const OutgoingStreams& streams,
                       const std::string& track_id) {
  const proto::SdpMsid msid{streams.stream_id, track_id};
  media.attributes.add("msid", msid.to_string());
  media.attributes.add("ssrc", proto::SdpSsrc{ssrc, "cname", streams.cname}.to_string());
  media.attributes.add("ssrc", proto::SdpSsrc{ssrc, "msid", msid.to_string()}.to_string());
}

Result<RemoteTransport> remote_transport(const proto::SessionDescription& description,
                                         const SdpMedia& tag,
                                         const std::vector<const SdpMedia*>& accepted,
                                         std::string_view who) {
  const proto::SdpTransportParameters parameters = proto::effective_transport(description, tag);
  const std::string prefix = std::string(who) + " ";
  if (!parameters.ice_ufrag || !parameters.ice_pwd) {
    return make_error(prefix + "has no a=ice-ufrag / a=ice-pwd (needed for ICE)");
  }
  auto fingerprint = pick_fingerprint(parameters.fingerprints);
  if (!fingerprint) {
    return make_error(prefix + "has no a=fingerprint (DTLS-SRTP is required)");
  }
  RemoteTransport remote;
  remote.ice = IceCredentials{*parameters.ice_ufrag, *parameters.ice_pwd};
  remote.ice_lite = parameters.ice_lite;
  remote.fingerprint = std::move(*fingerprint);
  remote.setup = parameters.setup;
  for (const SdpMedia* media : accepted) {
    for (SdpCandidate& candidate : media->candidates()) {
      // Component 2 is RTCP without rtcp-mux; we only ever use component 1.
      if (candidate.component == 1 && std::find(remote.candidates.begin(), remote.candidates.end(),
                                                candidate) == remote.candidates.end()) {
        remote.candidates.push_back(std::move(candidate));
      }
    }
    remote.end_of_candidates |= media->end_of_candidates();
  }
  return remote;
}

}  // namespace ivs::engine::sdp_detail
