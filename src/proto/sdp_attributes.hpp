// Typed values of the SDP attributes WebRTC needs (the a=<name>:<value> payloads):
//   RFC 8122 §5 fingerprint, RFC 4145 §4 setup, RFC 8866 §6.7 direction, RFC 8285 §8 extmap,
//   RFC 8866 §6.6 rtpmap, §6.15 fmtp, RFC 4585 §4.2 rtcp-fb, RFC 5576 §4 ssrc / ssrc-group,
//   RFC 8830 §2 msid, RFC 5888 §5 group, and the pre-standard msid-semantic.
//
// Why separate from the line codec (sdp.hpp): a SessionDescription keeps every attribute as
// raw text in its original order, so parse -> serialize is byte-stable even for attributes we
// do not understand. These types are views computed from that text (and used to build text for
// answers); each has parse(value) -> Result and to_string() that yields the canonical value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/result.hpp"

namespace ivs::proto {

// a=fingerprint:sha-256 AB:CD:... (RFC 8122 §5). Bytes are the decoded digest.
struct SdpFingerprint {
  std::string algorithm;  // lower-cased, e.g. "sha-256"
  Bytes digest;

  static Result<SdpFingerprint> parse(std::string_view value);
  std::string to_string() const;  // upper-case hex pairs joined by ':'
  friend bool operator==(const SdpFingerprint&, const SdpFingerprint&) = default;
};

// a=setup (RFC 4145 §4, RFC 8842 §5): who starts the DTLS handshake.
enum class SdpSetup : std::uint8_t { kActive, kPassive, kActpass, kHoldconn };
std::optional<SdpSetup> parse_setup(std::string_view value);
std::string_view to_string(SdpSetup setup);

// a=sendrecv / sendonly / recvonly / inactive (RFC 8866 §6.7). Default is sendrecv.
enum class SdpDirection : std::uint8_t { kSendRecv, kSendOnly, kRecvOnly, kInactive };
std::optional<SdpDirection> parse_direction(std::string_view name);
std::string_view to_string(SdpDirection direction);
// What the other side must answer with: sendonly <-> recvonly.
SdpDirection reverse(SdpDirection direction);

// a=extmap:<id>[/<direction>] <uri> [<extension attributes>] (RFC 8285 §8).
struct SdpExtmap {
  std::uint16_t id = 0;  // 1-14 one-byte, 1-255 two-byte header form; 4096-4351 as "answer off"
  std::optional<SdpDirection> direction;
  std::string uri;
  std::string extension_attributes;  // rest of the line, verbatim

  static Result<SdpExtmap> parse(std::string_view value);
  std::string to_string() const;
  friend bool operator==(const SdpExtmap&, const SdpExtmap&) = default;
};

// a=rtpmap:<pt> <encoding name>/<clock rate>[/<channels>] (RFC 8866 §6.6). Codec names compare
// case-insensitively (werift sends "h264", GStreamer "OPUS").
struct SdpRtpmap {
  std::uint8_t payload_type = 0;
  std::string encoding_name;  // as written
  std::uint32_t clock_rate = 0;
  std::optional<std::uint32_t> channels;

  static Result<SdpRtpmap> parse(std::string_view value);
  std::string to_string() const;
  bool is(std::string_view codec_name) const;
  friend bool operator==(const SdpRtpmap&, const SdpRtpmap&) = default;
};

// The parameter list of an fmtp line: "key=value;key2=value2". Order is kept; keys compare
// case-insensitively (RFC 6184 §8.1 media type parameters are case-insensitive). A piece
// without '=' (RED's "111/111") becomes a key with an empty value.
class FmtpParameters {
 public:
  static FmtpParameters parse(std::string_view text);
  std::optional<std::string_view> get(std::string_view key) const;
  void set(std::string_view key, std::string_view value);
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }
  std::string to_string() const;
  friend bool operator==(const FmtpParameters&, const FmtpParameters&) = default;

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

// a=fmtp:<pt> <format specific parameters> (RFC 8866 §6.15).
struct SdpFmtp {
  std::uint8_t payload_type = 0;
  FmtpParameters parameters;

  static Result<SdpFmtp> parse(std::string_view value);
  std::string to_string() const;
  friend bool operator==(const SdpFmtp&, const SdpFmtp&) = default;
};

// a=rtcp-fb:<pt|*> <type> [<parameter>] (RFC 4585 §4.2), e.g. "96 nack pli", "96 ccm fir".
struct SdpRtcpFeedback {
  std::optional<std::uint8_t> payload_type;  // nullopt for the "*" wildcard
  std::string type;                          // "nack", "ccm", "goog-remb", "transport-cc"
  std::string parameter;                     // "pli", "fir" or empty

  static Result<SdpRtcpFeedback> parse(std::string_view value);
  std::string to_string() const;
  friend bool operator==(const SdpRtcpFeedback&, const SdpRtcpFeedback&) = default;
};

// a=ssrc:<ssrc> <attribute>[:<value>] (RFC 5576 §4.1), e.g. "123 cname:abc", "123 msid:s t".
struct SdpSsrc {
  std::uint32_t ssrc = 0;
  std::string attribute;
  std::string value;

  static Result<SdpSsrc> parse(std::string_view value);
  std::string to_string() const;
  friend bool operator==(const SdpSsrc&, const SdpSsrc&) = default;
};

// a=ssrc-group:<semantics> <ssrc>... (RFC 5576 §4.2): FID pairs media with RTX, SIM lists layers.
struct SdpSsrcGroup {
  std::string semantics;
  std::vector<std::uint32_t> ssrcs;

  static Result<SdpSsrcGroup> parse(std::string_view value);
  std::string to_string() const;
  friend bool operator==(const SdpSsrcGroup&, const SdpSsrcGroup&) = default;
};

// a=msid:<stream id> [<track id>] (RFC 8830 §2).
struct SdpMsid {
  std::string stream_id;
  std::string track_id;

  static Result<SdpMsid> parse(std::string_view value);
  std::string to_string() const;
  friend bool operator==(const SdpMsid&, const SdpMsid&) = default;
};

// a=group:<semantics> <mid>... (RFC 5888 §5), e.g. "BUNDLE 0 1".
struct SdpGroup {
  std::string semantics;
  std::vector<std::string> mids;

  static Result<SdpGroup> parse(std::string_view value);
  std::string to_string() const;
  friend bool operator==(const SdpGroup&, const SdpGroup&) = default;
};

// a=msid-semantic:<semantic> [<id>...] (pre-RFC 8830 Chromium form, "WMS *").
struct SdpMsidSemantic {
  std::string semantic;
  std::vector<std::string> ids;

  static Result<SdpMsidSemantic> parse(std::string_view value);
  std::string to_string() const;
  friend bool operator==(const SdpMsidSemantic&, const SdpMsidSemantic&) = default;
};

}  // namespace ivs::proto
