// The relay's added forwarding delay as a histogram (issue 6: "ingest-to-send latency on
// /metrics"): per ingest RTP packet, the time from its receipt on the ingest socket to the moment
// every leg has handed its copy to the kernel. Exported as the Prometheus histogram
// `ivs_forward_delay_seconds`, so a benchmark (bench/fanout.py) or a production dashboard gets
// p50/p99 from bucket deltas without the server keeping samples.
//
// How the "sent" moment is found without a clock read per packet per leg: egress sessions flush
// their sockets from handlers they post to the io_context once per loop turn, and the
// io_context runs posted handlers in order. ForwardDelayProbe collects the arrival instants of
// the ingest packets of a turn and posts ONE handler after the relay has fanned them out; when
// it runs, every flush posted before it has run, so one clock read closes all of them.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "proto/time.hpp"

namespace ivs::app {

class ForwardDelayHistogram {
 public:
  // Upper bounds in seconds (the +Inf bucket is implicit): 50 µs … 250 ms.
  static constexpr std::array<double, 12> kUpperBounds = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25};

  void observe(Duration delay);

  // Per bucket, not cumulative; the last one is +Inf.
  const std::array<std::uint64_t, kUpperBounds.size() + 1>& counts() const { return counts_; }
  double sum_seconds() const { return sum_seconds_; }
  std::uint64_t count() const { return count_; }
  // Adds another histogram's observations (a media worker's, to the channel's).
  void merge(const ForwardDelayHistogram& other);

 private:
  std::array<std::uint64_t, kUpperBounds.size() + 1> counts_{};
  double sum_seconds_ = 0;
  std::uint64_t count_ = 0;
};

class ForwardDelayProbe {
 public:
  // `post` queues a handler behind the ones already posted (asio::post on the one-thread
  // io_context); `clock` reads the monotonic clock when that handler runs.
  ForwardDelayProbe(std::function<void(std::function<void()>)> post,
                    std::function<Instant()> clock);

  // An ingest packet that arrived at `arrival` has just been fanned out.
  void forwarded(Instant arrival);
  // A copy, safe to take from another thread than the probe's (the status of a media worker's
  // shard is read on the main thread).
  ForwardDelayHistogram histogram() const;

 private:
  void close_turn();

  std::function<void(std::function<void()>)> post_;
  std::function<Instant()> clock_;
  std::vector<Instant> pending_;
  bool posted_ = false;
  mutable std::mutex mutex_;  // guards histogram_: written once per loop turn, read by status
  ForwardDelayHistogram histogram_;
};

}  // namespace ivs::app
