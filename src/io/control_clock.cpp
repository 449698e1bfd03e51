#include "io/control_clock.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "io/clock.hpp"

namespace ivs::io {

namespace {

class SteadyControlTimer final : public ControlTimer {
 public:
  explicit SteadyControlTimer(boost::asio::io_context& io) : timer_(io) {}
  ~SteadyControlTimer() override { cancel(); }
  SteadyControlTimer(const SteadyControlTimer&) = delete;
  SteadyControlTimer& operator=(const SteadyControlTimer&) = delete;

  void arm(Instant deadline, std::function<void()> handler) override {
    // A generation number, not only cancel(): a completion already queued when the timer was
    // re-armed or cancelled reports success, and must not run the new handler early.
    const std::uint64_t generation = ++generation_;
    handler_ = std::move(handler);
    timer_.expires_at(deadline);
    timer_.async_wait([this, generation, alive = std::weak_ptr<bool>(alive_)](
                          const boost::system::error_code& error) {
      if (error || alive.expired() || generation != generation_) {
        return;
      }
      auto handler = std::move(handler_);
      handler_ = nullptr;
      if (handler) {
        handler();
      }
    });
  }

  void cancel() override {
    ++generation_;
    handler_ = nullptr;
    timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  std::function<void()> handler_;
  std::uint64_t generation_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

Instant SteadyControlClock::now() const {
  return monotonic_now();
}

std::unique_ptr<ControlTimer> SteadyControlClock::make_timer() {
  return std::make_unique<SteadyControlTimer>(io_);
}

}  // namespace ivs::io
