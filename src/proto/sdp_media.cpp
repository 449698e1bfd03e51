// Typed reads over the raw attribute lists of sdp.hpp. parse_sdp() has validated every value
// read here, so a value that fails to parse can only come from a hand-built description; such
// values are skipped rather than reported.
#include <algorithm>

#include "proto/sdp.hpp"
#include "proto/sdp_text.hpp"

namespace ivs::proto {

namespace {

template <class T>
std::vector<T> parse_all(const SdpAttributeList& attributes, std::string_view name) {
  std::vector<T> values;
  for (std::string_view text : attributes.all(name)) {
    if (auto parsed = T::parse(text)) {
      values.push_back(std::move(*parsed));
    }
  }
  return values;
}

template <class T>
std::optional<T> parse_first(const SdpAttributeList& attributes, std::string_view name) {
  for (std::string_view text : attributes.all(name)) {
    if (auto parsed = T::parse(text)) {
      return std::move(*parsed);
    }
  }
  return std::nullopt;
}

// Static payload types that may appear without an rtpmap (RFC 3551 §6).
std::optional<SdpRtpmap> static_rtpmap(std::uint8_t payload_type) {
  switch (payload_type) {
    case 0:
      return SdpRtpmap{0, "PCMU", 8000, 1};
    case 8:
      return SdpRtpmap{8, "PCMA", 8000, 1};
    case 9:
      return SdpRtpmap{9, "G722", 8000, 1};
    default:
      return std::nullopt;
  }
}

}  // namespace

void SdpAttributeList::remove(std::string_view name) {
  std::erase_if(list_, [name](const SdpAttribute& attribute) { return attribute.name == name; });
}

bool SdpAttributeList::has(std::string_view name) const {
  return first(name).has_value();
}

std::optional<std::string_view> SdpAttributeList::first(std::string_view name) const {
  for (const SdpAttribute& attribute : list_) {
    if (attribute.name == name) {
      return attribute.value ? std::string_view(*attribute.value) : std::string_view();
    }
  }
  return std::nullopt;
}

std::vector<std::string_view> SdpAttributeList::all(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const SdpAttribute& attribute : list_) {
    if (attribute.name == name) {
      values.push_back(attribute.value ? std::string_view(*attribute.value) : std::string_view());
    }
  }
  return values;
}

std::optional<std::string> SdpAttributeList::ice_ufrag() const {
  auto value = first("ice-ufrag");
  return value ? std::optional<std::string>(sdp_text::trim(*value)) : std::nullopt;
}

std::optional<std::string> SdpAttributeList::ice_pwd() const {
  auto value = first("ice-pwd");
  return value ? std::optional<std::string>(sdp_text::trim(*value)) : std::nullopt;
}

std::vector<std::string> SdpAttributeList::ice_options() const {
  std::vector<std::string> options;
  for (std::string_view value : all("ice-options")) {
    for (std::string_view option : sdp_text::split_spaces(value)) {
      options.emplace_back(option);
    }
  }
  return options;
}

std::vector<SdpFingerprint> SdpAttributeList::fingerprints() const {
  return parse_all<SdpFingerprint>(*this, "fingerprint");
}

std::optional<SdpSetup> SdpAttributeList::setup() const {
  auto value = first("setup");
  return value ? parse_setup(*value) : std::nullopt;
}

std::optional<SdpDirection> SdpAttributeList::direction() const {
  std::optional<SdpDirection> direction;
  for (const SdpAttribute& attribute : list_) {
    if (auto parsed = parse_direction(attribute.name); parsed && !attribute.value) {
      direction = parsed;
    }
  }
  return direction;
}

std::vector<SdpExtmap> SdpAttributeList::extmaps() const {
  return parse_all<SdpExtmap>(*this, "extmap");
}

bool SdpCodec::is(std::string_view codec_name) const {
  return sdp_text::iequals(name, codec_name);
}

std::optional<std::string> SdpMedia::mid() const {
  auto value = attributes.first("mid");
  return value ? std::optional<std::string>(sdp_text::trim(*value)) : std::nullopt;
}

SdpDirection SdpMedia::direction() const {
  return attributes.direction().value_or(SdpDirection::kSendRecv);
}

std::vector<SdpCandidate> SdpMedia::candidates() const {
  return parse_all<SdpCandidate>(attributes, "candidate");
}

std::vector<SdpRtpmap> SdpMedia::rtpmaps() const {
  return parse_all<SdpRtpmap>(attributes, "rtpmap");
}

std::vector<SdpFmtp> SdpMedia::fmtps() const {
  return parse_all<SdpFmtp>(attributes, "fmtp");
}

std::vector<SdpRtcpFeedback> SdpMedia::rtcp_feedback() const {
  return parse_all<SdpRtcpFeedback>(attributes, "rtcp-fb");
}

std::vector<SdpCodec> SdpMedia::codecs() const {
  const auto maps = rtpmaps();
  const auto parameters = fmtps();
  const auto feedback = rtcp_feedback();
  std::vector<SdpCodec> codecs;
  for (const std::string& format : formats) {
    auto number = sdp_text::parse_uint(format, 127);
    if (!number) {
      continue;  // not RTP (e.g. webrtc-datachannel)
    }
    const auto payload_type = static_cast<std::uint8_t>(*number);
    auto map = std::find_if(maps.begin(), maps.end(), [&](const SdpRtpmap& candidate) {
      return candidate.payload_type == payload_type;
    });
    std::optional<SdpRtpmap> rtpmap =
        map != maps.end() ? std::optional(*map) : static_rtpmap(payload_type);
    if (!rtpmap) {
      continue;  // a dynamic payload type without rtpmap has no defined codec
    }
    SdpCodec codec{payload_type,
                   rtpmap->encoding_name,
                   rtpmap->clock_rate,
                   rtpmap->channels.value_or(0),
                   {},
                   {}};
    for (const SdpFmtp& fmtp : parameters) {
      if (fmtp.payload_type == payload_type) {
        codec.parameters = fmtp.parameters;
        break;
      }
    }
    for (const SdpRtcpFeedback& line : feedback) {
      if (!line.payload_type || *line.payload_type == payload_type) {
        codec.feedback.push_back(line);
      }
    }
    codecs.push_back(std::move(codec));
  }
  return codecs;
}

std::optional<SdpCodec> SdpMedia::codec(std::uint8_t payload_type) const {
  for (SdpCodec& codec : codecs()) {
    if (codec.payload_type == payload_type) {
      return std::move(codec);
    }
  }
  return std::nullopt;
}

std::vector<SdpSsrc> SdpMedia::ssrcs() const {
  return parse_all<SdpSsrc>(attributes, "ssrc");
}

std::vector<std::uint32_t> SdpMedia::ssrc_ids() const {
  std::vector<std::uint32_t> ids;
  for (const SdpSsrc& ssrc : ssrcs()) {
    if (std::find(ids.begin(), ids.end(), ssrc.ssrc) == ids.end()) {
      ids.push_back(ssrc.ssrc);
    }
  }
  return ids;
}

std::vector<SdpSsrcGroup> SdpMedia::ssrc_groups() const {
  return parse_all<SdpSsrcGroup>(attributes, "ssrc-group");
}

std::optional<SdpMsid> SdpMedia::msid() const {
  return parse_first<SdpMsid>(attributes, "msid");
}

std::vector<SdpRid> SdpMedia::rids() const {
  return parse_all<SdpRid>(attributes, "rid");
}

std::optional<SdpSimulcast> SdpMedia::simulcast() const {
  return parse_first<SdpSimulcast>(attributes, "simulcast");
}

std::vector<SdpGroup> SessionDescription::groups() const {
  return parse_all<SdpGroup>(attributes, "group");
}

std::optional<SdpGroup> SessionDescription::bundle_group() const {
  for (SdpGroup& group : groups()) {
    if (group.semantics == "BUNDLE") {
      return std::move(group);
    }
  }
  return std::nullopt;
}

std::optional<SdpMsidSemantic> SessionDescription::msid_semantic() const {
  return parse_first<SdpMsidSemantic>(attributes, "msid-semantic");
}

const SdpMedia* SessionDescription::find_media(std::string_view mid) const {
  for (const SdpMedia& media : this->media) {
    if (media.mid() == mid) {
      return &media;
    }
  }
  return nullptr;
}

SdpTransportParameters effective_transport(const SessionDescription& description,
                                           const SdpMedia& media) {
  const SdpAttributeList& session = description.attributes;
  const SdpAttributeList& local = media.attributes;
  SdpTransportParameters transport;
  transport.ice_ufrag = local.ice_ufrag() ? local.ice_ufrag() : session.ice_ufrag();
  transport.ice_pwd = local.ice_pwd() ? local.ice_pwd() : session.ice_pwd();
  transport.ice_options = local.has("ice-options") ? local.ice_options() : session.ice_options();
  transport.ice_lite = description.ice_lite();
  transport.fingerprints = local.has("fingerprint") ? local.fingerprints() : session.fingerprints();
  transport.setup = local.setup() ? local.setup() : session.setup();
  return transport;
}

}  // namespace ivs::proto
