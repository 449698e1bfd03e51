#include "engine/relay_leg.hpp"

#include <algorithm>
#include <type_traits>

namespace ivs::engine {
namespace {

std::uint8_t extension_id(const std::optional<std::uint16_t>& id) {
  return id && *id > 0 && *id < 256 ? static_cast<std::uint8_t>(*id) : 0;
}

// Maps one extension URI: the ingest id goes out as the leg's id, or is dropped when the leg
// did not negotiate the URI.
void map_extension(proto::RtpExtensionIdMap& map, const std::optional<std::uint16_t>& ingest,
                   const std::optional<std::uint16_t>& leg) {
  const std::uint8_t from = extension_id(ingest);
  if (from != 0) {
    map.set(from, extension_id(leg));
  }
}

// RFC 3550 §5.1 recommends random initial values; the engine has no random source here, so a
// mix of the leg's SSRC (itself random) serves: distinct legs start in distinct places.
std::uint64_t mix(std::uint64_t value) {
  value += 0x9E3779B97F4A7C15ULL;
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
  return value ^ (value >> 31);
}

// Ticks of a clock_rate clock in `elapsed`, never negative.
std::uint32_t ticks(Duration elapsed, std::uint32_t clock_rate) {
  const std::int64_t micros = std::max<std::int64_t>(0, to_micros(elapsed));
  return static_cast<std::uint32_t>(micros * static_cast<std::int64_t>(clock_rate) / 1000000);
}

// abs-send-time (webrtc.org http-header-extension abs-send-time): 6.18 fixed-point seconds.
std::uint32_t abs_send_time(Instant now) {
  const std::int64_t micros = to_micros(now.time_since_epoch());
  const std::uint64_t seconds = static_cast<std::uint64_t>(micros / 1000000);
  const std::uint64_t fraction = (static_cast<std::uint64_t>(micros % 1000000) << 18) / 1000000;
  return static_cast<std::uint32_t>(((seconds << 18) | fraction) & 0xFFFFFF);
}

}  // namespace

LegStreamConfig make_leg_stream_config(const NegotiatedTrack& ingest, const RelayTrackFormat& leg,
                                       std::size_t history_packets) {
  LegStreamConfig config;
  config.ssrc = leg.ssrc;
  config.payload_type = leg.payload_type;
  config.clock_rate = ingest.clock_rate == 0 ? 90000 : ingest.clock_rate;
  config.history_packets = history_packets;
  const NegotiatedExtensions& in = ingest.extensions;
  const NegotiatedExtensions& out = leg.extensions;
  map_extension(config.extension_map, in.mid, out.mid);
  map_extension(config.extension_map, in.abs_send_time, out.abs_send_time);
  // The publisher's transport-wide numbers mean nothing on the leg's transport; they are only
  // kept (for the session to restamp) when the leg negotiated transport-cc.
  map_extension(config.extension_map, in.transport_cc, out.transport_cc);
  map_extension(config.extension_map, in.rtp_stream_id, out.rtp_stream_id);
  map_extension(config.extension_map, in.repaired_rtp_stream_id, out.repaired_rtp_stream_id);
  if (out.mid) {
    config.ingest_mid_id = extension_id(in.mid);
    config.mid = leg.mid;
  }
  if (out.abs_send_time) {
    config.ingest_abs_send_time_id = extension_id(in.abs_send_time);
  }
  return config;
}

LegStream::LegStream(LegStreamConfig config, const IngestHistory& ingest, Bytes& scratch)
    : config_(std::move(config)),
      ingest_(&ingest),
      scratch_(&scratch),
      history_(config_.history_packets) {
  const std::uint64_t seed = mix(config_.ssrc);
  last_sequence_ = static_cast<std::uint16_t>(seed);
  last_timestamp_ = static_cast<std::uint32_t>(seed >> 32);
}

void LegStream::start(std::uint32_t generation, std::uint16_t first_sequence,
                      std::uint32_t first_timestamp, Instant first_arrival) {
  std::uint16_t next_sequence = last_sequence_;
  std::uint32_t next_timestamp = last_timestamp_;
  if (any_sent_) {
    next_sequence = static_cast<std::uint16_t>(last_sequence_ + 1);
    next_timestamp =
        last_timestamp_ +
        std::max<std::uint32_t>(1, ticks(first_arrival - last_timestamp_at_, config_.clock_rate));
  }
  sequence_offset_ = static_cast<std::uint16_t>(next_sequence - first_sequence);
  timestamp_offset_ = next_timestamp - first_timestamp;
  generation_ = generation;
  started_ = true;
}

MutableByteSpan LegStream::rewrite(const proto::RtpView& view, const LegStreamConfig& config,
                                   std::uint16_t sequence, std::uint32_t timestamp,
                                   std::uint32_t stamp) const {
  // assign() keeps the capacity: after the first packets the shared buffer never reallocates.
  scratch_->assign(view.packet.begin(), view.packet.end());
  MutableByteSpan packet(*scratch_);
  proto::set_rtp_ssrc(packet, config.ssrc);
  proto::set_rtp_payload_type(packet, config.payload_type);
  proto::set_rtp_sequence_number(packet, sequence);
  proto::set_rtp_timestamp(packet, timestamp);
  if (!view.has_rfc8285_extensions()) {
    return packet;
  }
  if (config.ingest_mid_id != 0) {
    MutableByteSpan mid = proto::mutable_rtp_extension(packet, view, config.ingest_mid_id);
    if (mid.size() == config.mid.size()) {
      std::copy(config.mid.begin(), config.mid.end(), mid.begin());
    } else if (!mid.empty()) {
      // A different length would change the packet size; the leg's SDP carries the mid anyway.
      proto::drop_rtp_extension(packet, view, config.ingest_mid_id);
    }
  }
  if (config.ingest_abs_send_time_id != 0) {
    MutableByteSpan field =
        proto::mutable_rtp_extension(packet, view, config.ingest_abs_send_time_id);
    if (field.size() == 3) {
      write_u24(field.data(), stamp);
    }
  }
  proto::remap_rtp_extension_ids(packet, view, config.extension_map);
  return packet;
}

std::size_t LegStream::send(Instant now, const proto::RtpView& view, IngestKey ingest,
                            Instant arrival, RelaySink& sink) {
  const auto sequence = static_cast<std::uint16_t>(view.sequence_number + sequence_offset_);
  const std::uint32_t timestamp = view.timestamp + timestamp_offset_;
  const std::uint32_t stamp = config_.ingest_abs_send_time_id != 0 ? abs_send_time(now) : 0;
  MutableByteSpan packet = rewrite(view, config_, sequence, timestamp, stamp);
  history_.record(sequence, ingest, timestamp, stamp, config_epoch_);
  if (!any_sent_ || proto::is_newer_sequence_number(sequence, last_sequence_)) {
    last_sequence_ = sequence;
  }
  if (!any_sent_ || proto::is_newer_timestamp(timestamp, last_timestamp_)) {
    last_timestamp_ = timestamp;
    last_timestamp_at_ = arrival;
  }
  any_sent_ = true;
  ++packet_count_;
  octet_count_ += static_cast<std::uint32_t>(view.payload_size);
  sink.send_rtp(packet);
  return packet.size();
}

bool LegStream::resend(std::uint16_t sequence_number, RelaySink& sink) {
  const auto entry = history_.find(sequence_number);
  if (!entry) {
    return false;
  }
  const LegStreamConfig* config = nullptr;
  if (entry->config_epoch() == config_epoch_) {
    config = &config_;
  } else if (previous_config_ && entry->config_epoch() == ((config_epoch_ - 1) & 0x7F)) {
    config = &*previous_config_;
  } else {
    return false;  // sent two or more publisher switches ago
  }
  const ByteSpan original = ingest_->find(entry->ingest());
  if (original.empty()) {
    return false;  // the shared slot holds a newer ingest packet now
  }
  auto view = proto::parse_rtp(original);
  if (!view) {
    return false;  // cannot happen: only parsed packets are stored
  }
  sink.send_rtp(rewrite(*view, *config, sequence_number, entry->timestamp, entry->abs_send_time()));
  return true;
}

void LegStream::reconfigure(LegStreamConfig config) {
  config.history_packets = config_.history_packets;
  previous_config_ = std::move(config_);
  config_ = std::move(config);
  config_epoch_ = (config_epoch_ + 1) & 0x7F;
}

proto::RtcpSenderReport LegStream::sender_report(Instant now, std::uint64_t ntp_now) const {
  proto::RtcpSenderReport report;
  report.sender_ssrc = config_.ssrc;
  report.ntp_timestamp = ntp_now;
  report.rtp_timestamp = last_timestamp_ + ticks(now - last_timestamp_at_, config_.clock_rate);
  report.packet_count = packet_count_;
  report.octet_count = octet_count_;
  return report;
}

RelayLeg::RelayLeg(EgressId id, const RelaySourceFormat& source, const RelayEgressFormat& format,
                   RelaySink& sink, const RelayConfig& config, LegShared shared, Instant now)
    : id_(id),
      sink_(&sink),
      format_(format),
      shared_(shared),
      video_(make_leg_stream_config(source.video, format.video, config.video_history_packets),
             *shared.video, *shared.scratch),
      next_sender_report_at_(now + config.sender_report_interval) {
  if (format.audio && source.audio) {
    audio_.emplace(
        make_leg_stream_config(*source.audio, *format.audio, config.audio_history_packets),
        *shared_.audio, *shared_.scratch);
  }
}

std::size_t RelayLeg::history_memory_bytes() const {
  return video_.history_memory_bytes() + (audio_ ? audio_->history_memory_bytes() : 0);
}

void RelayLeg::bind_source(const RelaySourceFormat& source, const RelayConfig& config) {
  video_.reconfigure(
      make_leg_stream_config(source.video, format_.video, config.video_history_packets));
  if (format_.audio && source.audio) {
    auto audio_config =
        make_leg_stream_config(*source.audio, *format_.audio, config.audio_history_packets);
    if (audio_) {
      audio_->reconfigure(std::move(audio_config));
    } else {
      audio_.emplace(std::move(audio_config), *shared_.audio, *shared_.scratch);
    }
  }
}

LegStream* RelayLeg::stream_for(std::uint32_t ssrc) {
  if (video_.config().ssrc == ssrc) {
    return &video_;
  }
  if (audio_ && audio_->config().ssrc == ssrc) {
    return &*audio_;
  }
  return nullptr;
}

void RelayLeg::handle_nack(const proto::RtcpNack& nack) {
  ++stats_.nacks_received;
  LegStream* stream = stream_for(nack.media_ssrc);
  if (stream == nullptr) {
    return;
  }
  for (const auto& item : nack.items) {
    for (int bit = -1; bit < 16; ++bit) {
      if (bit >= 0 && (item.lost_bitmask & (1u << bit)) == 0) {
        continue;
      }
      const auto sequence = static_cast<std::uint16_t>(item.packet_id + bit + 1);
      if (stream->resend(sequence, *sink_)) {
        ++stats_.packets_retransmitted;
      } else {
        ++stats_.retransmissions_missed;
      }
    }
  }
}

void RelayLeg::handle_report_blocks(std::span<const proto::RtcpReportBlock> blocks,
                                    std::uint64_t ntp_now) {
  for (const auto& block : blocks) {
    if (stream_for(block.ssrc) == nullptr) {
      continue;
    }
    stats_.fraction_lost = block.fraction_lost / 256.0;
    stats_.cumulative_lost = block.cumulative_lost;
    if (block.last_sender_report == 0) {
      continue;
    }
    // RFC 3550 §6.4.1: RTT = A − LSR − DLSR, in 1/65536 s, with A the arrival time.
    const auto arrival = static_cast<std::uint32_t>(ntp_now >> 16);
    const auto rtt = static_cast<std::int32_t>(arrival - block.last_sender_report -
                                               block.delay_since_last_sender_report);
    if (rtt >= 0) {
      stats_.rtt_ms = rtt * 1000.0 / 65536.0;
    }
  }
}

bool RelayLeg::handle_rtcp(Instant /*now*/, std::uint64_t ntp_now,
                           std::span<const proto::RtcpPacket> packets) {
  bool wants_keyframe = false;
  for (const auto& packet : packets) {
    if (const auto* nack = std::get_if<proto::RtcpNack>(&packet)) {
      handle_nack(*nack);
    } else if (std::holds_alternative<proto::RtcpPli>(packet)) {
      ++stats_.plis_received;
      wants_keyframe = true;
    } else if (std::holds_alternative<proto::RtcpFir>(packet)) {
      ++stats_.firs_received;
      wants_keyframe = true;
    } else if (const auto* rr = std::get_if<proto::RtcpReceiverReport>(&packet)) {
      handle_report_blocks(rr->report_blocks, ntp_now);
    } else if (const auto* sr = std::get_if<proto::RtcpSenderReport>(&packet)) {
      handle_report_blocks(sr->report_blocks, ntp_now);
    }
  }
  return wants_keyframe;
}

bool RelayLeg::send_sender_reports_if_due(Instant now, std::uint64_t ntp_now, Duration interval,
                                          Bytes& scratch) {
  if (now < next_sender_report_at_) {
    return false;
  }
  next_sender_report_at_ += interval;
  if (next_sender_report_at_ <= now) {
    next_sender_report_at_ = now + interval;
  }
  scratch.clear();
  proto::RtcpSdes sdes;
  for (LegStream* stream : {&video_, audio()}) {
    if (stream == nullptr || !stream->has_sent()) {
      continue;
    }
    stream->sender_report(now, ntp_now).append_to(scratch);
    sdes.chunks.push_back({stream->config().ssrc, {{proto::sdes_item::kCname, format_.cname}}});
  }
  if (scratch.empty()) {
    return false;
  }
  sdes.append_to(scratch);
  sink_->send_rtcp(scratch);
  return true;
}

}  // namespace ivs::engine
