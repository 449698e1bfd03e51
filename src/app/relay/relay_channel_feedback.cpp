// RelayChannel: congestion-control feedback toward the live publisher (transport-cc feedback
// and the REMB cap; engine/ingest_congestion_feedback.hpp says what is sent when). The channel's
// one timer serves the relay and this feedback: next_timeout() is the earlier of the two.
#include <spdlog/spdlog.h>

#include "app/relay/relay_channel.hpp"
#include "app/relay/relay_channel_session.hpp"

namespace ivs::app {

std::unique_ptr<engine::IngestCongestionFeedback> RelayChannel::make_congestion_feedback(
    const engine::NegotiatedMedia& media) const {
  engine::IngestCongestionConfig config;
  config.sender_ssrc = options_.relay.receiver_ssrc;
  config.max_bitrate_bps = options_.ingest_max_bitrate_bps;
  auto feedback = std::make_unique<engine::IngestCongestionFeedback>(media, config);
  const auto stats = feedback->stats();
  spdlog::info("[{}] publisher feedback: transport-cc {}, REMB cap {}", options_.name,
               stats.transport_feedback ? "on" : "off (not negotiated)",
               stats.remb ? std::to_string(config.max_bitrate_bps / 1000) + " kbit/s"
                          : std::string("off (only with transport-cc and goog-remb)"));
  return feedback;
}

void RelayChannel::send_publisher_feedback(Instant now) {
  if (!publisher_) {
    return;
  }
  if (Session* session = find(*publisher_); session && session->congestion) {
    session->congestion->handle_timeout(now, *session->sink);
  }
}

std::optional<Instant> RelayChannel::next_timeout() {
  std::optional<Instant> deadline = relay_.poll_timeout();
  if (!publisher_) {
    return deadline;
  }
  if (Session* session = find(*publisher_); session && session->congestion) {
    const auto feedback_at = session->congestion->poll_timeout();
    if (feedback_at && (!deadline || *feedback_at < *deadline)) {
      deadline = feedback_at;
    }
  }
  return deadline;
}

}  // namespace ivs::app
