#include "app/egress/worker_egress.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "app/egress/egress_identity.hpp"
#include "app/egress/whip_egress_session.hpp"
#include "io/clock.hpp"

namespace ivs::app {
namespace {

// The StageManager's handle on a session hosted by a worker. Lives on the main thread; every
// call into the session is posted to the worker, every callback out of it posted back.
class WorkerEgressSession final : public EgressSession {
 public:
  WorkerEgressSession(boost::asio::io_context& io, MediaWorkers& workers, std::size_t worker,
                      WorkerShard& shard, std::uint64_t id)
      : io_(io), workers_(workers), worker_(worker), shard_(shard), id_(id) {
    workers_.add_session(worker_);
  }

  ~WorkerEgressSession() override {
    *alive_ = false;
    if (!closing_) {
      // Destroyed without close(): closed abruptly, on its own thread.
      boost::asio::post(shard_.io(), [shard = &shard_, id = id_] { shard->drop(id); });
      workers_.remove_session(worker_);
    }
  }

  // Creates the real session on the worker.
  void open(const WhipEgressOptions& options, EgressIdentity::Current identity, EgressTarget target,
            EgressCallbacks callbacks, EgressSendPath send_path) {
    // These run on the worker: they copy what they need and touch the proxy only back on the
    // main thread, once `alive` says it still exists.
    // Each callback, called on the worker, runs back on the main thread with copies of its
    // arguments unless the proxy is gone or closing by then.
    auto on_main_thread = [&io = io_, alive = alive_, self = this](auto callback) {
      return [&io, alive, self, callback = std::move(callback)](const auto&... args) {
        boost::asio::post(io, [alive, self, callback, args...] {
          if (*alive && !self->closing_ && callback) {
            callback(args...);
          }
        });
      };
    };
    EgressCallbacks relayed;
    relayed.on_connected = on_main_thread(std::move(callbacks.on_connected));
    relayed.on_failed = on_main_thread(std::move(callbacks.on_failed));
    boost::asio::post(
        shard_.io(), [shard = &shard_, id = id_, box = box_, options,
                      identity = std::move(identity), target = std::move(target),
                      relayed = std::move(relayed), send_path = std::move(send_path)]() mutable {
          auto session = std::make_unique<WhipEgressSession>(
              shard->io(), *shard, options, std::move(identity.certificate), std::move(target),
              std::move(relayed), std::move(identity.context), std::move(send_path));
          shard->host(id, std::move(session), std::move(box));
        });
  }

  void close(std::function<void()> done) override {
    if (closing_) {
      return;
    }
    closing_ = true;
    auto finished = [&io = io_, alive = alive_, done = std::move(done)] {
      boost::asio::post(io, [alive, done] {
        // The contract says done runs exactly once; the StageManager may have let go of the
        // proxy meanwhile, and then nobody waits for it.
        if (*alive && done) {
          done();
        }
      });
    };
    boost::asio::post(shard_.io(), [shard = &shard_, id = id_, finished] {
      EgressSession* session = shard->hosted(id);
      if (session == nullptr) {
        finished();
        return;
      }
      session->close([shard, id, finished] {
        // Not from inside the session's own call stack: it is destroyed here.
        boost::asio::post(shard->io(), [shard, id, finished] {
          shard->drop(id);
          finished();
        });
      });
    });
    workers_.remove_session(worker_);
  }

  std::optional<EgressStats> stats() const override { return box_->get(); }

 private:
  boost::asio::io_context& io_;
  MediaWorkers& workers_;
  std::size_t worker_;
  WorkerShard& shard_;
  std::uint64_t id_;
  std::shared_ptr<EgressStatsBox> box_ = std::make_shared<EgressStatsBox>();
  // Read and written on the main thread only; the worker merely copies the pointer.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool closing_ = false;
};

class WorkerEgressFactory final : public EgressFactory {
 public:
  WorkerEgressFactory(boost::asio::io_context& io, MediaWorkers& workers,
                      std::vector<WorkerShard*> shards, WhipEgressOptions options)
      : io_(io), workers_(workers), shards_(std::move(shards)), options_(std::move(options)) {
    // One send path per worker: its sessions' sockets are flushed together once per turn, and
    // their queued datagrams share the worker's slot pool.
    for (WorkerShard* shard : shards_) {
      send_paths_.push_back(EgressSendPath::create(shard->io(), options_.send_batching));
    }
  }

  std::unique_ptr<EgressSession> open(EgressTarget target, EgressCallbacks callbacks) override {
    // One identity for every session, on every worker (egress_identity.hpp): the certificate
    // and the OpenSSL context are immutable and safe to share across threads.
    auto identity = identity_.current(io::wall_now());
    const std::size_t worker = workers_.least_loaded();
    auto session =
        std::make_unique<WorkerEgressSession>(io_, workers_, worker, *shards_[worker], next_id_++);
    session->open(options_, std::move(identity), std::move(target), std::move(callbacks),
                  send_paths_[worker]);
    return session;
  }

  std::string mode() const override { return "whip"; }

 private:
  boost::asio::io_context& io_;
  MediaWorkers& workers_;
  std::vector<WorkerShard*> shards_;
  WhipEgressOptions options_;
  std::vector<EgressSendPath> send_paths_;  // one per shard, same index
  EgressIdentity identity_;
  std::uint64_t next_id_ = 1;
};

}  // namespace

std::unique_ptr<EgressFactory> make_worker_egress_factory(boost::asio::io_context& io,
                                                          MediaWorkers& workers,
                                                          std::vector<WorkerShard*> shards,
                                                          WhipEgressOptions options) {
  return std::make_unique<WorkerEgressFactory>(io, workers, std::move(shards), std::move(options));
}

}  // namespace ivs::app
