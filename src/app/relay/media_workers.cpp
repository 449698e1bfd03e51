#include "app/relay/media_workers.hpp"

#include <spdlog/spdlog.h>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <string>

namespace ivs::app {

MediaWorkers::MediaWorkers(std::size_t count) {
  if (count <= 1) {
    return;
  }
  for (std::size_t i = 0; i < count; ++i) {
    auto worker = std::make_unique<Worker>();
    Worker& self = *worker;
    worker->thread = std::thread([&self, i] {
      // Named so top -H and perf show which thread is which.
      const std::string name = "media-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      try {
        self.io.run();
      } catch (const std::exception& error) {
        // A handler threw: nothing on the media path should, so say so loudly.
        spdlog::critical("media worker {} stopped: {}", i, error.what());
      }
    });
    workers_.push_back(std::move(worker));
  }
}

MediaWorkers::~MediaWorkers() {
  stop();
}

std::size_t MediaWorkers::least_loaded() const {
  std::size_t best = 0;
  for (std::size_t i = 1; i < workers_.size(); ++i) {
    if (workers_[i]->sessions < workers_[best]->sessions) {
      best = i;
    }
  }
  return best;
}

void MediaWorkers::stop() {
  for (auto& worker : workers_) {
    worker->guard.reset();
    worker->io.stop();
  }
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) {
      worker->thread.join();
    }
  }
}

// The cores this process may use: its CPU affinity, bounded by a cgroup v2 CPU quota
// (/sys/fs/cgroup/cpu.max, "max 100000" or "<quota> <period>"). A Kubernetes pod limited to two
// CPUs on a 64-core node gets 2, not 64.
std::size_t MediaWorkers::default_count() {
  std::size_t cores = std::thread::hardware_concurrency();
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    cores = static_cast<std::size_t>(CPU_COUNT(&set));
  }
  std::ifstream cpu_max("/sys/fs/cgroup/cpu.max");
  std::string quota;
  long long period = 0;
  long long quota_micros = 0;
  if (cpu_max >> quota >> period && period > 0 &&
      std::from_chars(quota.data(), quota.data() + quota.size(), quota_micros).ec == std::errc{}) {
    const long long limit = (quota_micros + period - 1) / period;
    cores = std::min<std::size_t>(cores, static_cast<std::size_t>(std::max(1LL, limit)));
  }
  return std::max<std::size_t>(1, cores);
}

}  // namespace ivs::app
