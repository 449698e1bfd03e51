// engine::Relay, toward the publisher: keyframe requests (RFC 4585 §6.3.1 PLI, RFC 5104
// §4.3.1 FIR), generic NACKs (RFC 4585 §6.2.1), receiver reports (RFC 3550 §6.4.2), and the
// timers that drive them and the legs' sender reports.
#include "engine/relay_impl.hpp"

namespace ivs::engine {

void Relay::Impl::request_keyframe(Instant now) {
  if (!live) {
    return;
  }
  if (keyframe_limiter.request(now)) {
    send_keyframe_request(now);
  }
}

void Relay::Impl::send_keyframe_request(Instant now) {
  if (feedback == nullptr) {
    return;
  }
  std::optional<std::uint32_t> media_ssrc;
  if (video.stream.active()) {
    media_ssrc = video.stream.ssrc();
  } else if (!format.video.remote_ssrcs.empty()) {
    media_ssrc = format.video.remote_ssrcs.front();
  }
  if (!media_ssrc) {
    // Nothing to address it to yet: ask once the first video packet names the SSRC.
    keyframe_wanted_without_ssrc = true;
    return;
  }
  rtcp_scratch.clear();
  if (format.video.feedback.pli) {
    proto::RtcpPli{config.receiver_ssrc, *media_ssrc}.append_to(rtcp_scratch);
  } else if (format.video.feedback.fir) {
    proto::RtcpFir fir{config.receiver_ssrc, 0, {{*media_ssrc, fir_sequence++}}};
    fir.append_to(rtcp_scratch);
  } else {
    return;
  }
  keyframe_limiter.mark_sent(now);
  ++stats.keyframe_requests_sent;
  feedback->send_rtcp(rtcp_scratch);
}

void Relay::Impl::send_due_nacks(Instant now, RelaySourceTrack& track) {
  nack_scratch.clear();
  stats.packets_lost += track.nacks.collect_due(now, nack_scratch);
  if (nack_scratch.empty() || !track.nack_enabled || feedback == nullptr) {
    return;
  }
  const auto nack = proto::RtcpNack::from_sequence_numbers(config.receiver_ssrc,
                                                           track.stream.ssrc(), nack_scratch);
  rtcp_scratch.clear();
  nack.append_to(rtcp_scratch);
  ++stats.nacks_sent;
  feedback->send_rtcp(rtcp_scratch);
}

void Relay::Impl::send_receiver_report(Instant now) {
  proto::RtcpReceiverReport report;
  report.sender_ssrc = config.receiver_ssrc;
  for (RelaySourceTrack* track : {&video, &audio}) {
    if (track->present && track->stream.active()) {
      report.report_blocks.push_back(track->stream.make_report_block(now));
    }
  }
  if (report.report_blocks.empty() || feedback == nullptr) {
    return;
  }
  rtcp_scratch.clear();
  report.append_to(rtcp_scratch);
  proto::RtcpSdes sdes;
  sdes.chunks.push_back({config.receiver_ssrc, {{proto::sdes_item::kCname, "ivs-media-server"}}});
  sdes.append_to(rtcp_scratch);
  feedback->send_rtcp(rtcp_scratch);
}

void Relay::Impl::handle_timeout(Instant now) {
  if (live) {
    if (next_receiver_report_at && now >= *next_receiver_report_at) {
      send_receiver_report(now);
      *next_receiver_report_at += config.receiver_report_interval;
      if (*next_receiver_report_at <= now) {
        *next_receiver_report_at = now + config.receiver_report_interval;
      }
    }
    send_due_nacks(now, video);
    send_due_nacks(now, audio);
    if (keyframe_limiter.take_due(now)) {
      send_keyframe_request(now);
    }
  }
  if (next_sender_report_at && now >= *next_sender_report_at) {
    const std::uint64_t ntp_now = ntp_at(now);
    for (auto& leg : legs) {
      leg->send_sender_reports_if_due(now, ntp_now, config.sender_report_interval, rtcp_scratch);
    }
    recompute_sender_report_deadline();
  }
}

void Relay::Impl::recompute_sender_report_deadline() {
  next_sender_report_at.reset();
  for (const auto& leg : legs) {
    if (!next_sender_report_at || leg->next_sender_report_at() < *next_sender_report_at) {
      next_sender_report_at = leg->next_sender_report_at();
    }
  }
}

std::optional<Instant> Relay::Impl::poll_timeout() const {
  std::optional<Instant> earliest = next_sender_report_at;
  auto consider = [&earliest](std::optional<Instant> deadline) {
    if (deadline && (!earliest || *deadline < *earliest)) {
      earliest = deadline;
    }
  };
  if (live) {
    consider(next_receiver_report_at);
    consider(video.nacks.next_deadline());
    consider(audio.nacks.next_deadline());
    consider(keyframe_limiter.next_deadline());
  }
  return earliest;
}

}  // namespace ivs::engine
