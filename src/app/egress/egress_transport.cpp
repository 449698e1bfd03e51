// EgressTransport, first half: socket, offer, answer, the client PeerSession. The running half
// (engine loop, relay leg, stats, close) is egress_transport_run.cpp.
#include "app/egress/egress_transport.hpp"

#include <spdlog/spdlog.h>

#include "app/egress/client_ice.hpp"
#include "io/clock.hpp"
#include "io/local_addresses.hpp"

namespace ivs::app {
namespace {

namespace asio = boost::asio;

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

EgressTransport::EgressTransport(asio::io_context& io, EgressMediaSource& media,
                                 EgressTransportSpec spec, EgressTransportEvents events)
    : io_(io),
      media_(media),
      spec_(std::move(spec)),
      events_(std::move(events)),
      engine_timer_(io, [this](Instant now) { on_engine_timeout(now); }),
      connect_timer_(io),
      sample_timer_(io),
      alive_(std::make_shared<bool>(true)) {}

EgressTransport::~EgressTransport() {
  *alive_ = false;
  if (leg_) {
    media_.detach(*leg_);
  }
  if (port_) {
    port_->close();
  }
}

void EgressTransport::start() {
  if (phase_ != Phase::kIdle) {
    return;
  }
  if (!spec_.certificate) {
    fail("dtls: no certificate");
    return;
  }
  if (auto opened = open_socket(); !opened) {
    fail("udp: " + opened.error().message);
    return;
  }
  make_offer();
}

Status EgressTransport::open_socket() {
  auto bind = SocketAddress::from_ip(spec_.options.bind_ip, 0);
  if (!bind) {
    return Error{"bind address '" + spec_.options.bind_ip + "' is not an IP address"};
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
  udp.send_slot_pool = spec_.send_path.slots;
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

void EgressTransport::make_offer() {
  local_.ice = {random_.ice_chars(8), random_.ice_chars(24)};
  local_.fingerprint = proto::SdpFingerprint{spec_.certificate->fingerprint().algorithm,
                                             spec_.certificate->fingerprint().digest};
  local_.announced_ip = spec_.options.announced_ip;
  local_.session_id = random_.next_u64() >> 2;
  streams_.video_ssrc = random_ssrc(random_, 0);
  streams_.audio_ssrc = random_ssrc(random_, streams_.video_ssrc);
  streams_.cname = random_text(random_, 16);
  engine::EgressOfferParams params;
  params.local = local_;
  params.streams = streams_;
  params.h264_profile_level_id = media_.h264_profile_level_id();
  offer_ = engine::make_egress_offer(params);
  phase_ = Phase::kOffered;
  // The text goes to the signalling half; only the parsed offer is needed for the answer.
  std::string sdp = std::move(offer_.sdp);
  offer_.sdp.clear();
  events_.on_offer(std::move(sdp));
}

void EgressTransport::accept_answer(const std::string& body, const std::string& from_url,
                                    std::optional<SocketAddress> stun_server) {
  if (phase_ != Phase::kOffered) {
    return;
  }
  auto answer = engine::accept_egress_answer(offer_.description, body);
  if (!answer) {
    fail("WHIP answer from " + from_url + " unusable: " + answer.error().message);
    return;
  }
  answer_ = std::move(*answer);
  // The parsed offer (several KiB) is not read again; a session lives for hours, and at
  // hundreds of stages per worker those KiB count against the per-stage memory.
  offer_ = {};
  arm_connect_timer();
  create_peer_session(stun_server);
}

// The connect deadline covers ICE and DTLS.
void EgressTransport::arm_connect_timer() {
  connect_timer_.expires_after(spec_.options.connect_timeout);
  connect_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](auto error) {
    if (auto flag = alive.lock(); !error && flag && *flag && phase_ == Phase::kConnecting) {
      std::string state = peer_ && peer_->ice_agent() ? "checking" : "not started";
      if (peer_ && peer_->remote_address()) {
        state = "ICE selected " + peer_->remote_address()->to_string() + ", DTLS unfinished";
      }
      fail("ICE/DTLS connect timed out after " +
           std::to_string(spec_.options.connect_timeout.count()) + " ms (" + state + ")");
    }
  });
}

void EgressTransport::create_peer_session(std::optional<SocketAddress> stun_server) {
  engine::PeerSessionConfig config;
  config.dtls_role = answer_->dtls_role;
  config.certificate = spec_.certificate;
  config.dtls_context = spec_.dtls_context;
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
  ice->agent.stun_server = stun_server;
  auto session = start_client_session(std::move(config), std::move(*ice), random_, early_checks_,
                                      io::monotonic_now());
  if (!session) {
    fail(session.error().message);
    return;
  }
  peer_ = std::move(*session);
  phase_ = Phase::kConnecting;
  drain();
}

}  // namespace ivs::app
