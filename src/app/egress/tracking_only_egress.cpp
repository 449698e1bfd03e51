#include "app/egress/tracking_only_egress.hpp"

#include <boost/asio/post.hpp>

namespace ivs::app {

namespace {

class TrackingOnlySession final : public EgressSession {
 public:
  TrackingOnlySession(boost::asio::io_context& io, EgressCallbacks callbacks)
      : io_(io), alive_(std::make_shared<bool>(true)) {
    // Reported on the next turn of the loop, never from inside open() (egress_session.hpp).
    std::weak_ptr<bool> alive = alive_;
    boost::asio::post(io_, [alive, on_connected = std::move(callbacks.on_connected)] {
      if (alive.lock() && on_connected) {
        on_connected(false, kTrackingOnlyNote);
      }
    });
  }
  ~TrackingOnlySession() override { *alive_ = false; }

  void close(std::function<void()> done) override {
    alive_ = std::make_shared<bool>(false);  // nothing fires after close
    boost::asio::post(io_, std::move(done));
  }

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<bool> alive_;
};

}  // namespace

std::unique_ptr<EgressSession> TrackingOnlyEgress::open(EgressTarget target,
                                                        EgressCallbacks callbacks) {
  (void)target;  // nothing is sent, so neither the token nor the URL is used
  return std::make_unique<TrackingOnlySession>(io_, std::move(callbacks));
}

}  // namespace ivs::app
