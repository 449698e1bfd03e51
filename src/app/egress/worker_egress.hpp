// WHIP egress sessions that run on media workers (media_workers.hpp): the EgressFactory the
// StageManager uses when MEDIA_WORKERS > 1. Each session is a whole WhipEgressSession (HTTP
// signalling, socket, ICE, DTLS, SRTP, the leg) hosted by one worker's shard (worker_shard.hpp);
// the StageManager holds a proxy on the main thread that speaks the EgressSession contract.
//
//   StageManager ─open─► proxy ─post─► worker: WhipEgressSession(shard as its media source)
//                ◄─on_connected / on_failed──post── (only while the proxy lives and is not closing)
//                ─close(done)─► post ─► session.close(...) ─► drop ─post─► done() on the main
//                thread
//   stats() ◄── EgressStatsBox, refreshed by the worker every 500 ms
//
// A new session goes to the worker with the fewest sessions. Its WHIP POST and DELETE run on that
// worker too: this is simpler than splitting signalling from transport across threads, and the
// control thread is not on the packet path either way.
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>
#include <vector>

#include "app/egress/egress_session.hpp"
#include "app/egress/whip_egress.hpp"
#include "app/relay/media_workers.hpp"
#include "app/relay/worker_shard.hpp"

namespace ivs::app {

// `shards[i]` runs on `workers.io(i)`; both outlive the factory and every session it opened
// (the workers are stopped before the shards are destroyed).
std::unique_ptr<EgressFactory> make_worker_egress_factory(boost::asio::io_context& io,
                                                          MediaWorkers& workers,
                                                          std::vector<WorkerShard*> shards,
                                                          WhipEgressOptions options);

}  // namespace ivs::app
