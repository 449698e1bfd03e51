// One WHIP egress session (RFC 9725 client) toward one stage: the signalling half, on the control
// thread, driving a transport half (egress_transport.hpp) hosted on the thread whose relay shard
// feeds it. Made by the factories in whip_egress.cpp (MEDIA_WORKERS=1: the transport on the same
// loop) and worker_egress.cpp (on the least-loaded media worker). See docs/whip-egress.md.
//
//   start ─post─► transport: socket, offer ─► POST (307/308 followed) ─► 201? ─► [resolve STUN]
//     ─► transport: answer, ICE, DTLS ─► on_connected
//   any step failing ─► on_failed("<stage>: <reason>"), the transport closed, the resource
//   DELETEd; no retry here (the StageReconciler owns retries and backoff).
//   close ─► transport: leg detached ─► DELETE (timeout) ─► transport: close_notify, socket
//   closed ─► done
//
// Why callbacks are posted: the StageManager destroys a failed session from inside on_failed,
// and may call close() from on_connected; posting keeps our own stack frames out of the way
// (EgressSession contract: no re-entrancy). A shared `alive_` flag, read on the control thread
// only, makes every posted handler, transport event and HTTP completion a no-op once the
// session is gone.
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "app/egress/egress_session.hpp"
#include "app/egress/egress_transport.hpp"
#include "app/egress/egress_transport_host.hpp"
#include "io/http_client.hpp"

namespace ivs::app {

class WhipEgressSession final : public EgressSession {
 public:
  // `io` is the control thread's loop; `host` may run on another thread (or the same one).
  // `released` runs once, on the control thread, when the session is closed or destroyed (the
  // factory's load count).
  WhipEgressSession(boost::asio::io_context& io, EgressTransportHost& host,
                    EgressTransportSpec spec, EgressTarget target, EgressCallbacks callbacks,
                    std::function<void()> released = {});
  ~WhipEgressSession() override;

  void close(std::function<void()> done) override;
  std::optional<EgressStats> stats() const override { return box_->get(); }

  // What the session learned, for tests and logs.
  const std::string& resource_url() const { return resource_url_; }
  const std::string& etag() const { return etag_; }
  std::optional<SocketAddress> stun_server() const { return stun_server_; }

 private:
  enum class Phase { kStarting, kPosting, kResolving, kConnecting, kConnected };

  EgressTransportEvents transport_events();
  void on_offer(std::string sdp);
  void on_post_response(Result<io::HttpClient::Response> response);
  void resolve_stun(const io::HttpClient::Response& response);
  void answer_transport(std::string body, std::string from_url);
  void on_transport_connected();
  void fail(const std::string& reason);
  void send_delete(std::function<void()> done);
  void release_once();
  // Runs `call` on the host's thread unless the host is gone by then.
  void on_host(std::function<void(EgressTransportHost&)> call);
  // Runs `call` on the transport's thread, with the transport, unless it is gone by then.
  void to_transport(std::function<void(EgressTransport&)> call);
  // The transport closed and dropped on its thread, then `done` back here (if still alive).
  void close_transport(std::function<void()> done);
  // Runs `handler` on the next turn of the control loop unless the session is gone by then.
  void post(std::function<void()> handler);

  boost::asio::io_context& io_;
  EgressTransportHost& host_;
  std::uint64_t transport_id_;
  WhipEgressOptions options_;
  EgressTarget target_;
  EgressCallbacks callbacks_;
  std::function<void()> released_;
  io::HttpClient http_;
  std::shared_ptr<EgressStatsBox> box_ = std::make_shared<EgressStatsBox>();
  Phase phase_ = Phase::kStarting;
  bool failed_ = false;
  bool closing_ = false;
  bool transport_closed_ = false;
  std::function<void()> close_done_;  // set while close() waits for the POST to finish
  std::string resource_url_;
  std::string etag_;
  std::optional<SocketAddress> stun_server_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ivs::app
