// The answering side: WHIP ingest (publisher offers, we receive) and WHEP (viewer offers, we
// send). Both walk the offer's m-sections once, accept at most one video (H.264 pm=1, required)
// and one audio (Opus, optional) section, reject every other section with port 0 while
// mirroring its mid (RFC 8843 §7.3.3, JSEP §5.3.1), and answer as an ICE-lite, DTLS-passive
// server on one BUNDLE transport (DTLS-active when IngestPolicy::dtls_role asks for it).
#include <algorithm>

#include "engine/sdp_negotiation_detail.hpp"
#include "proto/sdp_text.hpp"

namespace ivs::engine {

using proto::SdpCodec;
using proto::SdpDirection;
using proto::SdpMedia;
using proto::SessionDescription;
using namespace sdp_detail;

namespace {

enum class Role : std::uint8_t { kIngest, kWhep };

struct Context {
  const SessionDescription& offer;
  const LocalTransport& local;
  const IngestPolicy& policy;
  Role role;
  const OutgoingStreams* streams;  // WHEP only
  std::vector<proto::SdpCandidate> candidates;
  ExtensionBindings bindings;
};

std::string who(Role role) {
  return role == Role::kIngest ? "offer" : "viewer offer";
}

std::string offered_codec_names(const SdpMedia& media) {
  std::vector<std::string> names;
  for (const SdpCodec& codec : media.codecs()) {
    std::string name = codec.name;
    if (codec.is("H264")) {
      name += " packetization-mode=" +
              std::string(codec.parameters.get("packetization-mode").value_or("0"));
    }
    if (!codec.is("rtx") && std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(std::move(name));
    }
  }
  std::string text;
  for (const std::string& name : names) {
    text += (text.empty() ? "" : ", ") + name;
  }
  return text.empty() ? "none" : text;
}

Result<SdpCodec> choose_codec(const SdpMedia& media, Role role) {
  if (media.kind == "audio") {
    if (auto opus = choose_opus(media)) {
      return std::move(*opus);
    }
    return make_error("no opus/48000/2 (offered: " + offered_codec_names(media) + ")");
  }
  if (auto h264 = choose_h264(media)) {
    return std::move(*h264);
  }
  const std::string offered = " (offered: " + offered_codec_names(media) + ")";
  if (role == Role::kWhep) {
    return make_error(
        "viewer offer has no H.264 with packetization-mode=1; this server relays "
        "H.264 only" +
        offered);
  }
  return make_error(
      "offer has no H.264 with packetization-mode=1 (OBS: set the encoder to x264 or NVENC "
      "H.264; browsers: allow H.264)" +
      offered);
}

// Why `media` cannot be used, or the codec we choose in it.
Result<SdpCodec> evaluate(const SdpMedia& media, Role role) {
  const std::string section = media.kind + " m-section";
  if (media.rejected()) {
    return make_error(section + " is disabled in the " + who(role) + " (port 0)");
  }
  if (!is_dtls_srtp(media)) {
    return make_error(section + " uses " + media.protocol +
                      "; WebRTC needs UDP/TLS/RTP/SAVPF (DTLS-SRTP)");
  }
  if (!media.rtcp_mux()) {
    return make_error(section + " lacks a=rtcp-mux; this server needs RTP and RTCP on one port");
  }
  const SdpDirection direction = media.direction();
  if (role == Role::kIngest &&
      (direction == SdpDirection::kRecvOnly || direction == SdpDirection::kInactive)) {
    return make_error(section + " does not send (a=" + std::string(proto::to_string(direction)) +
                      "); publish with WHIP as sendonly, or watch with WHEP");
  }
  if (role == Role::kWhep &&
      (direction == SdpDirection::kSendOnly || direction == SdpDirection::kInactive)) {
    return make_error(section + " does not receive (a=" + std::string(proto::to_string(direction)) +
                      "); a WHEP viewer is recvonly");
  }
  if (!media.mid()) {
    return make_error(section + " has no a=mid (required for BUNDLE)");
  }
  return choose_codec(media, role);
}

struct Plan {
  std::optional<std::size_t> video;
  std::optional<std::size_t> audio;
  std::vector<std::optional<SdpCodec>> codecs;  // per offered section, set when accepted
};

// JSEP §5.2.1: mids are unique; BUNDLE and our answer both rely on it.
Status check_unique_mids(const SessionDescription& offer, Role role) {
  std::vector<std::string> seen;
  for (const SdpMedia& media : offer.media) {
    auto mid = media.mid();
    if (!mid) {
      continue;
    }
    if (std::find(seen.begin(), seen.end(), *mid) != seen.end()) {
      return make_error(who(role) + " uses a=mid:" + *mid + " for more than one m-section");
    }
    seen.push_back(*mid);
  }
  return Ok{};
}

Result<Plan> plan_sections(const SessionDescription& offer, Role role) {
  if (Status unique = check_unique_mids(offer, role); !unique) {
    return unique.error();
  }
  Plan plan;
  plan.codecs.resize(offer.media.size());
  std::optional<Error> video_problem;
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    const SdpMedia& media = offer.media[i];
    std::optional<std::size_t>& slot = media.kind == "video" ? plan.video : plan.audio;
    if ((media.kind != "video" && media.kind != "audio") || slot) {
      continue;
    }
    auto codec = evaluate(media, role);
    if (codec) {
      plan.codecs[i] = std::move(*codec);
      slot = i;
    } else if (media.kind == "video" && !video_problem) {
      video_problem = codec.error();
    }
  }
  if (!plan.video) {
    return video_problem ? *video_problem
                         : make_error(who(role) +
                                      " has no video m-section; this server needs "
                                      "H.264 video (audio-only is not relayed)");
  }
  return plan;
}

// With two accepted sections both must be in the offer's BUNDLE group (RFC 8843).
Status check_bundle(const SessionDescription& offer, const Plan& plan, Role role) {
  if (!plan.audio) {
    return Ok{};
  }
  auto group = offer.bundle_group();
  auto in_group = [&](std::size_t index) {
    return group && std::find(group->mids.begin(), group->mids.end(), *offer.media[index].mid()) !=
                        group->mids.end();
  };
  if (!in_group(*plan.video) || !in_group(*plan.audio)) {
    return make_error(who(role) +
                      " does not BUNDLE audio and video (a=group:BUNDLE with both mids); this "
                      "server carries all media on one transport (use bundlePolicy max-bundle)");
  }
  return Ok{};
}

void add_simulcast(SdpMedia& answer, const SdpMedia& offered, NegotiatedTrack& track) {
  auto simulcast = offered.simulcast();
  const auto rids = offered.rids();
  if (!simulcast || simulcast->send.empty() || rids.empty()) {
    return;
  }
  for (const auto& stream : simulcast->send) {
    for (const auto& alternative : stream) {
      track.rids.push_back(alternative.id);
      // Restrictions other than pt= are the sender's to honour; we accept them as offered.
      std::string restrictions;
      for (const proto::SdpRid& rid : rids) {
        if (rid.id != alternative.id) {
          continue;
        }
        for (std::string_view piece : proto::sdp_text::split(rid.restrictions, ';')) {
          if (!piece.empty() && piece.substr(0, 3) != "pt=") {
            restrictions += (restrictions.empty() ? "" : ";") + std::string(piece);
          }
        }
      }
      answer.attributes.add(
          "rid",
          proto::SdpRid{alternative.id, proto::RidDirection::kRecv, {}, restrictions}.to_string());
    }
  }
  answer.attributes.add("simulcast", proto::SdpSimulcast{{}, simulcast->send}.to_string());
}

std::vector<std::string_view> wanted_extensions(Context& context, bool video) {
  std::vector<std::string_view> wanted{extension_uri::kMid, extension_uri::kAbsSendTime};
  if (context.policy.accept_transport_cc) {
    wanted.push_back(extension_uri::kTransportWideCc);
  }
  if (context.role == Role::kIngest && video && context.policy.accept_simulcast) {
    wanted.push_back(extension_uri::kRtpStreamId);
    wanted.push_back(extension_uri::kRepairedRtpStreamId);
  }
  return wanted;
}

SdpMedia accepted_section(Context& context, const SdpMedia& offered, const SdpCodec& codec,
                          NegotiatedTrack& track) {
  const bool video = offered.kind == "video";
  SdpMedia answer;
  answer.kind = offered.kind;
  answer.protocol = offered.protocol;
  answer.formats = {std::to_string(codec.payload_type)};
  const bool active = context.policy.dtls_role == DtlsRole::kClient;
  add_transport(answer, context.local,
                active ? proto::SdpSetup::kActive : proto::SdpSetup::kPassive, context.candidates);
  answer.attributes.add("mid", track.mid);
  answer.attributes.add(std::string(proto::to_string(
      context.role == Role::kIngest ? SdpDirection::kRecvOnly : SdpDirection::kSendOnly)));
  answer.attributes.add("rtcp-mux");
  const auto extmaps =
      accepted_extmaps(offered, wanted_extensions(context, video), context.bindings);
  for (const auto& extmap : extmaps) {
    answer.attributes.add("extmap", extmap.to_string());
  }
  track.extensions = summarize_extensions(extmaps);
  const auto feedback = accepted_feedback(codec, context.policy);
  track.feedback = summarize_feedback(feedback);
  add_codec(answer, codec, feedback, answer_parameters(codec));
  if (video && context.role == Role::kIngest && context.policy.accept_simulcast) {
    add_simulcast(answer, offered, track);
  }
  if (context.streams) {
    const OutgoingStreams& streams = *context.streams;
    add_outgoing_ssrc(answer, video ? streams.video_ssrc : streams.audio_ssrc, streams,
                      video ? streams.video_track_id : streams.audio_track_id);
  }
  add_candidates(answer, context.candidates);
  return answer;
}

SdpMedia rejected_section(const SdpMedia& offered) {
  SdpMedia answer;
  answer.kind = offered.kind;
  answer.port = 0;
  answer.protocol = offered.protocol;
  answer.formats = {offered.formats.empty() ? std::string("0") : offered.formats.front()};
  answer.connections = {proto::SdpConnection{}};
  if (auto mid = offered.mid()) {
    answer.attributes.add("mid", *mid);
  }
  return answer;
}

NegotiatedTrack track_for(const SdpMedia& offered, const SdpCodec& codec) {
  NegotiatedTrack track;
  track.mid = *offered.mid();
  track.payload_type = codec.payload_type;
  track.clock_rate = codec.clock_rate;
  track.channels = codec.channels;
  track.parameters = codec.parameters;
  if (codec.is("H264")) {
    track.h264_profile_level_id =
        proto::sdp_text::to_lower(codec.parameters.get("profile-level-id").value_or(""));
  }
  track.remote_ssrcs = offered.ssrc_ids();
  return track;
}

// Accepted mids with the offerer's BUNDLE tag (first mid of its group) first.
std::vector<std::string> bundle_order(const SessionDescription& offer,
                                      const NegotiatedMedia& media) {
  std::vector<std::string> accepted{media.video.mid};
  if (media.audio) {
    accepted.push_back(media.audio->mid);
  }
  std::vector<std::string> ordered;
  if (auto group = offer.bundle_group()) {
    for (const std::string& mid : group->mids) {
      if (std::find(accepted.begin(), accepted.end(), mid) != accepted.end()) {
        ordered.push_back(mid);
      }
    }
  }
  for (const std::string& mid : accepted) {
    if (std::find(ordered.begin(), ordered.end(), mid) == ordered.end()) {
      ordered.push_back(mid);
    }
  }
  return ordered;
}

// RFC 8842 §5.2: the answer's role must complement the offer's. As DTLS server we need an
// offer that connects (actpass or active); as DTLS client one that listens (actpass or passive).
Status check_setup(const RemoteTransport& remote, Role role, DtlsRole ours) {
  if (ours == DtlsRole::kClient) {
    if (remote.setup == proto::SdpSetup::kActive || remote.setup == proto::SdpSetup::kHoldconn) {
      return make_error(who(role) + " has a=setup:" + std::string(proto::to_string(*remote.setup)) +
                        "; this answerer is DTLS active, so the offer must say actpass or passive");
    }
    return Ok{};
  }
  if (remote.setup == proto::SdpSetup::kPassive || remote.setup == proto::SdpSetup::kHoldconn) {
    return make_error(who(role) + " has a=setup:" + std::string(proto::to_string(*remote.setup)) +
                      "; this server is DTLS passive, so the offer must say actpass or active");
  }
  return Ok{};
}

Result<Answer> build_answer(Context& context) {
  const SessionDescription& offer = context.offer;
  auto plan = plan_sections(offer, context.role);
  if (!plan) {
    return plan.error();
  }
  if (Status bundled = check_bundle(offer, *plan, context.role); !bundled) {
    return bundled.error();
  }
  Answer answer;
  answer.media.video = track_for(offer.media[*plan->video], *plan->codecs[*plan->video]);
  if (plan->audio) {
    answer.media.audio = track_for(offer.media[*plan->audio], *plan->codecs[*plan->audio]);
  }
  answer.media.bundle_mids = bundle_order(offer, answer.media);
  std::vector<const SdpMedia*> accepted{offer.find_media(answer.media.bundle_mids.front())};
  if (plan->audio) {
    accepted.push_back(offer.find_media(answer.media.bundle_mids.back()));
  }
  auto remote = remote_transport(offer, *accepted.front(), accepted, who(context.role));
  if (!remote) {
    return remote.error();
  }
  if (Status setup = check_setup(*remote, context.role, context.policy.dtls_role); !setup) {
    return setup.error();
  }
  answer.media.remote = std::move(*remote);

  SessionDescription& description = answer.description;
  description = new_description(context.local);
  description.attributes.add("ice-lite");
  if (offer.bundle_group()) {
    description.attributes.add("group",
                               proto::SdpGroup{"BUNDLE", answer.media.bundle_mids}.to_string());
  }
  if (context.streams) {
    description.attributes.add("msid-semantic", "WMS " + context.streams->stream_id);
  }
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    const SdpMedia& offered = offer.media[i];
    NegotiatedTrack* track = i == plan->video                     ? &answer.media.video
                             : (plan->audio && i == *plan->audio) ? &*answer.media.audio
                                                                  : nullptr;
    description.media.push_back(track ? accepted_section(context, offered, *plan->codecs[i], *track)
                                      : rejected_section(offered));
  }
  answer.sdp = proto::serialize_sdp(description);
  return answer;
}

Result<SessionDescription> parse_offer(std::string_view offer_sdp, Role role) {
  auto offer = proto::parse_sdp(offer_sdp);
  if (!offer) {
    return make_error("invalid SDP " + who(role) + ": " + offer.error().message);
  }
  return offer;
}

}  // namespace

Result<Answer> negotiate_ingest(const SessionDescription& offer, const LocalTransport& local,
                                const IngestPolicy& policy) {
  Context context{offer, local, policy, Role::kIngest, nullptr, host_candidates(local), {}};
  return build_answer(context);
}

Result<Answer> negotiate_ingest(std::string_view offer_sdp, const LocalTransport& local,
                                const IngestPolicy& policy) {
  auto offer = parse_offer(offer_sdp, Role::kIngest);
  if (!offer) {
    return offer.error();
  }
  return negotiate_ingest(*offer, local, policy);
}

Result<Answer> negotiate_whep(const SessionDescription& offer, const LocalTransport& local,
                              const OutgoingStreams& streams, const IngestPolicy& policy) {
  Context context{offer, local, policy, Role::kWhep, &streams, host_candidates(local), {}};
  return build_answer(context);
}

Result<Answer> negotiate_whep(std::string_view offer_sdp, const LocalTransport& local,
                              const OutgoingStreams& streams, const IngestPolicy& policy) {
  auto offer = parse_offer(offer_sdp, Role::kWhep);
  if (!offer) {
    return offer.error();
  }
  return negotiate_whep(*offer, local, streams, policy);
}

}  // namespace ivs::engine
