// Media workers (DESIGN.md §4): MEDIA_WORKERS event loops, one thread each, that run the stage
// legs: each worker hosts a fan-out shard of the serve role's relay (worker_shard.hpp), the
// transports of the WHIP egress sessions whose legs it feeds (worker_egress.hpp), and the legs
// of connected WHEP viewers (worker_viewers.hpp). The control plane, the WHIP ingest, the egress
// signalling and the viewers' sessions (ICE, DTLS, their RTCP) stay on the main io_context.
//
// Why: with one thread the last of N stages got its copy of a burst ~N × B × (cost per packet)
// after the first, and that thread was the limit while the machine had cores to spare
// (docs/architecture.md, bench/README.md). Legs are independent once the ingest side has turned
// a packet into an immutable RelayPacket, so they spread over cores with no locks on the packet
// path: a worker only reads the shared packet.
//
// MEDIA_WORKERS=1 starts no thread: the legs stay on the main io_context, as before workers.
// Threads are pinned to no core; the kernel places them.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace ivs::app {

class MediaWorkers {
 public:
  // `count` <= 1: no worker threads (threaded() is false).
  explicit MediaWorkers(std::size_t count);
  ~MediaWorkers();
  MediaWorkers(const MediaWorkers&) = delete;
  MediaWorkers& operator=(const MediaWorkers&) = delete;

  bool threaded() const { return !workers_.empty(); }
  std::size_t size() const { return workers_.size(); }
  boost::asio::io_context& io(std::size_t index) { return workers_[index]->io; }

  // The worker with the fewest egress sessions; the caller counts its session in with
  // add_session. Sessions, not attached legs: a burst of stages opened at once is spread
  // before any of them has connected.
  std::size_t least_loaded() const;
  void add_session(std::size_t index) { ++workers_[index]->sessions; }
  void remove_session(std::size_t index) { --workers_[index]->sessions; }

  // Stops every loop and joins the threads; pending handlers are dropped unrun. Must run before
  // anything the handlers reference is destroyed. Idempotent.
  void stop();

  // What MEDIA_WORKERS defaults to: the number of cores, at least 1.
  static std::size_t default_count();

 private:
  struct Worker {
    boost::asio::io_context io{1};  // one thread runs it: no locking inside Asio
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard =
        boost::asio::make_work_guard(io);
    std::atomic<std::size_t> sessions{0};
    std::thread thread;
  };
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace ivs::app
