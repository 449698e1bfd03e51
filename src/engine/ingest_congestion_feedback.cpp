#include "engine/ingest_congestion_feedback.hpp"

#include "proto/rtp_packet.hpp"

namespace ivs::engine {
namespace {

bool agreed_transport_cc(const NegotiatedTrack& track) {
  return track.extensions.transport_cc.has_value() && track.feedback.transport_cc;
}

// The extension id to read sequence numbers from on this track: any m-section that negotiated
// the extension carries transport-wide numbers, even one whose codec did not list the rtcp-fb.
std::optional<std::uint8_t> sequence_extension_id(const NegotiatedTrack& track) {
  const auto id = track.extensions.transport_cc;
  if (!id || *id == 0 || *id > 255) {
    return std::nullopt;
  }
  return static_cast<std::uint8_t>(*id);
}

}  // namespace

IngestCongestionFeedback::IngestCongestionFeedback(const NegotiatedMedia& media,
                                                   IngestCongestionConfig config) {
  const bool audio_transport_cc = media.audio && agreed_transport_cc(*media.audio);
  if (agreed_transport_cc(media.video) || audio_transport_cc) {
    video_extension_id_ = sequence_extension_id(media.video);
    if (media.audio) {
      audio_extension_id_ = sequence_extension_id(*media.audio);
    }
    TransportFeedbackConfig transport;
    transport.sender_ssrc = config.sender_ssrc;
    transport.interval = config.feedback_interval;
    transport_.emplace(transport);
  }
  const bool audio_remb = media.audio && media.audio->feedback.remb;
  // The cap only goes with transport-cc (see the header): a REMB-only sender would take it as
  // its target.
  if (transport_ && (media.video.feedback.remb || audio_remb)) {
    remb_.emplace(RembCapConfig{config.sender_ssrc, config.max_bitrate_bps, config.remb_interval});
  }
}

void IngestCongestionFeedback::on_rtp(Instant arrival, MediaKind kind, ByteSpan packet) {
  if (!active()) {
    return;
  }
  auto view = proto::parse_rtp(packet);
  if (!view) {
    return;  // the relay counts malformed packets
  }
  if (remb_) {
    remb_->on_packet(arrival, view->ssrc);
  }
  if (!transport_) {
    return;
  }
  const auto id = kind == MediaKind::kAudio ? audio_extension_id_ : video_extension_id_;
  if (!id) {
    return;  // this m-section did not negotiate the extension: its packets are not numbered
  }
  const auto sequence = view->extension(*id);
  if (!sequence || sequence->size() < 2) {
    ++packets_without_sequence_;
    return;
  }
  const auto number = static_cast<std::uint16_t>(((*sequence)[0] << 8) | (*sequence)[1]);
  transport_->on_packet(arrival, number, view->ssrc);
}

std::optional<Instant> IngestCongestionFeedback::poll_timeout() const {
  std::optional<Instant> earliest;
  if (transport_) {
    earliest = transport_->poll_timeout();
  }
  if (remb_) {
    const auto remb_at = remb_->poll_timeout();
    if (remb_at && (!earliest || *remb_at < *earliest)) {
      earliest = remb_at;
    }
  }
  return earliest;
}

void IngestCongestionFeedback::handle_timeout(Instant now, RelaySink& publisher) {
  if (transport_) {
    transport_->handle_timeout(now);
    while (auto feedback = transport_->poll_feedback()) {
      scratch_.clear();
      feedback->append_to(scratch_);
      publisher.send_rtcp(scratch_);
      ++feedback_packets_sent_;
    }
  }
  if (remb_) {
    remb_->handle_timeout(now);
    if (auto remb = remb_->poll_remb()) {
      scratch_.clear();
      remb->append_to(scratch_);
      publisher.send_rtcp(scratch_);
    }
  }
}

IngestCongestionStats IngestCongestionFeedback::stats() const {
  IngestCongestionStats stats;
  stats.transport_feedback = transport_.has_value();
  stats.remb = remb_.has_value();
  stats.packets_without_sequence = packets_without_sequence_;
  stats.feedback_packets_sent = feedback_packets_sent_;
  stats.remb_packets_sent = remb_ ? remb_->sent() : 0;
  if (transport_) {
    stats.transport = transport_->stats();
  }
  return stats;
}

}  // namespace ivs::engine
