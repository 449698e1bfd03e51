#include "app/egress/egress_transport_host.hpp"

namespace ivs::app {
namespace {

constexpr auto kStatsSampleInterval = std::chrono::milliseconds(500);

}  // namespace

EgressTransportHost::EgressTransportHost(boost::asio::io_context& io, EgressMediaSource& media)
    : io_(io), media_(media), sample_timer_(io) {}

// The transports go first: each detaches its leg from the media source, which outlives us.
EgressTransportHost::~EgressTransportHost() {
  transports_.clear();
}

void EgressTransportHost::host(std::uint64_t id, std::unique_ptr<EgressTransport> transport,
                               std::shared_ptr<EgressStatsBox> box) {
  transports_[id] = Hosted{std::move(transport), std::move(box)};
  schedule_sampling();
}

EgressTransport* EgressTransportHost::hosted(std::uint64_t id) {
  const auto found = transports_.find(id);
  return found == transports_.end() ? nullptr : found->second.transport.get();
}

void EgressTransportHost::drop(std::uint64_t id) {
  transports_.erase(id);
}

// Copies every hosted transport's stats into its box, every 500 ms while there are transports.
void EgressTransportHost::schedule_sampling() {
  if (sampling_) {
    return;
  }
  sampling_ = true;
  sample_timer_.expires_after(kStatsSampleInterval);
  sample_timer_.async_wait([this](const boost::system::error_code& error) {
    sampling_ = false;
    if (error) {
      return;
    }
    for (auto& [id, hosted] : transports_) {
      hosted.box->set(hosted.transport->stats());
    }
    if (!transports_.empty()) {
      schedule_sampling();
    }
  });
}

}  // namespace ivs::app
