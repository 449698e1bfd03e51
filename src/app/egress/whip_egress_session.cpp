// WhipEgressSession: the signalling half of a WHIP egress session (whip_egress_session.hpp).
#include "app/egress/whip_egress_session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>

#include "app/egress/whip_client_requests.hpp"
#include "app/egress/whip_egress_link.hpp"
#include "io/redact.hpp"
#include "proto/text.hpp"

namespace ivs::app {
namespace {
namespace asio = boost::asio;
}  // namespace

WhipEgressSession::WhipEgressSession(asio::io_context& io, EgressTransportHost& host,
                                     EgressTransportSpec spec, EgressTarget target,
                                     EgressCallbacks callbacks, std::function<void()> released)
    : io_(io),
      host_(host),
      transport_id_(host.next_id()),
      options_(spec.options),
      target_(std::move(target)),
      callbacks_(std::move(callbacks)),
      released_(std::move(released)),
      http_(io) {
  spec.stage_arn = target_.stage_arn;
  // Nothing may report from inside open(): the transport starts on its own thread, and its offer
  // comes back here as a posted event.
  on_host([id = transport_id_, box = box_, spec = std::move(spec),
           events = transport_events()](EgressTransportHost& host) {
    auto transport = std::make_unique<EgressTransport>(host.io(), host.media(), spec, events);
    EgressTransport& started = *transport;
    host.host(id, std::move(transport), box);
    started.start();
  });
}

WhipEgressSession::~WhipEgressSession() {
  *alive_ = false;
  release_once();
  if (!transport_closed_) {
    // Destroyed without close(): the transport goes abruptly, on its own thread.
    on_host([id = transport_id_](EgressTransportHost& host) { host.drop(id); });
  }
}

void WhipEgressSession::post(std::function<void()> handler) {
  asio::post(io_, [alive = std::weak_ptr<bool>(alive_), handler = std::move(handler)]() mutable {
    if (auto flag = alive.lock(); flag && *flag) {
      handler();
    }
  });
}

void WhipEgressSession::on_host(std::function<void(EgressTransportHost&)> call) {
  asio::post(host_.io(), [host = &host_, lifetime = host_.lifetime(), call = std::move(call)] {
    if (lifetime.lock()) {
      call(*host);
    }
  });
}

void WhipEgressSession::to_transport(std::function<void(EgressTransport&)> call) {
  on_host([id = transport_id_, call = std::move(call)](EgressTransportHost& host) {
    if (EgressTransport* transport = host.hosted(id)) {
      call(*transport);
    }
  });
}

void WhipEgressSession::close_transport(std::function<void()> done) {
  transport_closed_ = true;
  on_host([id = transport_id_, &io = io_, alive = alive_,
           done = std::move(done)](EgressTransportHost& host) {
    if (EgressTransport* transport = host.hosted(id)) {
      transport->close();
      host.drop(id);
    }
    if (done) {
      asio::post(io, [alive, done] {
        // The owner may have let go of the session meanwhile; then nobody waits.
        if (*alive) {
          done();
        }
      });
    }
  });
}

// Each event is carried to the control thread and dropped there if the session is gone. The
// `alive` flag is copied on the transport's thread but read only here.
EgressTransportEvents WhipEgressSession::transport_events() {
  EgressTransportEvents events;
  events.on_offer = [this, &io = io_, alive = alive_](std::string sdp) {
    asio::post(io, [this, alive, sdp = std::move(sdp)]() mutable {
      if (*alive) {
        on_offer(std::move(sdp));
      }
    });
  };
  events.on_connected = [this, &io = io_, alive = alive_] {
    asio::post(io, [this, alive] {
      if (*alive) {
        on_transport_connected();
      }
    });
  };
  events.on_failed = [this, &io = io_, alive = alive_](std::string reason) {
    asio::post(io, [this, alive, reason = std::move(reason)] {
      if (*alive) {
        fail(reason);
      }
    });
  };
  return events;
}

// ---- signalling ---------------------------------------------------------------------------

void WhipEgressSession::on_offer(std::string sdp) {
  if (closing_ || failed_) {
    return;
  }
  io::HttpClient::Request request =
      sdp_offer_request(target_.whip_url, target_.token, std::move(sdp), options_.request_timeout);
  request.max_redirects = options_.max_redirects;
  phase_ = Phase::kPosting;
  http_.request(std::move(request),
                [this, alive = std::weak_ptr<bool>(alive_)](Result<io::HttpClient::Response> r) {
                  if (auto flag = alive.lock(); flag && *flag) {
                    on_post_response(std::move(r));
                  }
                });
}

void WhipEgressSession::on_post_response(Result<io::HttpClient::Response> response) {
  if (response && response->status == 201) {
    resource_url_ = resource_url_of(*response);
    etag_ = response->header("etag").value_or("");
  }
  if (closing_) {
    // close() came while the POST was in flight: undo what the endpoint may have created.
    auto done = std::move(close_done_);
    send_delete(std::move(done));
    return;
  }
  if (!response) {
    fail("WHIP POST " + target_.whip_url + ": " + response.error().message);
    return;
  }
  if (response->status != 201) {
    std::string reason =
        "WHIP POST " + target_.whip_url + " answered HTTP " + std::to_string(response->status);
    if (const std::string line = proto::text::first_line(response->body); !line.empty()) {
      reason += ": " + line;
    }
    fail(reason);
    return;
  }
  if (resource_url_.empty()) {
    spdlog::warn("WHIP egress to stage {}: the 201 has no Location; DELETE will not be possible",
                 target_.stage_arn);
  }
  spdlog::debug("WHIP egress to stage {}: 201 from {}, resource {}", target_.stage_arn,
                io::redact_url(response->final_url), io::redact_url(resource_url_));
  resolve_stun(*response);
}

// The Link header's first STUN server (RFC 9725 §4.6), resolved here on the control thread so
// that a slow DNS answer never holds a media worker.
void WhipEgressSession::resolve_stun(const io::HttpClient::Response& response) {
  const auto stun = first_stun_server(response.headers_named("link"));
  if (stun) {
    stun_server_ = SocketAddress::from_ip(stun->host, stun->port);
  }
  if (!stun || stun_server_) {
    answer_transport(response.body, response.final_url);
    return;
  }
  phase_ = Phase::kResolving;
  auto resolver = std::make_shared<asio::ip::udp::resolver>(io_);
  resolver->async_resolve(
      asio::ip::udp::v4(), stun->host, std::to_string(stun->port),
      [this, resolver, host = stun->host, body = response.body, url = response.final_url,
       alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& error,
                                            const asio::ip::udp::resolver::results_type& results) {
        auto flag = alive.lock();
        if (!flag || !*flag || closing_ || failed_) {
          return;
        }
        if (!error && !results.empty()) {
          const auto endpoint = results.begin()->endpoint();
          stun_server_ = SocketAddress::from_ip(endpoint.address().to_string(), endpoint.port());
        } else {
          // Host candidates may still work: a STUN server is a help, not a requirement.
          spdlog::warn("WHIP egress to stage {}: STUN server {} did not resolve ({})",
                       target_.stage_arn, host, error.message());
        }
        answer_transport(body, url);
      });
}

void WhipEgressSession::answer_transport(std::string body, std::string from_url) {
  phase_ = Phase::kConnecting;
  to_transport([body = std::move(body), from_url = std::move(from_url), stun = stun_server_](
                   EgressTransport& transport) { transport.accept_answer(body, from_url, stun); });
}

void WhipEgressSession::on_transport_connected() {
  if (closing_ || failed_) {
    return;
  }
  phase_ = Phase::kConnected;
  // A copy: the owner may destroy this session (and callbacks_) from inside the call.
  if (auto on_connected = callbacks_.on_connected) {
    on_connected(true, "");
  }
}

// ---- failure and close --------------------------------------------------------------------

void WhipEgressSession::fail(const std::string& reason) {
  if (failed_ || closing_) {
    return;
  }
  failed_ = true;
  close_transport({});
  spdlog::warn("WHIP egress to stage {} failed: {}", target_.stage_arn, io::redact_urls(reason));
  if (!resource_url_.empty()) {
    // Fire and forget: the endpoint should not keep a ghost publisher until its own timeout.
    // The StageManager destroys us right after on_failed; HttpClient requests outlive that.
    send_delete([] {});
  }
  post([this, reason] {
    if (callbacks_.on_failed) {
      // A copy: the StageManager destroys the failed session (and callbacks_) from inside the
      // call, and the callback still uses its captures after that.
      auto on_failed = callbacks_.on_failed;
      on_failed(reason);
    }
  });
}

void WhipEgressSession::close(std::function<void()> done) {
  if (closing_ || failed_) {
    closing_ = true;
    release_once();
    post(std::move(done));
    return;
  }
  closing_ = true;
  release_once();
  if (phase_ == Phase::kStarting) {
    close_transport(std::move(done));  // no POST yet: nothing to DELETE
    return;
  }
  if (phase_ == Phase::kPosting) {
    // The endpoint may be creating the resource right now: wait for the answer (bounded by the
    // request timeout), then DELETE it.
    close_done_ = std::move(done);
    close_transport({});
    return;
  }
  // DELETE before the DTLS close_notify: an endpoint that ends the session on close_notify would
  // otherwise answer the DELETE with 404. The leg stops at once; the transport closes after.
  to_transport([](EgressTransport& transport) { transport.stop_media(); });
  if (resource_url_.empty()) {
    close_transport(std::move(done));
    return;
  }
  send_delete([this, done = std::move(done)]() mutable { close_transport(std::move(done)); });
}

void WhipEgressSession::release_once() {
  if (released_) {
    auto released = std::move(released_);
    released_ = nullptr;
    released();
  }
}

void WhipEgressSession::send_delete(std::function<void()> done) {
  if (resource_url_.empty()) {
    post(std::move(done));
    return;
  }
  io::HttpClient::Request request =
      resource_delete_request(resource_url_, target_.token, options_.request_timeout);
  const std::string url = resource_url_;
  const std::string stage = target_.stage_arn;
  resource_url_.clear();  // one DELETE per resource
  http_.request(std::move(request), [alive = std::weak_ptr<bool>(alive_), url, stage,
                                     done = std::move(done)](Result<io::HttpClient::Response> r) {
    if (!r) {
      spdlog::warn("WHIP egress to stage {}: DELETE {}: {}", stage, io::redact_url(url),
                   io::redact_urls(r.error().message));
    } else if (r->status >= 300) {
      spdlog::warn("WHIP egress to stage {}: DELETE {} answered HTTP {}", stage,
                   io::redact_url(url), r->status);
    } else {
      spdlog::debug("WHIP egress to stage {}: DELETE {} -> {}", stage, io::redact_url(url),
                    r->status);
    }
    if (auto flag = alive.lock(); flag && *flag && done) {
      done();
    }
  });
}

}  // namespace ivs::app
