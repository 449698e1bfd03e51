#include "io/engine_timer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "io/clock.hpp"
#include "io/control_clock.hpp"

namespace ivs::io {

namespace asio = boost::asio;

// One of the two: an Asio timer on the steady clock, or a ControlClock's timer.
struct EngineTimer::Impl {
  explicit Impl(asio::io_context& io) : steady(std::in_place, io) {}
  explicit Impl(ControlClock& clock) : clock(&clock), control(clock.make_timer()) {}
  std::optional<asio::steady_timer> steady;
  ControlClock* clock = nullptr;
  std::unique_ptr<ControlTimer> control;
};

EngineTimer::EngineTimer(asio::io_context& io, TimeoutHandler on_timeout)
    : impl_(std::make_unique<Impl>(io)),
      on_timeout_(std::move(on_timeout)),
      self_(std::make_shared<EngineTimer*>(this)) {}

EngineTimer::EngineTimer(ControlClock& clock, TimeoutHandler on_timeout)
    : impl_(std::make_unique<Impl>(clock)),
      on_timeout_(std::move(on_timeout)),
      self_(std::make_shared<EngineTimer*>(this)) {}

EngineTimer::~EngineTimer() {
  self_.reset();
  if (impl_->steady) {
    impl_->steady->cancel();
  }
  // A ControlTimer drops its handler when it is destroyed, with impl_.
}

void EngineTimer::rearm(std::optional<Instant> deadline) {
  if (deadline == deadline_) {
    return;
  }
  deadline_ = deadline;
  // A new generation makes any handler of the previous expiry that is already queued (and so
  // can no longer be cancelled) return without firing.
  const std::uint64_t generation = ++generation_;
  if (impl_->control) {
    if (!deadline) {
      impl_->control->cancel();
      return;
    }
    // Arming replaces the pending handler, and the ControlTimer is destroyed with this object,
    // so the handler may hold `this`: two words, kept inside std::function without allocating.
    impl_->control->arm(*deadline, [this, generation] { fire(generation); });
    return;
  }
  impl_->steady->cancel();
  if (!deadline) {
    return;
  }
  // Instant is steady_clock::time_point, the same clock steady_timer runs on.
  impl_->steady->expires_at(*deadline);
  impl_->steady->async_wait(
      [weak = std::weak_ptr<EngineTimer*>(self_), generation](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (!self || ec == asio::error::operation_aborted) {
          return;
        }
        (*self)->fire(generation);
      });
}

void EngineTimer::fire(std::uint64_t generation) {
  if (generation != generation_ || !deadline_) {
    return;
  }
  deadline_.reset();
  ++fired_count_;
  const Instant now = impl_->clock ? impl_->clock->now() : monotonic_now();
  // The handler may destroy this timer: touch nothing after the call.
  on_timeout_(now);
}

}  // namespace ivs::io
