// engine::RelayIngest, toward the publisher: keyframe requests (RFC 4585 §6.3.1 PLI, RFC 5104
// §4.3.1 FIR), generic NACKs (RFC 4585 §6.2.1), receiver reports (RFC 3550 §6.4.2), and the
// timers that drive them.
#include "engine/relay_ingest.hpp"

namespace ivs::engine {

void RelayIngest::request_keyframe(Instant now) {
  if (!live_) {
    return;
  }
  if (keyframe_limiter_.request(now)) {
    send_keyframe_request(now);
  }
}

void RelayIngest::send_keyframe_request(Instant now) {
  if (feedback_ == nullptr) {
    return;
  }
  std::optional<std::uint32_t> media_ssrc;
  if (video_.stream.active()) {
    media_ssrc = video_.stream.ssrc();
  } else if (!format_.video.remote_ssrcs.empty()) {
    media_ssrc = format_.video.remote_ssrcs.front();
  }
  if (!media_ssrc) {
    // Nothing to address it to yet: ask once the first video packet names the SSRC.
    keyframe_wanted_without_ssrc_ = true;
    return;
  }
  rtcp_scratch_.clear();
  if (format_.video.feedback.pli) {
    proto::RtcpPli{config_.receiver_ssrc, *media_ssrc}.append_to(rtcp_scratch_);
  } else if (format_.video.feedback.fir) {
    proto::RtcpFir fir{config_.receiver_ssrc, 0, {{*media_ssrc, fir_sequence_++}}};
    fir.append_to(rtcp_scratch_);
  } else {
    return;
  }
  keyframe_limiter_.mark_sent(now);
  ++stats_.keyframe_requests_sent;
  feedback_->send_rtcp(rtcp_scratch_);
}

void RelayIngest::send_due_nacks(Instant now, RelaySourceTrack& track) {
  nack_scratch_.clear();
  stats_.packets_lost += track.nacks.collect_due(now, nack_scratch_);
  if (nack_scratch_.empty() || !track.nack_enabled || feedback_ == nullptr) {
    return;
  }
  const auto nack = proto::RtcpNack::from_sequence_numbers(config_.receiver_ssrc,
                                                           track.stream.ssrc(), nack_scratch_);
  rtcp_scratch_.clear();
  nack.append_to(rtcp_scratch_);
  ++stats_.nacks_sent;
  feedback_->send_rtcp(rtcp_scratch_);
}

void RelayIngest::send_receiver_report(Instant now) {
  proto::RtcpReceiverReport report;
  report.sender_ssrc = config_.receiver_ssrc;
  for (RelaySourceTrack* track : {&video_, &audio_}) {
    if (track->present && track->stream.active()) {
      report.report_blocks.push_back(track->stream.make_report_block(now));
    }
  }
  if (report.report_blocks.empty() || feedback_ == nullptr) {
    return;
  }
  rtcp_scratch_.clear();
  report.append_to(rtcp_scratch_);
  proto::RtcpSdes sdes;
  sdes.chunks.push_back({config_.receiver_ssrc, {{proto::sdes_item::kCname, "ivs-media-server"}}});
  sdes.append_to(rtcp_scratch_);
  feedback_->send_rtcp(rtcp_scratch_);
}

void RelayIngest::handle_timeout(Instant now) {
  if (!live_) {
    return;
  }
  if (next_receiver_report_at_ && now >= *next_receiver_report_at_) {
    send_receiver_report(now);
    *next_receiver_report_at_ += config_.receiver_report_interval;
    if (*next_receiver_report_at_ <= now) {
      *next_receiver_report_at_ = now + config_.receiver_report_interval;
    }
  }
  send_due_nacks(now, video_);
  send_due_nacks(now, audio_);
  if (keyframe_limiter_.take_due(now)) {
    send_keyframe_request(now);
  }
}

std::optional<Instant> RelayIngest::poll_timeout() const {
  if (!live_) {
    return std::nullopt;
  }
  std::optional<Instant> earliest = next_receiver_report_at_;
  for (std::optional<Instant> deadline :
       {video_.nacks.next_deadline(), audio_.nacks.next_deadline(),
        keyframe_limiter_.next_deadline()}) {
    if (deadline && (!earliest || *deadline < *earliest)) {
      earliest = deadline;
    }
  }
  return earliest;
}

}  // namespace ivs::engine
