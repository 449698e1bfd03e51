// The offering side: our WHIP client toward an IVS stage (or the local stage role).
//
// The offer copies the shape OBS sends and IVS is known to accept (DESIGN.md §3): audio mid 0
// then video mid 1, one BUNDLE group, rtcp-mux, sendonly, H.264 pm=1 with the publisher's
// profile-level-id, Opus, our own SSRCs with msid/cname, a=setup:actpass. Unlike OBS we list
// our host candidates (we are full ICE, not lite, and never trickle).
// The same offer, recvonly and without our SSRCs, is what an edge sends an origin's WHEP
// endpoint (INGEST_PULL_URL): the answer is read by the same accept_egress_answer.
#include <algorithm>

#include "engine/sdp_negotiation_detail.hpp"

namespace ivs::engine {

using proto::SdpCodec;
using proto::SdpMedia;
using proto::SessionDescription;
using namespace sdp_detail;

namespace {

constexpr std::string_view kAudioMid = "0";
constexpr std::string_view kVideoMid = "1";

void add_offer_extmaps(SdpMedia& media, const EgressOfferParams& params) {
  // The same id for the same URI in both sections: one id space per BUNDLE (RFC 8843 §9.1).
  media.attributes.add("extmap", "1 " + std::string(extension_uri::kMid));
  media.attributes.add("extmap", "2 " + std::string(extension_uri::kAbsSendTime));
  if (params.offer_transport_cc) {
    media.attributes.add("extmap", "3 " + std::string(extension_uri::kTransportWideCc));
  }
}

SdpMedia offer_section(const EgressOfferParams& params, bool video,
                       const std::vector<proto::SdpCandidate>& candidates) {
  SdpMedia media;
  media.kind = video ? "video" : "audio";
  const std::uint8_t payload_type = video ? params.video_payload_type : params.audio_payload_type;
  media.formats = {std::to_string(payload_type)};
  add_transport(media, params.local, proto::SdpSetup::kActpass, candidates);
  media.attributes.add("mid", std::string(video ? kVideoMid : kAudioMid));
  media.attributes.add(params.receive_only ? "recvonly" : "sendonly");
  media.attributes.add("rtcp-mux");
  add_offer_extmaps(media, params);
  SdpCodec codec;
  codec.payload_type = payload_type;
  std::vector<proto::SdpRtcpFeedback> feedback;
  if (video) {
    codec.name = "H264";
    codec.clock_rate = 90000;
    codec.parameters = proto::FmtpParameters::parse(
        "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" +
        (params.h264_profile_level_id.empty() ? std::string("42e01f")
                                              : params.h264_profile_level_id));
    feedback = {
        {payload_type, "nack", ""}, {payload_type, "nack", "pli"}, {payload_type, "ccm", "fir"}};
  } else {
    codec.name = "opus";
    codec.clock_rate = 48000;
    codec.channels = 2;
    codec.parameters = params.opus_parameters;
  }
  if (params.offer_transport_cc) {
    feedback.push_back({payload_type, "transport-cc", ""});
  }
  add_codec(media, codec, feedback, codec.parameters);
  if (!params.receive_only) {
    const OutgoingStreams& streams = params.streams;
    add_outgoing_ssrc(media, video ? streams.video_ssrc : streams.audio_ssrc, streams,
                      video ? streams.video_track_id : streams.audio_track_id);
  }
  add_candidates(media, candidates);
  return media;
}

// The codec the answer chose in a section: its first format that we offered with that name.
std::optional<SdpCodec> answered_codec(const SdpMedia& offered, const SdpMedia& answered,
                                       std::string_view name) {
  for (const SdpCodec& codec : answered.codecs()) {
    if (codec.is(name) && offered.codec(codec.payload_type)) {
      return codec;
    }
  }
  return std::nullopt;
}

Result<NegotiatedTrack> answered_track(const SdpMedia& offered, const SdpMedia& answered) {
  const bool video = offered.kind == "video";
  const std::string section = "answer's " + offered.kind + " m-section";
  if (!answered.rtcp_mux()) {
    return make_error(section + " lacks a=rtcp-mux");
  }
  auto codec = answered_codec(offered, answered, video ? "H264" : "opus");
  if (!codec) {
    return make_error(section + (video ? " does not accept H.264" : " does not accept Opus"));
  }
  NegotiatedTrack track;
  track.mid = *offered.mid();
  track.payload_type = codec->payload_type;
  track.clock_rate = codec->clock_rate;
  track.channels = codec->channels;
  track.parameters = codec->parameters;
  if (video) {
    track.h264_profile_level_id = std::string(
        offered.codec(codec->payload_type)->parameters.get("profile-level-id").value_or(""));
  }
  IngestPolicy everything;  // whatever the answer kept of what we offered
  track.feedback = summarize_feedback(accepted_feedback(*codec, everything));
  track.extensions = summarize_extensions(answered.attributes.extmaps());
  track.remote_ssrcs = answered.ssrc_ids();
  return track;
}

// Pairs each offered section with its answer by position (RFC 3264 §6), checking the mids.
Result<const SdpMedia*> answered_section(const SessionDescription& answer, std::size_t index,
                                         const SdpMedia& offered) {
  if (index >= answer.media.size()) {
    return make_error("answer has " + std::to_string(answer.media.size()) +
                      " m-sections; the offer had more");
  }
  const SdpMedia& answered = answer.media[index];
  if (answered.kind != offered.kind ||
      (answered.mid() && offered.mid() && *answered.mid() != *offered.mid())) {
    return make_error("answer's m-section " + std::to_string(index + 1) +
                      " does not match the offer (kind or mid differs)");
  }
  return &answered;
}

DtlsRole our_dtls_role(std::optional<proto::SdpSetup> answer_setup) {
  // The answerer's active means it connects to us (RFC 4145 §4; absent means active).
  // actpass is not allowed in an answer; treat it like passive and start the handshake.
  if (!answer_setup || *answer_setup == proto::SdpSetup::kActive) {
    return DtlsRole::kServer;
  }
  return DtlsRole::kClient;
}

// Reads the answer's choice for each of our sections into `media`; returns the accepted ones.
// Video must be accepted; a refused audio section leaves a video-only session.
Result<std::vector<const SdpMedia*>> read_tracks(const SessionDescription& offer,
                                                 const SessionDescription& answer,
                                                 NegotiatedMedia& media) {
  std::vector<const SdpMedia*> accepted;
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    const SdpMedia& offered = offer.media[i];
    auto answered = answered_section(answer, i, offered);
    if (!answered) {
      return answered.error();
    }
    const bool video = offered.kind == "video";
    if ((*answered)->rejected()) {
      if (video) {
        return make_error("answer rejected the video m-section (port 0); IVS requires H.264 video");
      }
      continue;
    }
    auto track = answered_track(offered, **answered);
    if (!track) {
      if (video) {
        return track.error();
      }
      continue;
    }
    (video ? media.video : media.audio.emplace()) = std::move(*track);
    accepted.push_back(*answered);
  }
  return accepted;
}

}  // namespace

EgressOffer make_egress_offer(const EgressOfferParams& params) {
  EgressOffer offer;
  SessionDescription& description = offer.description;
  description = new_description(params.local);
  std::vector<std::string> mids;
  if (params.include_audio) {
    mids.emplace_back(kAudioMid);
  }
  mids.emplace_back(kVideoMid);
  description.attributes.add("group", proto::SdpGroup{"BUNDLE", mids}.to_string());
  if (!params.receive_only) {
    description.attributes.add("msid-semantic", "WMS " + params.streams.stream_id);
  }
  const auto candidates = host_candidates(params.local);
  if (params.include_audio) {
    description.media.push_back(offer_section(params, /*video=*/false, candidates));
  }
  description.media.push_back(offer_section(params, /*video=*/true, candidates));
  offer.sdp = proto::serialize_sdp(description);
  return offer;
}

Result<EgressAnswer> accept_egress_answer(const SessionDescription& offer,
                                          std::string_view answer_sdp) {
  auto answer = proto::parse_sdp(answer_sdp);
  if (!answer) {
    return make_error("invalid SDP answer: " + answer.error().message);
  }
  EgressAnswer result;
  auto accepted = read_tracks(offer, *answer, result.media);
  if (!accepted) {
    return accepted.error();
  }
  auto group = answer->bundle_group();
  std::vector<std::string> bundled;
  for (const SdpMedia* media : *accepted) {
    if (group && std::find(group->mids.begin(), group->mids.end(), media->mid().value_or("")) !=
                     group->mids.end()) {
      bundled.push_back(*media->mid());
    }
  }
  if (accepted->size() > 1 && bundled.size() < accepted->size()) {
    return make_error("answer does not BUNDLE audio and video; this client needs one transport");
  }
  // The BUNDLE tag is the first mid of the answer's group; IVS puts its candidates there.
  const SdpMedia* tag = group && !group->mids.empty() && answer->find_media(group->mids.front())
                            ? answer->find_media(group->mids.front())
                            : accepted->front();
  std::vector<const SdpMedia*> sources = *accepted;
  if (std::find(sources.begin(), sources.end(), tag) == sources.end()) {
    sources.push_back(tag);
  }
  auto remote = remote_transport(*answer, *tag, sources, "answer");
  if (!remote) {
    return remote.error();
  }
  result.dtls_role = our_dtls_role(remote->setup);
  result.media.remote = std::move(*remote);
  result.media.bundle_mids =
      bundled.empty() ? std::vector<std::string>{result.media.video.mid} : bundled;
  return result;
}

}  // namespace ivs::engine
