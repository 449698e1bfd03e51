#include "app/egress/worker_egress.hpp"

#include "app/egress/egress_identity.hpp"
#include "app/egress/whip_egress_session.hpp"
#include "io/clock.hpp"

namespace ivs::app {
namespace {

class WorkerEgressFactory final : public EgressFactory {
 public:
  WorkerEgressFactory(boost::asio::io_context& io, MediaWorkers& workers,
                      std::vector<WorkerShard*> shards, WhipEgressOptions options)
      : io_(io), workers_(workers), shards_(std::move(shards)), options_(std::move(options)) {
    // One send path per worker: its transports' sockets are flushed together once per turn, and
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
    workers_.add_session(worker);
    EgressTransportSpec spec{options_, std::move(identity.certificate), std::move(identity.context),
                             send_paths_[worker], target.stage_arn};
    return std::make_unique<WhipEgressSession>(
        io_, shards_[worker]->transports(), std::move(spec), std::move(target),
        std::move(callbacks), [&workers = workers_, worker] { workers.remove_session(worker); });
  }

  std::string mode() const override { return "whip"; }

 private:
  boost::asio::io_context& io_;
  MediaWorkers& workers_;
  std::vector<WorkerShard*> shards_;
  WhipEgressOptions options_;
  std::vector<EgressSendPath> send_paths_;  // one per shard, same index
  EgressIdentity identity_;
};

}  // namespace

std::unique_ptr<EgressFactory> make_worker_egress_factory(boost::asio::io_context& io,
                                                          MediaWorkers& workers,
                                                          std::vector<WorkerShard*> shards,
                                                          WhipEgressOptions options) {
  return std::make_unique<WorkerEgressFactory>(io, workers, std::move(shards), std::move(options));
}

}  // namespace ivs::app
