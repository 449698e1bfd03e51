// SDP offer/answer (RFC 3264, JSEP RFC 9429) for our three roles, as pure functions:
//
//   WHIP ingest   publisher offer (sendonly)  -> negotiate_ingest -> our answer (recvonly)
//   WHEP          viewer offer (recvonly)     -> negotiate_whep   -> our answer (sendonly)
//   WHIP egress   make_egress_offer -> our offer (sendonly) ; IVS answer -> accept_egress_answer
//   WHEP pull     make_egress_offer(receive_only) -> our offer (recvonly) ; the origin's answer
//                 (sendonly, its SSRCs) -> accept_egress_answer   (INGEST_PULL_URL, an edge)
//
// Assumptions (docs/sdp.md): BUNDLE (RFC 8843) and rtcp-mux (RFC 5761) only, one transport per
// session; H.264 packetization-mode=1 (RFC 6184) video and Opus (RFC 7587) audio only; as a
// server we are ICE-lite (RFC 8445 §2.5) and DTLS passive (a=setup:passive, RFC 8842); as the
// egress client we do full ICE and offer a=setup:actpass.
//
// Everything the relay needs later (mids, payload types, extension ids, SSRCs, the remote ICE
// and DTLS parameters) comes back as a NegotiatedMedia value, so the SDP text never has to be
// read again. Errors are sentences for the person at the other end of the WHIP request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/dtls_srtp_keys.hpp"  // DtlsRole, shared with DtlsTransport
#include "engine/ice_common.hpp"
#include "proto/result.hpp"
#include "proto/sdp.hpp"
#include "proto/socket_address.hpp"

namespace ivs::engine {

// The RTP header extension URIs we negotiate (RFC 8285 registry names).
namespace extension_uri {
inline constexpr std::string_view kMid = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr std::string_view kAbsSendTime =
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view kTransportWideCc =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
inline constexpr std::string_view kRtpStreamId = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr std::string_view kRepairedRtpStreamId =
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
}  // namespace extension_uri

// Our side of the transport, supplied by the caller (ufrag/pwd from its RandomSource, the
// fingerprint from DtlsCertificate, the addresses of the UDP sockets it bound).
struct LocalTransport {
  IceCredentials ice;
  proto::SdpFingerprint fingerprint;  // sha-256 of our DTLS certificate
  std::vector<SocketAddress> host_addresses;
  // RTC_ANNOUNCED_IP: when set, every host candidate advertises this IP (with the socket's
  // port) instead of the bound address, for servers behind 1:1 NAT or bound to 0.0.0.0.
  std::optional<std::string> announced_ip;
  std::uint64_t session_id = 0;  // o= session id, random per session
};

// Host candidates for `transport`, in order, highest priority first (RFC 8445 §5.1.2).
std::vector<proto::SdpCandidate> host_candidates(const LocalTransport& transport);

// Header extension ids agreed for one m-section; nullopt when not negotiated.
struct NegotiatedExtensions {
  std::optional<std::uint16_t> mid;
  std::optional<std::uint16_t> abs_send_time;
  std::optional<std::uint16_t> transport_cc;
  std::optional<std::uint16_t> rtp_stream_id;
  std::optional<std::uint16_t> repaired_rtp_stream_id;
};

// RTCP feedback agreed for the chosen payload type (RFC 4585, RFC 5104, REMB, TWCC).
struct NegotiatedFeedback {
  bool nack = false;
  bool pli = false;
  bool fir = false;
  bool remb = false;
  bool transport_cc = false;
};

// One accepted m-section.
struct NegotiatedTrack {
  std::string mid;
  std::uint8_t payload_type = 0;
  std::uint32_t clock_rate = 0;
  std::uint32_t channels = 0;         // 2 for Opus, 0 for video
  proto::FmtpParameters parameters;   // the chosen codec's fmtp as agreed
  std::string h264_profile_level_id;  // video only; "" when the fmtp did not say
  NegotiatedFeedback feedback;
  NegotiatedExtensions extensions;
  std::vector<std::uint32_t> remote_ssrcs;  // a=ssrc lines of the remote side, if any
  std::vector<std::string> rids;            // accepted simulcast layers, in offer order
};

struct RemoteTransport {
  IceCredentials ice;
  bool ice_lite = false;
  proto::SdpFingerprint fingerprint;  // the sha-256 one when several are offered
  std::optional<proto::SdpSetup> setup;
  std::vector<proto::SdpCandidate> candidates;  // from every section, duplicates removed
  bool end_of_candidates = false;
};

struct NegotiatedMedia {
  NegotiatedTrack video;
  std::optional<NegotiatedTrack> audio;
  std::vector<std::string> bundle_mids;  // accepted mids, BUNDLE-tag first
  RemoteTransport remote;
};

struct Answer {
  std::string sdp;
  proto::SessionDescription description;
  NegotiatedMedia media;
};

// What the ingest answer may accept beyond the required codecs. Whether to agree to
// transport-cc / goog-remb depends on whether the server will send that feedback: agreeing
// and then staying silent leaves a browser publisher at its start bitrate (DESIGN.md §3).
struct IngestPolicy {
  bool accept_transport_cc = true;
  bool accept_remb = true;
  bool accept_simulcast = true;
  // Our DTLS role. A server answers a=setup:passive (the offerer connects); kClient answers
  // a=setup:active, which RFC 8842 §5.2 allows against actpass, for an offerer that expects to
  // be the DTLS server: the benchmark's sink answering a Janus streaming offer. The ICE side is
  // ICE-lite either way.
  DtlsRole dtls_role = DtlsRole::kServer;
};

// WHIP ingest: answers a publisher's offer (OBS, browser, GStreamer, aiortc, werift).
Result<Answer> negotiate_ingest(const proto::SessionDescription& offer, const LocalTransport& local,
                                const IngestPolicy& policy = {});
Result<Answer> negotiate_ingest(std::string_view offer_sdp, const LocalTransport& local,
                                const IngestPolicy& policy = {});

// The streams we send in a WHEP answer or a WHIP egress offer.
struct OutgoingStreams {
  std::uint32_t video_ssrc = 0;
  std::uint32_t audio_ssrc = 0;
  std::string cname;
  std::string stream_id = "ivs";  // msid stream id
  std::string video_track_id = "video";
  std::string audio_track_id = "audio";
};

// WHEP: answers a viewer's recvonly offer with our sendonly H.264 + Opus.
Result<Answer> negotiate_whep(const proto::SessionDescription& offer, const LocalTransport& local,
                              const OutgoingStreams& streams, const IngestPolicy& policy = {});
Result<Answer> negotiate_whep(std::string_view offer_sdp, const LocalTransport& local,
                              const OutgoingStreams& streams, const IngestPolicy& policy = {});

// WHIP egress (our client toward an IVS stage or a local stage).
struct EgressOfferParams {
  LocalTransport local;
  OutgoingStreams streams;
  std::string h264_profile_level_id = "42e01f";  // the publisher's, so the stage decodes it
  std::uint8_t video_payload_type = 96;
  std::uint8_t audio_payload_type = 111;
  bool include_audio = true;
  bool offer_transport_cc = false;  // only when we send TWCC-numbered packets and read feedback
  // An edge pulling the stream from an origin with WHEP (INGEST_PULL_URL): the same sections,
  // recvonly and without SSRC lines of ours; the answer's a=ssrc lines name what will arrive.
  bool receive_only = false;
  proto::FmtpParameters opus_parameters =
      proto::FmtpParameters::parse("minptime=10;useinbandfec=1");
};

struct EgressOffer {
  std::string sdp;
  proto::SessionDescription description;
};

EgressOffer make_egress_offer(const EgressOfferParams& params);

struct EgressAnswer {
  NegotiatedMedia media;
  DtlsRole dtls_role = DtlsRole::kClient;  // ours, from the answer's a=setup
};

// Checks the stage's answer against our offer: video must be accepted with H.264, BUNDLE and
// rtcp-mux in force, ICE and DTLS parameters present (IVS puts candidates only in the first
// m-section and may put ICE/DTLS attributes at session level; both are accepted).
Result<EgressAnswer> accept_egress_answer(const proto::SessionDescription& offer,
                                          std::string_view answer_sdp);

}  // namespace ivs::engine
