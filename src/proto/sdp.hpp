// Session Description Protocol (RFC 8866) as WebRTC uses it (JSEP, RFC 9429), plus the SDP
// fragment form of trickle ICE PATCH bodies (RFC 8840 §9, application/trickle-ice-sdpfrag).
//
//   v=0                                  SessionDescription
//   o=- 4611 2 IN IP4 127.0.0.1            origin, session_name, connection, bandwidths, timings
//   s=-                                    attributes (session level, in order)
//   t=0 0                                  media[]
//   a=group:BUNDLE 0 1                     ├── SdpMedia: kind, port, protocol, formats
//   m=audio 9 UDP/TLS/RTP/SAVPF 111        │     connections, bandwidths, attributes (in order)
//   a=mid:0 ...                            └── ...
//
// Design: every a= line is kept as raw (name, value) text in its original order, and the
// typed accessors (ice_ufrag(), extmaps(), codecs(), candidates(), ...) read that list. So
// parse -> serialize round-trips attributes we do not understand, and answers are built by
// appending typed values' to_string() text. parse() validates the value of every attribute we
// give typed access to, so after a successful parse the accessors never meet bad text; a bad
// line is reported with its 1-based line number.
//
// Input is bounded (SdpLimits) because offers arrive from unauthenticated-until-checked HTTP
// bodies. CRLF and bare LF are both accepted; serialization always emits CRLF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/result.hpp"
#include "proto/sdp_attributes.hpp"
#include "proto/sdp_candidate.hpp"
#include "proto/sdp_simulcast.hpp"

namespace ivs::proto {

struct SdpLimits {
  std::size_t max_bytes = std::size_t{64} * 1024;  // a Chromium offer with every codec is ~7 KB
  std::size_t max_lines = 2000;
  std::size_t max_media = 32;
};

// One a= line: "a=name" (a flag, no value) or "a=name:value" (value verbatim, may be empty).
struct SdpAttribute {
  std::string name;
  std::optional<std::string> value;
  friend bool operator==(const SdpAttribute&, const SdpAttribute&) = default;
};

// Attributes of one level (session or media) in their original order, with typed reads of the
// ones that may appear at either level.
class SdpAttributeList {
 public:
  void add(std::string name) { list_.push_back({std::move(name), std::nullopt}); }
  void add(std::string name, std::string value) {
    list_.push_back({std::move(name), std::move(value)});
  }
  void remove(std::string_view name);
  bool has(std::string_view name) const;
  // The value of the first attribute with that name ("" for a flag), nullopt when absent.
  std::optional<std::string_view> first(std::string_view name) const;
  std::vector<std::string_view> all(std::string_view name) const;
  const std::vector<SdpAttribute>& list() const { return list_; }
  std::vector<SdpAttribute>& mutable_list() { return list_; }

  std::optional<std::string> ice_ufrag() const;
  std::optional<std::string> ice_pwd() const;
  std::vector<std::string> ice_options() const;
  std::vector<SdpFingerprint> fingerprints() const;
  std::optional<SdpSetup> setup() const;
  std::optional<SdpDirection> direction() const;  // the last direction attribute, if any
  std::vector<SdpExtmap> extmaps() const;
  bool extmap_allow_mixed() const { return has("extmap-allow-mixed"); }

  friend bool operator==(const SdpAttributeList&, const SdpAttributeList&) = default;

 private:
  std::vector<SdpAttribute> list_;
};

// c=<nettype> <addrtype> <address> (RFC 8866 §5.7).
struct SdpConnection {
  std::string net_type = "IN";
  std::string address_type = "IP4";
  std::string address = "0.0.0.0";
  friend bool operator==(const SdpConnection&, const SdpConnection&) = default;
};

// b=<type>:<value> (RFC 8866 §5.8), e.g. AS (kbit/s) or TIAS (bit/s).
struct SdpBandwidth {
  std::string type;
  std::uint64_t value = 0;
  friend bool operator==(const SdpBandwidth&, const SdpBandwidth&) = default;
};

// A line we carry but give no typed access to (i=, u=, e=, p=, r=, z=, k=).
struct SdpLine {
  char type = 'i';
  std::string value;
  friend bool operator==(const SdpLine&, const SdpLine&) = default;
};

// A payload type with its rtpmap, fmtp and rtcp-fb lines gathered (in m-line order).
struct SdpCodec {
  std::uint8_t payload_type = 0;
  std::string name;  // as written; compare with is()
  std::uint32_t clock_rate = 0;
  std::uint32_t channels = 0;  // 0 when the rtpmap gives none
  FmtpParameters parameters;
  std::vector<SdpRtcpFeedback> feedback;  // its own lines and the "*" wildcard ones
  bool is(std::string_view codec_name) const;
};

struct SdpMedia {
  std::string kind = "video";  // audio, video, application
  std::uint16_t port = 9;
  std::optional<std::uint16_t> port_count;
  std::string protocol = "UDP/TLS/RTP/SAVPF";
  std::vector<std::string> formats;
  std::vector<SdpLine> other_lines;  // i=, k=
  std::vector<SdpConnection> connections;
  std::vector<SdpBandwidth> bandwidths;
  SdpAttributeList attributes;

  std::optional<std::string> mid() const;
  // Default sendrecv when no direction attribute is present (RFC 8866 §6.7).
  SdpDirection direction() const;
  bool rtcp_mux() const { return attributes.has("rtcp-mux"); }
  bool rtcp_mux_only() const { return attributes.has("rtcp-mux-only"); }
  bool rtcp_rsize() const { return attributes.has("rtcp-rsize"); }
  bool bundle_only() const { return attributes.has("bundle-only"); }
  bool end_of_candidates() const { return attributes.has("end-of-candidates"); }
  // Port 0 without bundle-only means the section is rejected or disabled (RFC 8843 §7.3).
  bool rejected() const { return port == 0 && !bundle_only(); }
  std::vector<SdpCandidate> candidates() const;
  std::vector<SdpRtpmap> rtpmaps() const;
  std::vector<SdpFmtp> fmtps() const;
  std::vector<SdpRtcpFeedback> rtcp_feedback() const;
  std::vector<SdpCodec> codecs() const;
  std::optional<SdpCodec> codec(std::uint8_t payload_type) const;
  std::vector<SdpSsrc> ssrcs() const;
  std::vector<std::uint32_t> ssrc_ids() const;  // distinct, in order of appearance
  std::vector<SdpSsrcGroup> ssrc_groups() const;
  std::optional<SdpMsid> msid() const;
  std::vector<SdpRid> rids() const;
  std::optional<SdpSimulcast> simulcast() const;

  friend bool operator==(const SdpMedia&, const SdpMedia&) = default;
};

struct SdpOrigin {
  std::string username = "-";
  std::string session_id = "0";
  std::string session_version = "0";
  std::string net_type = "IN";
  std::string address_type = "IP4";
  std::string address = "0.0.0.0";
  friend bool operator==(const SdpOrigin&, const SdpOrigin&) = default;
};

struct SdpTiming {
  std::uint64_t start = 0;
  std::uint64_t stop = 0;
  friend bool operator==(const SdpTiming&, const SdpTiming&) = default;
};

struct SessionDescription {
  std::uint32_t version = 0;
  SdpOrigin origin;
  std::string session_name = "-";
  std::vector<SdpLine> other_lines;  // i=, u=, e=, p=, r=, z=, k=
  std::optional<SdpConnection> connection;
  std::vector<SdpBandwidth> bandwidths;
  std::vector<SdpTiming> timings;
  SdpAttributeList attributes;
  std::vector<SdpMedia> media;

  std::vector<SdpGroup> groups() const;
  // The first a=group:BUNDLE (JSEP uses one), nullopt when not bundling.
  std::optional<SdpGroup> bundle_group() const;
  bool ice_lite() const { return attributes.has("ice-lite"); }
  std::optional<SdpMsidSemantic> msid_semantic() const;
  const SdpMedia* find_media(std::string_view mid) const;

  friend bool operator==(const SessionDescription&, const SessionDescription&) = default;
};

// A trickle-ice-sdpfrag body: session-level attributes and m= sections, no v/o/s/t.
struct SdpFragment {
  SdpAttributeList attributes;
  std::vector<SdpMedia> media;
  friend bool operator==(const SdpFragment&, const SdpFragment&) = default;
};

Result<SessionDescription> parse_sdp(std::string_view text, const SdpLimits& limits = {});
std::string serialize_sdp(const SessionDescription& description);

Result<SdpFragment> parse_sdp_fragment(std::string_view text, const SdpLimits& limits = {});
std::string serialize_sdp_fragment(const SdpFragment& fragment);

// ICE and DTLS parameters in force for one m-section. OBS (libdatachannel) writes them at
// session level, browsers per m-section; a media-level value wins over the session one
// (RFC 8839 §5.4, RFC 8122 §5). ice-lite only exists at session level.
struct SdpTransportParameters {
  std::optional<std::string> ice_ufrag;
  std::optional<std::string> ice_pwd;
  std::vector<std::string> ice_options;
  bool ice_lite = false;
  std::vector<SdpFingerprint> fingerprints;
  std::optional<SdpSetup> setup;
};
SdpTransportParameters effective_transport(const SessionDescription& description,
                                           const SdpMedia& media);

}  // namespace ivs::proto
