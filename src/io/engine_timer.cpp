#include "io/engine_timer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "io/clock.hpp"

namespace ivs::io {

namespace asio = boost::asio;

struct EngineTimer::Impl {
  explicit Impl(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
};

EngineTimer::EngineTimer(asio::io_context& io, TimeoutHandler on_timeout)
    : impl_(std::make_unique<Impl>(io)),
      on_timeout_(std::move(on_timeout)),
      self_(std::make_shared<EngineTimer*>(this)) {}

EngineTimer::~EngineTimer() {
  self_.reset();
  impl_->timer.cancel();
}

void EngineTimer::rearm(std::optional<Instant> deadline) {
  if (deadline == deadline_) {
    return;
  }
  deadline_ = deadline;
  // A new generation makes any handler of the previous expiry that is already queued (and so
  // can no longer be cancelled) return without firing.
  const std::uint64_t generation = ++generation_;
  impl_->timer.cancel();
  if (!deadline) {
    return;
  }
  // Instant is steady_clock::time_point, the same clock steady_timer runs on.
  impl_->timer.expires_at(*deadline);
  impl_->timer.async_wait(
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
  // The handler may destroy this timer: touch nothing after the call.
  on_timeout_(monotonic_now());
}

}  // namespace ivs::io
