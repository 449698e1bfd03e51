// The owner of the egress transports of one thread (egress_transport.hpp): a media worker's
// shard, or the main loop's factory with MEDIA_WORKERS=1. Signalling halves on the control
// thread name their transport by an id from next_id() and post every call here.
//
// Why a host rather than each signalling half owning its transport: a transport must be created,
// driven and destroyed on its own thread (its socket and timers belong to that io_context), and
// destroyed before the relay fan-out it feeds. The host lives on that thread, is destroyed with
// (and before) the fan-out, and takes whatever transports are left with it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "app/egress/egress_media_source.hpp"
#include "app/egress/egress_session.hpp"
#include "app/egress/egress_transport.hpp"

namespace ivs::app {

// A session's media figures, copied on the transport's thread and read on the control thread.
class EgressStatsBox {
 public:
  void set(const std::optional<EgressStats>& stats) {
    const std::lock_guard lock(mutex_);
    stats_ = stats;
  }
  std::optional<EgressStats> get() const {
    const std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  mutable std::mutex mutex_;
  std::optional<EgressStats> stats_;
};

class EgressTransportHost {
 public:
  // `media` feeds every transport hosted here; both live on `io`'s thread.
  EgressTransportHost(boost::asio::io_context& io, EgressMediaSource& media);
  EgressTransportHost(const EgressTransportHost&) = delete;
  EgressTransportHost& operator=(const EgressTransportHost&) = delete;
  ~EgressTransportHost();

  boost::asio::io_context& io() { return io_; }
  EgressMediaSource& media() { return media_; }
  // Any thread: a fresh id for a transport about to be hosted.
  std::uint64_t next_id() { return next_id_.fetch_add(1); }
  // Expires when the host is destroyed. Commands posted to the host's loop check it first: with
  // MEDIA_WORKERS=1 that loop (the main one) may run on after the factory owning the host went.
  std::weak_ptr<const void> lifetime() const { return lifetime_; }

  // On the host's thread. `box` gets the transport's stats every 500 ms.
  void host(std::uint64_t id, std::unique_ptr<EgressTransport> transport,
            std::shared_ptr<EgressStatsBox> box);
  EgressTransport* hosted(std::uint64_t id);
  void drop(std::uint64_t id);
  std::size_t size() const { return transports_.size(); }

 private:
  void schedule_sampling();

  boost::asio::io_context& io_;
  EgressMediaSource& media_;
  std::atomic<std::uint64_t> next_id_{1};
  boost::asio::steady_timer sample_timer_;
  bool sampling_ = false;
  struct Hosted {
    std::unique_ptr<EgressTransport> transport;
    std::shared_ptr<EgressStatsBox> box;
  };
  std::map<std::uint64_t, Hosted> transports_;
  std::shared_ptr<const int> lifetime_ = std::make_shared<const int>(0);
};

}  // namespace ivs::app
