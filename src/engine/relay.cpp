// engine::Relay: the single-threaded composition of the ingest side (relay_ingest.hpp) and one
// fan-out shard (relay_fanout.hpp). See relay.hpp for the design and docs/relay.md for the
// behaviour in prose.
#include "engine/relay.hpp"

#include "engine/relay_fanout.hpp"
#include "engine/relay_ingest.hpp"

namespace ivs::engine {

struct Relay::Impl {
  explicit Impl(RelayConfig config) : ingest(config), fanout(config) {}

  // The shard's legs asked for a keyframe: the ingest side's limiter decides when it goes out.
  void forward_keyframe_wanted(Instant now) {
    if (fanout.take_keyframe_wanted()) {
      ingest.request_keyframe(now);
    }
  }

  RelayIngest ingest;
  RelayFanout fanout;
};

Relay::Relay(RelayConfig config) : impl_(std::make_unique<Impl>(config)) {}
Relay::~Relay() = default;

void Relay::start_publisher(Instant now, const RelaySourceFormat& format, RelaySink& feedback) {
  impl_->ingest.start_publisher(now, format, feedback);
  impl_->fanout.start_source(format);
}

void Relay::stop_publisher(Instant /*now*/) {
  impl_->ingest.stop_publisher();
  impl_->fanout.stop_source();
}

bool Relay::has_publisher() const {
  return impl_->ingest.live();
}

RelayPacketPtr Relay::handle_publisher_rtp(Instant now, MediaKind kind, ByteSpan packet) {
  RelayPacketPtr accepted = impl_->ingest.handle_rtp(now, kind, packet);
  if (accepted) {
    impl_->fanout.handle_packet(now, accepted);
    impl_->forward_keyframe_wanted(now);
  }
  return accepted;
}

void Relay::handle_publisher_rtcp(Instant now, std::span<const proto::RtcpPacket> packets) {
  impl_->ingest.handle_rtcp(now, packets);
}

void Relay::switch_video_ssrc(std::uint32_t ssrc) {
  impl_->ingest.switch_video_ssrc(ssrc);
}

void Relay::request_keyframe(Instant now) {
  impl_->ingest.request_keyframe(now);
}

const RelaySourceFormat& Relay::source_format() const {
  return impl_->ingest.format();
}

EgressId Relay::add_egress(Instant now, const RelayEgressFormat& format, RelaySink& sink) {
  const EgressId id = impl_->fanout.add_egress(now, format, sink);
  impl_->forward_keyframe_wanted(now);
  return id;
}

void Relay::remove_egress(EgressId id) {
  impl_->fanout.remove_egress(id);
}

void Relay::handle_egress_rtcp(Instant now, EgressId id,
                               std::span<const proto::RtcpPacket> packets) {
  impl_->fanout.handle_egress_rtcp(now, id, packets);
  impl_->forward_keyframe_wanted(now);
}

std::size_t Relay::egress_count() const {
  return impl_->fanout.egress_count();
}

void Relay::handle_timeout(Instant now) {
  impl_->ingest.handle_timeout(now);
  impl_->fanout.handle_timeout(now);
}

std::optional<Instant> Relay::poll_timeout() const {
  auto ingest = impl_->ingest.poll_timeout();
  auto fanout = impl_->fanout.poll_timeout();
  if (ingest && fanout) {
    return std::min(*ingest, *fanout);
  }
  return ingest ? ingest : fanout;
}

std::optional<RelayEvent> Relay::poll_event() {
  return impl_->ingest.poll_event();
}

RelaySourceStats Relay::source_stats() const {
  return impl_->ingest.stats();
}

std::optional<RelayEgressStats> Relay::egress_stats(EgressId id) const {
  return impl_->fanout.egress_stats(id);
}

}  // namespace ivs::engine
