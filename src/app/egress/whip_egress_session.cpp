#include "app/egress/whip_egress_session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>

#include "app/egress/client_ice.hpp"
#include "app/egress/whip_client_requests.hpp"
#include "app/egress/whip_egress_link.hpp"
#include "engine/ice_candidate.hpp"
#include "io/clock.hpp"
#include "io/local_addresses.hpp"
#include "io/redact.hpp"
#include "proto/text.hpp"

namespace ivs::app {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// The largest UDP payload of a 1,500-byte-MTU path (1,472) plus slack: an ingest packet that
// arrived over such a path still fits after the relay's rewrite and a 16-byte SRTP tag.
constexpr std::size_t kEgressDatagramBytes = 1536;
// The send slots one thread's sessions share: ~100 stages' GOP bursts (~550 packets each) queued
// in the same turn. Reserved address space only (96 MiB); what is resident follows what is
// queued at once, typically one turn's packets for every stage of the thread.
constexpr std::size_t kEgressSendPoolSlots = 65536;

std::string random_text(engine::RandomSource& random, std::size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (std::size_t i = 0; i < length; ++i) {
    out.push_back(kAlphabet[random.uniform(sizeof(kAlphabet) - 1)]);
  }
  return out;
}

// Non-zero and distinct: 0 is legal in RTP but confuses some receivers' bookkeeping.
std::uint32_t random_ssrc(engine::RandomSource& random, std::uint32_t other) {
  std::uint32_t ssrc = 0;
  while (ssrc == 0 || ssrc == other) {
    ssrc = random.next_u32();
  }
  return ssrc;
}

}  // namespace

EgressSendPath EgressSendPath::create(asio::io_context& io, io::SendBatching batching) {
  return {io::UdpSendBatch::create(io, batching),
          io::UdpSendSlotPool::create(kEgressSendPoolSlots, kEgressDatagramBytes)};
}

WhipEgressSession::WhipEgressSession(asio::io_context& io, EgressMediaSource& media,
                                     const WhipEgressOptions& options,
                                     std::shared_ptr<const engine::DtlsCertificate> certificate,
                                     EgressTarget target, EgressCallbacks callbacks,
                                     std::shared_ptr<const engine::DtlsContext> dtls_context,
                                     EgressSendPath send_path)
    : io_(io),
      media_(media),
      options_(options),
      certificate_(std::move(certificate)),
      dtls_context_(std::move(dtls_context)),
      target_(std::move(target)),
      callbacks_(std::move(callbacks)),
      http_(io),
      send_path_(std::move(send_path)),
      engine_timer_(io, [this](Instant now) { on_engine_timeout(now); }),
      connect_timer_(io),
      sample_timer_(io),
      alive_(std::make_shared<bool>(true)) {
  // Nothing may report from inside open(): the work starts on the next turn of the loop.
  post([this] { start(); });
}

WhipEgressSession::~WhipEgressSession() {
  *alive_ = false;
  if (leg_) {
    media_.detach(*leg_);
  }
  if (port_) {
    port_->close();
  }
}

void WhipEgressSession::post(std::function<void()> handler) {
  asio::post(io_, [alive = std::weak_ptr<bool>(alive_), handler = std::move(handler)]() mutable {
    if (auto flag = alive.lock(); flag && *flag) {
      handler();
    }
  });
}

// ---- setup --------------------------------------------------------------------------------

void WhipEgressSession::start() {
  if (closing_ || failed_) {
    return;
  }
  if (!certificate_) {
    fail("dtls: no certificate");
    return;
  }
  if (auto opened = open_socket(); !opened) {
    fail("udp: " + opened.error().message);
    return;
  }
  send_offer();
}

Status WhipEgressSession::open_socket() {
  auto bind = SocketAddress::from_ip(options_.bind_ip, 0);
  if (!bind) {
    return Error{"bind address '" + options_.bind_ip + "' is not an IP address"};
  }
  io::UdpPortOptions udp;
  udp.bind_address = *bind;
  // One socket per stage: modest buffers, so fifty stages do not pin hundreds of megabytes.
  udp.receive_buffer_bytes = 256 * 1024;
  udp.send_buffer_bytes = 1 << 20;
  // It receives only RTCP, STUN and DTLS: a few datagrams per wake.
  udp.receive_batch = 8;
  // The send queue must hold the GOP cache replayed when the stage joins, all queued before the
  // posted flush: ~550 packets for a 2 s GOP at 2.5 Mbit/s (bench/egress_memory_bench.cpp).
  // The slots come from the thread's pool (EgressSendPath) and go back as soon as they are sent.
  udp.send_queue_capacity = 1024;
  // A frame's packets to one stage leave as one GSO message (bench/README.md, "send path").
  udp.segmentation_offload = true;
  // Slots sized for what an egress carries, not the 2 KiB default: 1,024 of them are the cap
  // of a GOP burst.
  udp.max_datagram_bytes = kEgressDatagramBytes;
  udp.send_slot_pool = send_path_.slots;
  // With GSO a message carries a frame's run of datagrams, so 16 messages per sendmmsg hold a
  // loop turn's traffic; only the GOP burst at a stage's join takes a few more calls. The
  // default 64 would keep 3 KiB more of message headers per stage.
  udp.send_batch = 16;
  auto port = io::UdpPort::open(io_, udp);
  if (!port) {
    return port.error();
  }
  port_ = std::move(*port);
  port_->start([this](Instant now, const SocketAddress& from, ByteSpan bytes) {
    on_packet(now, from, bytes);
  });
  const SocketAddress bound = port_->local_address();
  local_.host_addresses = io::host_addresses_of(bound);
  if (local_.host_addresses.empty()) {
    return Error{"no local interface address to advertise"};
  }
  return Ok();
}

void WhipEgressSession::send_offer() {
  local_.ice = {random_.ice_chars(8), random_.ice_chars(24)};
  local_.fingerprint = proto::SdpFingerprint{certificate_->fingerprint().algorithm,
                                             certificate_->fingerprint().digest};
  local_.announced_ip = options_.announced_ip;
  local_.session_id = random_.next_u64() >> 2;
  streams_.video_ssrc = random_ssrc(random_, 0);
  streams_.audio_ssrc = random_ssrc(random_, streams_.video_ssrc);
  streams_.cname = random_text(random_, 16);
  engine::EgressOfferParams params;
  params.local = local_;
  params.streams = streams_;
  params.h264_profile_level_id = media_.h264_profile_level_id();
  offer_ = engine::make_egress_offer(params);

  io::HttpClient::Request request =
      sdp_offer_request(target_.whip_url, target_.token, offer_.sdp, options_.request_timeout);
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
  auto answer = engine::accept_egress_answer(offer_.description, response->body);
  if (!answer) {
    fail("WHIP answer from " + response->final_url + " unusable: " + answer.error().message);
    return;
  }
  answer_ = std::move(*answer);
  // The offer (its text and parsed form, several KiB) is not read again; a session lives for
  // hours, and at hundreds of stages per worker those KiB count against the per-stage memory.
  offer_ = {};
  spdlog::debug("WHIP egress to stage {}: 201 from {}, resource {}", target_.stage_arn,
                io::redact_url(response->final_url), io::redact_url(resource_url_));
  // The connect deadline covers STUN resolution, ICE and DTLS.
  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](auto error) {
    if (auto flag = alive.lock(); !error && flag && *flag && phase_ != Phase::kConnected) {
      std::string state = peer_ && peer_->ice_agent() ? "checking" : "not started";
      if (peer_ && peer_->remote_address()) {
        state = "ICE selected " + peer_->remote_address()->to_string() + ", DTLS unfinished";
      }
      fail("ICE/DTLS connect timed out after " + std::to_string(options_.connect_timeout.count()) +
           " ms (" + state + ")");
    }
  });
  prepare_ice(*response);
}

void WhipEgressSession::prepare_ice(const io::HttpClient::Response& response) {
  const auto stun = first_stun_server(response.headers_named("link"));
  if (!stun) {
    create_peer_session();
    return;
  }
  if (auto literal = SocketAddress::from_ip(stun->host, stun->port)) {
    stun_server_ = *literal;
    create_peer_session();
    return;
  }
  phase_ = Phase::kResolving;
  auto resolver = std::make_shared<asio::ip::udp::resolver>(io_);
  resolver->async_resolve(
      asio::ip::udp::v4(), stun->host, std::to_string(stun->port),
      [this, resolver, host = stun->host, alive = std::weak_ptr<bool>(alive_)](
          const boost::system::error_code& error,
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
        create_peer_session();
      });
}

void WhipEgressSession::create_peer_session() {
  engine::PeerSessionConfig config;
  config.dtls_role = answer_->dtls_role;
  config.certificate = certificate_;
  config.dtls_context = dtls_context_;
  config.remote_fingerprint = engine::DtlsFingerprint{answer_->media.remote.fingerprint.algorithm,
                                                      answer_->media.remote.fingerprint.digest};
  config.media.video_payload_type = answer_->media.video.payload_type;
  if (answer_->media.audio) {
    config.media.audio_payload_type = answer_->media.audio->payload_type;
  }
  auto ice = client_ice_from_answer(local_.ice, answer_->media, port_->local_address());
  if (!ice) {
    fail("WHIP: " + ice.error().message);
    return;
  }
  ice->agent.stun_server = stun_server_;
  auto session = engine::PeerSession::create_client(config, std::move(*ice), random_);
  if (!session) {
    fail("ICE/DTLS setup: " + session.error().message);
    return;
  }
  peer_ = std::move(*session);
  phase_ = Phase::kConnecting;
  const Instant now = io::monotonic_now();
  peer_->start(now);
  early_checks_.replay(*peer_, now);
  drain();
}

}  // namespace ivs::app
