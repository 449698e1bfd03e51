// Shared negotiation helpers (sdp_negotiation_detail.hpp) and host candidate generation.
#include "engine/sdp_negotiation.hpp"

#include <algorithm>

#include "engine/sdp_negotiation_detail.hpp"

namespace ivs::engine {

using proto::SdpCandidate;
using proto::SdpCodec;
using proto::SdpMedia;

std::vector<SdpCandidate> host_candidates(const LocalTransport& transport) {
  std::vector<SdpCandidate> candidates;
  std::uint32_t local_preference = 65535;
  for (const SocketAddress& address : transport.host_addresses) {
    SdpCandidate candidate;
    // One foundation per base address (RFC 8445 §5.1.1.3); the index is stable and short.
    candidate.foundation = std::to_string(candidates.size() + 1);
    candidate.component = 1;
    candidate.transport = "udp";
    // RFC 8445 §5.1.2.1: type preference 126 for host, distinct local preferences.
    candidate.priority = (126u << 24) | (local_preference << 8) | 255u;
    candidate.address = transport.announced_ip.value_or(address.ip_string());
    candidate.port = address.port();
    candidate.type = "host";
    candidates.push_back(std::move(candidate));
    local_preference = local_preference > 0 ? local_preference - 1 : 0;
  }
  return candidates;
}

namespace sdp_detail {

namespace {

std::optional<int> hex_byte(std::string_view text) {
  auto value = 0;
  for (char c : text) {
    value <<= 4;
    if (c >= '0' && c <= '9') {
      value |= c - '0';
    } else if (c >= 'a' && c <= 'f') {
      value |= c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      value |= c - 'A' + 10;
    } else {
      return std::nullopt;
    }
  }
  return value;
}

bool is_wanted_feedback(const proto::SdpRtcpFeedback& feedback, const IngestPolicy& policy) {
  if (feedback.type == "nack") {
    return feedback.parameter.empty() || feedback.parameter == "pli";
  }
  if (feedback.type == "ccm") {
    return feedback.parameter == "fir";
  }
  if (feedback.type == "goog-remb") {
    return policy.accept_remb;
  }
  if (feedback.type == "transport-cc") {
    return policy.accept_transport_cc;
  }
  return false;
}

}  // namespace

bool is_h264_mode1(const SdpCodec& codec) {
  if (!codec.is("H264") || codec.clock_rate != 90000) {
    return false;
  }
  auto mode = codec.parameters.get("packetization-mode");
  return mode && *mode == "1";
}

int h264_profile_rank(const SdpCodec& codec) {
  auto profile_level_id = codec.parameters.get("profile-level-id");
  if (!profile_level_id) {
    return 1;
  }
  if (profile_level_id->size() != 6) {
    return 2;
  }
  auto profile_idc = hex_byte(profile_level_id->substr(0, 2));
  auto profile_iop = hex_byte(profile_level_id->substr(2, 2));
  if (!profile_idc || !profile_iop) {
    return 2;
  }
  // RFC 6184 §8.1 table 5: Constrained Baseline is 42 with constraint_set1, 4D with
  // constraint_set0, or 58 with constraint_set0 and set1.
  const bool constrained_baseline = (*profile_idc == 0x42 && (*profile_iop & 0x40)) ||
                                    (*profile_idc == 0x4d && (*profile_iop & 0x80)) ||
                                    (*profile_idc == 0x58 && (*profile_iop & 0xc0) == 0xc0);
  if (constrained_baseline) {
    return 0;
  }
  return *profile_idc == 0x42 ? 1 : 2;
}

std::optional<SdpCodec> choose_h264(const SdpMedia& media) {
  std::optional<SdpCodec> best;
  for (SdpCodec& codec : media.codecs()) {
    if (is_h264_mode1(codec) && (!best || h264_profile_rank(codec) < h264_profile_rank(*best))) {
      best = std::move(codec);
    }
  }
  return best;
}

std::optional<SdpCodec> choose_opus(const SdpMedia& media) {
  for (SdpCodec& codec : media.codecs()) {
    if (codec.is("opus") && codec.clock_rate == 48000 && codec.channels == 2) {
      return std::move(codec);
    }
  }
  return std::nullopt;
}

std::vector<proto::SdpRtcpFeedback> accepted_feedback(const SdpCodec& codec,
                                                      const IngestPolicy& policy) {
  std::vector<proto::SdpRtcpFeedback> accepted;
  for (proto::SdpRtcpFeedback feedback : codec.feedback) {
    feedback.payload_type = codec.payload_type;
    if (is_wanted_feedback(feedback, policy) &&
        std::find(accepted.begin(), accepted.end(), feedback) == accepted.end()) {
      accepted.push_back(std::move(feedback));
    }
  }
  return accepted;
}

NegotiatedFeedback summarize_feedback(const std::vector<proto::SdpRtcpFeedback>& feedback) {
  NegotiatedFeedback summary;
  for (const auto& line : feedback) {
    summary.nack |= line.type == "nack" && line.parameter.empty();
    summary.pli |= line.type == "nack" && line.parameter == "pli";
    summary.fir |= line.type == "ccm" && line.parameter == "fir";
    summary.remb |= line.type == "goog-remb";
    summary.transport_cc |= line.type == "transport-cc";
  }
  return summary;
}

std::vector<proto::SdpExtmap> accepted_extmaps(const SdpMedia& media,
                                               const std::vector<std::string_view>& wanted_uris,
                                               ExtensionBindings& bindings) {
  std::vector<proto::SdpExtmap> accepted;
  for (proto::SdpExtmap extmap : media.attributes.extmaps()) {
    // One-byte header ids only (RFC 8285 §4.2), which every peer and our rewriter handle.
    if (extmap.id < 1 || extmap.id > 14 ||
        std::find(wanted_uris.begin(), wanted_uris.end(), extmap.uri) == wanted_uris.end()) {
      continue;
    }
    auto bound = bindings.find(extmap.id);
    const bool uri_bound_elsewhere =
        std::any_of(bindings.begin(), bindings.end(), [&](const auto& binding) {
          return binding.second == extmap.uri && binding.first != extmap.id;
        });
    if ((bound != bindings.end() && bound->second != extmap.uri) || uri_bound_elsewhere) {
      continue;
    }
    bindings[extmap.id] = extmap.uri;
    extmap.direction.reset();
    extmap.extension_attributes.clear();
    accepted.push_back(std::move(extmap));
  }
  return accepted;
}

NegotiatedExtensions summarize_extensions(const std::vector<proto::SdpExtmap>& extmaps) {
  NegotiatedExtensions extensions;
  for (const proto::SdpExtmap& extmap : extmaps) {
    if (extmap.uri == extension_uri::kMid) {
      extensions.mid = extmap.id;
    } else if (extmap.uri == extension_uri::kAbsSendTime) {
      extensions.abs_send_time = extmap.id;
    } else if (extmap.uri == extension_uri::kTransportWideCc) {
      extensions.transport_cc = extmap.id;
    } else if (extmap.uri == extension_uri::kRtpStreamId) {
      extensions.rtp_stream_id = extmap.id;
    } else if (extmap.uri == extension_uri::kRepairedRtpStreamId) {
      extensions.repaired_rtp_stream_id = extmap.id;
    }
  }
  return extensions;
}

proto::FmtpParameters answer_parameters(const SdpCodec& codec) {
  proto::FmtpParameters parameters;
  for (const auto& [key, value] : codec.parameters.entries()) {
    if (key.rfind("sprop-", 0) != 0) {
      parameters.set(key, value);
    }
  }
  return parameters;
}

void add_codec(SdpMedia& media, const SdpCodec& codec,
               const std::vector<proto::SdpRtcpFeedback>& feedback,
               const proto::FmtpParameters& parameters) {
  proto::SdpRtpmap rtpmap{codec.payload_type, codec.name, codec.clock_rate, std::nullopt};
  if (codec.channels != 0) {
    rtpmap.channels = codec.channels;
  }
  media.attributes.add("rtpmap", rtpmap.to_string());
  for (const auto& line : feedback) {
    media.attributes.add("rtcp-fb", line.to_string());
  }
  if (!parameters.entries().empty()) {
    media.attributes.add("fmtp", proto::SdpFmtp{codec.payload_type, parameters}.to_string());
  }
}

}  // namespace sdp_detail
}  // namespace ivs::engine
