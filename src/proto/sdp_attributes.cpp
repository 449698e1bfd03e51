#include "proto/sdp_attributes.hpp"

#include "proto/sdp_text.hpp"

namespace ivs::proto {

using sdp_text::iequals;
using sdp_text::parse_uint;
using sdp_text::quote;
using sdp_text::split_spaces;

namespace {

std::optional<std::uint8_t> parse_hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return static_cast<std::uint8_t>(c - '0');
  }
  if (c >= 'a' && c <= 'f') {
    return static_cast<std::uint8_t>(c - 'a' + 10);
  }
  if (c >= 'A' && c <= 'F') {
    return static_cast<std::uint8_t>(c - 'A' + 10);
  }
  return std::nullopt;
}

// Payload types are 0-127 (RFC 3550 §5.1, 7 bits).
std::optional<std::uint8_t> parse_payload_type(std::string_view text) {
  auto value = parse_uint(text, 127);
  if (!value) {
    return std::nullopt;
  }
  return static_cast<std::uint8_t>(*value);
}

// Splits "<pt> <rest>" at the first space; the rest may itself contain spaces.
std::pair<std::string_view, std::string_view> split_first(std::string_view value) {
  const std::size_t space = value.find(' ');
  if (space == std::string_view::npos) {
    return {value, {}};
  }
  return {value.substr(0, space), sdp_text::trim(value.substr(space + 1))};
}

}  // namespace

Result<SdpFingerprint> SdpFingerprint::parse(std::string_view value) {
  const auto tokens = split_spaces(value);
  if (tokens.size() != 2) {
    return make_error("fingerprint: expected '<hash function> <hex:hex:...>', got " + quote(value));
  }
  SdpFingerprint fingerprint;
  fingerprint.algorithm = sdp_text::to_lower(tokens[0]);
  for (std::string_view pair : sdp_text::split(tokens[1], ':')) {
    if (pair.size() != 2) {
      return make_error("fingerprint: bad hex pair " + quote(pair));
    }
    auto high = parse_hex_digit(pair[0]);
    auto low = parse_hex_digit(pair[1]);
    if (!high || !low) {
      return make_error("fingerprint: bad hex pair " + quote(pair));
    }
    fingerprint.digest.push_back(static_cast<std::uint8_t>((*high << 4) | *low));
  }
  if (fingerprint.digest.size() < 16 || fingerprint.digest.size() > 64) {
    return make_error("fingerprint: digest of " + std::to_string(fingerprint.digest.size()) +
                      " bytes (expected 16 to 64)");
  }
  return fingerprint;
}

std::string SdpFingerprint::to_string() const {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string text = algorithm + " ";
  for (std::size_t i = 0; i < digest.size(); ++i) {
    if (i > 0) {
      text += ':';
    }
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 0xf];
  }
  return text;
}

std::optional<SdpSetup> parse_setup(std::string_view value) {
  value = sdp_text::trim(value);
  if (iequals(value, "active")) {
    return SdpSetup::kActive;
  }
  if (iequals(value, "passive")) {
    return SdpSetup::kPassive;
  }
  if (iequals(value, "actpass")) {
    return SdpSetup::kActpass;
  }
  if (iequals(value, "holdconn")) {
    return SdpSetup::kHoldconn;
  }
  return std::nullopt;
}

std::string_view to_string(SdpSetup setup) {
  switch (setup) {
    case SdpSetup::kActive:
      return "active";
    case SdpSetup::kPassive:
      return "passive";
    case SdpSetup::kActpass:
      return "actpass";
    case SdpSetup::kHoldconn:
      return "holdconn";
  }
  return "actpass";
}

std::optional<SdpDirection> parse_direction(std::string_view name) {
  if (name == "sendrecv") {
    return SdpDirection::kSendRecv;
  }
  if (name == "sendonly") {
    return SdpDirection::kSendOnly;
  }
  if (name == "recvonly") {
    return SdpDirection::kRecvOnly;
  }
  if (name == "inactive") {
    return SdpDirection::kInactive;
  }
  return std::nullopt;
}

std::string_view to_string(SdpDirection direction) {
  switch (direction) {
    case SdpDirection::kSendRecv:
      return "sendrecv";
    case SdpDirection::kSendOnly:
      return "sendonly";
    case SdpDirection::kRecvOnly:
      return "recvonly";
    case SdpDirection::kInactive:
      return "inactive";
  }
  return "sendrecv";
}

SdpDirection reverse(SdpDirection direction) {
  switch (direction) {
    case SdpDirection::kSendOnly:
      return SdpDirection::kRecvOnly;
    case SdpDirection::kRecvOnly:
      return SdpDirection::kSendOnly;
    default:
      return direction;
  }
}

Result<SdpExtmap> SdpExtmap::parse(std::string_view value) {
  auto [id_part, rest] = split_first(value);
  auto [uri, attributes] = split_first(rest);
  SdpExtmap extmap;
  const std::size_t slash = id_part.find('/');
  auto id = parse_uint(id_part.substr(0, slash), 4351);
  if (!id || *id == 0) {
    return make_error("extmap: bad id " + quote(id_part));
  }
  extmap.id = static_cast<std::uint16_t>(*id);
  if (slash != std::string_view::npos) {
    extmap.direction = parse_direction(id_part.substr(slash + 1));
    if (!extmap.direction) {
      return make_error("extmap: bad direction " + quote(id_part.substr(slash + 1)));
    }
  }
  if (!sdp_text::is_token(uri)) {
    return make_error("extmap: missing URI in " + quote(value));
  }
  extmap.uri = std::string(uri);
  extmap.extension_attributes = std::string(attributes);
  return extmap;
}

std::string SdpExtmap::to_string() const {
  std::string text = std::to_string(id);
  if (direction) {
    text += "/";
    text += proto::to_string(*direction);
  }
  text += " " + uri;
  if (!extension_attributes.empty()) {
    text += " " + extension_attributes;
  }
  return text;
}

Result<SdpRtpmap> SdpRtpmap::parse(std::string_view value) {
  const auto tokens = split_spaces(value);
  if (tokens.size() != 2) {
    return make_error("rtpmap: expected '<pt> <name>/<rate>[/<channels>]', got " + quote(value));
  }
  SdpRtpmap rtpmap;
  auto payload_type = parse_payload_type(tokens[0]);
  if (!payload_type) {
    return make_error("rtpmap: bad payload type " + quote(tokens[0]));
  }
  rtpmap.payload_type = *payload_type;
  const auto parts = sdp_text::split(tokens[1], '/');
  if (parts.size() < 2 || parts.size() > 3 || !sdp_text::is_token(parts[0])) {
    return make_error("rtpmap: bad encoding " + quote(tokens[1]));
  }
  rtpmap.encoding_name = std::string(parts[0]);
  auto clock_rate = parse_uint(parts[1], 0xffffffff);
  if (!clock_rate || *clock_rate == 0) {
    return make_error("rtpmap: bad clock rate " + quote(parts[1]));
  }
  rtpmap.clock_rate = static_cast<std::uint32_t>(*clock_rate);
  if (parts.size() == 3) {
    auto channels = parse_uint(parts[2], 255);
    if (!channels || *channels == 0) {
      return make_error("rtpmap: bad channel count " + quote(parts[2]));
    }
    rtpmap.channels = static_cast<std::uint32_t>(*channels);
  }
  return rtpmap;
}

std::string SdpRtpmap::to_string() const {
  std::string text =
      std::to_string(payload_type) + " " + encoding_name + "/" + std::to_string(clock_rate);
  if (channels) {
    text += "/" + std::to_string(*channels);
  }
  return text;
}

bool SdpRtpmap::is(std::string_view codec_name) const {
  return iequals(encoding_name, codec_name);
}

FmtpParameters FmtpParameters::parse(std::string_view text) {
  FmtpParameters parameters;
  for (std::string_view piece : sdp_text::split(text, ';')) {
    piece = sdp_text::trim(piece);
    if (piece.empty()) {
      continue;
    }
    const std::size_t equals = piece.find('=');
    if (equals == std::string_view::npos) {
      parameters.entries_.emplace_back(std::string(piece), std::string());
    } else {
      parameters.entries_.emplace_back(std::string(sdp_text::trim(piece.substr(0, equals))),
                                       std::string(sdp_text::trim(piece.substr(equals + 1))));
    }
  }
  return parameters;
}

std::optional<std::string_view> FmtpParameters::get(std::string_view key) const {
  for (const auto& [name, value] : entries_) {
    if (iequals(name, key)) {
      return std::string_view(value);
    }
  }
  return std::nullopt;
}

void FmtpParameters::set(std::string_view key, std::string_view value) {
  for (auto& [name, existing] : entries_) {
    if (iequals(name, key)) {
      existing = std::string(value);
      return;
    }
  }
  entries_.emplace_back(std::string(key), std::string(value));
}

std::string FmtpParameters::to_string() const {
  std::string text;
  for (const auto& [name, value] : entries_) {
    if (!text.empty()) {
      text += ";";
    }
    text += name;
    if (!value.empty()) {
      text += "=" + value;
    }
  }
  return text;
}

Result<SdpFmtp> SdpFmtp::parse(std::string_view value) {
  auto [pt_text, rest] = split_first(value);
  auto payload_type = parse_payload_type(pt_text);
  if (!payload_type) {
    return make_error("fmtp: bad payload type " + quote(pt_text));
  }
  return SdpFmtp{*payload_type, FmtpParameters::parse(rest)};
}

std::string SdpFmtp::to_string() const {
  return std::to_string(payload_type) + " " + parameters.to_string();
}

Result<SdpRtcpFeedback> SdpRtcpFeedback::parse(std::string_view value) {
  const auto tokens = split_spaces(value);
  if (tokens.size() < 2 || tokens.size() > 3) {
    return make_error("rtcp-fb: expected '<pt> <type> [<parameter>]', got " + quote(value));
  }
  SdpRtcpFeedback feedback;
  if (tokens[0] != "*") {
    feedback.payload_type = parse_payload_type(tokens[0]);
    if (!feedback.payload_type) {
      return make_error("rtcp-fb: bad payload type " + quote(tokens[0]));
    }
  }
  feedback.type = std::string(tokens[1]);
  if (tokens.size() == 3) {
    feedback.parameter = std::string(tokens[2]);
  }
  return feedback;
}

std::string SdpRtcpFeedback::to_string() const {
  std::string text = payload_type ? std::to_string(*payload_type) : "*";
  text += " " + type;
  if (!parameter.empty()) {
    text += " " + parameter;
  }
  return text;
}

Result<SdpSsrc> SdpSsrc::parse(std::string_view value) {
  auto [ssrc_text, rest] = split_first(value);
  auto ssrc = parse_uint(ssrc_text, 0xffffffff);
  if (!ssrc) {
    return make_error("ssrc: bad SSRC " + quote(ssrc_text));
  }
  SdpSsrc result;
  result.ssrc = static_cast<std::uint32_t>(*ssrc);
  const std::size_t colon = rest.find(':');
  result.attribute = std::string(rest.substr(0, colon));
  if (colon != std::string_view::npos) {
    result.value = std::string(rest.substr(colon + 1));
  }
  if (result.attribute.empty()) {
    return make_error("ssrc: missing attribute in " + quote(value));
  }
  return result;
}

std::string SdpSsrc::to_string() const {
  std::string text = std::to_string(ssrc) + " " + attribute;
  if (!value.empty()) {
    text += ":" + value;
  }
  return text;
}

Result<SdpSsrcGroup> SdpSsrcGroup::parse(std::string_view value) {
  const auto tokens = split_spaces(value);
  if (tokens.empty()) {
    return make_error("ssrc-group: empty");
  }
  SdpSsrcGroup group;
  group.semantics = std::string(tokens[0]);
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    auto ssrc = parse_uint(tokens[i], 0xffffffff);
    if (!ssrc) {
      return make_error("ssrc-group: bad SSRC " + quote(tokens[i]));
    }
    group.ssrcs.push_back(static_cast<std::uint32_t>(*ssrc));
  }
  return group;
}

std::string SdpSsrcGroup::to_string() const {
  std::string text = semantics;
  for (std::uint32_t ssrc : ssrcs) {
    text += " " + std::to_string(ssrc);
  }
  return text;
}

Result<SdpMsid> SdpMsid::parse(std::string_view value) {
  const auto tokens = split_spaces(value);
  if (tokens.empty() || tokens.size() > 2) {
    return make_error("msid: expected '<stream id> [<track id>]', got " + quote(value));
  }
  SdpMsid msid;
  msid.stream_id = std::string(tokens[0]);
  if (tokens.size() == 2) {
    msid.track_id = std::string(tokens[1]);
  }
  return msid;
}

std::string SdpMsid::to_string() const {
  return track_id.empty() ? stream_id : stream_id + " " + track_id;
}

Result<SdpGroup> SdpGroup::parse(std::string_view value) {
  const auto tokens = split_spaces(value);
  if (tokens.empty()) {
    return make_error("group: missing semantics");
  }
  SdpGroup group;
  group.semantics = std::string(tokens[0]);
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    group.mids.emplace_back(tokens[i]);
  }
  return group;
}

std::string SdpGroup::to_string() const {
  std::string text = semantics;
  for (const auto& mid : mids) {
    text += " " + mid;
  }
  return text;
}

Result<SdpMsidSemantic> SdpMsidSemantic::parse(std::string_view value) {
  const auto tokens = split_spaces(value);
  if (tokens.empty()) {
    return make_error("msid-semantic: missing semantic");
  }
  SdpMsidSemantic semantic;
  semantic.semantic = std::string(tokens[0]);
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    semantic.ids.emplace_back(tokens[i]);
  }
  return semantic;
}

std::string SdpMsidSemantic::to_string() const {
  std::string text = semantic;
  for (const auto& id : ids) {
    text += " " + id;
  }
  return text;
}

}  // namespace ivs::proto
