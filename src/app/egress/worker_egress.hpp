// WHIP egress sessions whose transports run on media workers (media_workers.hpp): the
// EgressFactory the StageManager uses when MEDIA_WORKERS > 1. Each session's signalling half
// (whip_egress_session.hpp: the POST, redirects, STUN resolution, DELETE) stays on the main
// thread; its transport half (egress_transport.hpp: socket, ICE, DTLS, SRTP, the leg) is hosted
// by one worker's shard (worker_shard.hpp) and driven by posted commands:
//
//   StageManager ─open─► WhipEgressSession ─post─► worker: EgressTransport (shard as its media
//                ◄─on_connected / on_failed──┘◄──post── offer / connected / failed   source)
//   stats() ◄── EgressStatsBox, refreshed by the worker every 500 ms
//
// A new session goes to the worker with the fewest sessions. Why the HTTP stays on the main
// thread: a stage's POST (a TLS handshake to IVS, DNS, redirects) and its DELETE are control
// work, and on a worker they held up every leg that worker feeds.
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
