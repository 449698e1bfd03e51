// Building blocks shared by the ingest, WHEP and egress negotiations (sdp_negotiation.hpp):
// codec choice, feedback and header-extension filtering, transport attributes. Internal to
// src/engine; the public surface is sdp_negotiation.hpp.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sdp_negotiation.hpp"

namespace ivs::engine::sdp_detail {

// RFC 6184 §8.1: packetization-mode absent means 0 (single NAL unit), which we cannot relay
// (FU-A and STAP-A fragments are what every encoder emits at real bitrates).
bool is_h264_mode1(const proto::SdpCodec& codec);

// 0 = Constrained Baseline, 1 = Baseline or unspecified (RFC 6184 default 420010),
// 2 = anything else (Main, High, ...). Lower is preferred: IVS wants Baseline (DESIGN.md §3).
int h264_profile_rank(const proto::SdpCodec& codec);

// The best H.264 packetization-mode=1 codec of the section, by rank then offer order.
std::optional<proto::SdpCodec> choose_h264(const proto::SdpMedia& media);
// The first opus/48000/2 codec of the section (names compare case-insensitively).
std::optional<proto::SdpCodec> choose_opus(const proto::SdpMedia& media);

// The rtcp-fb lines of `codec` we agree to, rewritten to its payload type (a "*" wildcard in
// the offer becomes explicit), and the summary flags.
std::vector<proto::SdpRtcpFeedback> accepted_feedback(const proto::SdpCodec& codec,
                                                      const IngestPolicy& policy);
NegotiatedFeedback summarize_feedback(const std::vector<proto::SdpRtcpFeedback>& feedback);

// Header extensions are one id space per BUNDLE transport (RFC 8843 §9.1): an id bound to one
// URI in one section may not mean another URI in the next. The map remembers the bindings
// accepted so far; a conflicting extmap is left out of the answer (aiortc 1.4 offers id 2 for
// abs-send-time in video and ssrc-audio-level in audio).
using ExtensionBindings = std::map<std::uint16_t, std::string>;
std::vector<proto::SdpExtmap> accepted_extmaps(const proto::SdpMedia& media,
                                               const std::vector<std::string_view>& wanted_uris,
                                               ExtensionBindings& bindings);
NegotiatedExtensions summarize_extensions(const std::vector<proto::SdpExtmap>& extmaps);

// The fmtp parameters of `codec` minus the sender-only sprop-* ones (RFC 6184 §8.2.2: they
// describe the offerer's stream and do not belong in a receiver's answer).
proto::FmtpParameters answer_parameters(const proto::SdpCodec& codec);

// Appends rtpmap, rtcp-fb and fmtp lines for one codec.
void add_codec(proto::SdpMedia& media, const proto::SdpCodec& codec,
               const std::vector<proto::SdpRtcpFeedback>& feedback,
               const proto::FmtpParameters& parameters);

// Appends ice-ufrag/pwd, fingerprint and setup, and sets the m= port and c= line from the
// first candidate (port 9 / 0.0.0.0 when there is none, RFC 8840 §4.1.1).
void add_transport(proto::SdpMedia& media, const LocalTransport& local, proto::SdpSetup setup,
                   const std::vector<proto::SdpCandidate>& candidates);
// Appends a=candidate lines and a=end-of-candidates (we never trickle).
void add_candidates(proto::SdpMedia& media, const std::vector<proto::SdpCandidate>& candidates);

// a=msid plus a=ssrc cname/msid for a section we send on.
void add_outgoing_ssrc(proto::SdpMedia& media, std::uint32_t ssrc, const OutgoingStreams& streams,
                       const std::string& track_id);

// Remote ICE/DTLS parameters of the BUNDLE transport, read from `tag` (media level wins over
// session level) and candidates gathered from every accepted section. `who` names the peer in
// error messages ("offer", "answer").
Result<RemoteTransport> remote_transport(const proto::SessionDescription& description,
                                         const proto::SdpMedia& tag,
                                         const std::vector<const proto::SdpMedia*>& accepted,
                                         std::string_view who);

// A fresh session description with v/o/s/t filled in.
proto::SessionDescription new_description(const LocalTransport& local);

bool is_dtls_srtp(const proto::SdpMedia& media);

}  // namespace ivs::engine::sdp_detail
