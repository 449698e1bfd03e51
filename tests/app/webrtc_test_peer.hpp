// A WebRTC peer for app tests over real loopback sockets: a client-mode engine::PeerSession
// (full controlling ICE, DTLS from the answer's a=setup) on its own UdpPort, driven by the same
// io_context as the server under test.
//   publisher: offers engine::make_egress_offer (H.264 + Opus, sendonly), sends RTP it is given
//   viewer:    offers testdata/sdp/chromium-whep-offer.sdp with its ICE credentials and DTLS
//              fingerprint swapped for ours, records what it receives
// Everything it receives is kept (decrypted) for assertions.
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/dtls_certificate.hpp"
#include "engine/ice_candidate.hpp"
#include "engine/peer_session.hpp"
#include "engine/sdp_negotiation.hpp"
#include "io/clock.hpp"
#include "io/engine_timer.hpp"
#include "io/udp_port.hpp"
#include "proto/sdp.hpp"
#include "support/testdata.hpp"

namespace ivs::test {

class TestPeer {
 public:
  enum class Mode { publisher, viewer };

  TestPeer(boost::asio::io_context& io, Mode mode, std::uint64_t seed = 7)
      : mode_(mode), random_(seed), timer_(io, [this](Instant now) { on_timeout(now); }) {
    certificate_ = *engine::DtlsCertificate::generate(io::wall_now());
    auto port = io::UdpPort::open(io, io::UdpPortOptions{});
    port_ = std::move(*port);
    port_->start([this](Instant now, const SocketAddress& from, ByteSpan bytes) {
      if (session_) {
        session_->handle_packet(now, from, bytes);
        drain();
      }
    });
    local_.ice = {random_.ice_chars(8), random_.ice_chars(24)};
    local_.fingerprint = {certificate_->fingerprint().algorithm,
                          certificate_->fingerprint().digest};
    local_.host_addresses = {port_->local_address()};
    local_.session_id = 1234;
    if (mode_ == Mode::publisher) {
      engine::EgressOfferParams params;
      params.local = local_;
      params.streams = engine::OutgoingStreams{kVideoSsrc, kAudioSsrc, "test-peer"};
      offer_sdp_ = engine::make_egress_offer(params).sdp;
    } else {
      offer_sdp_ = viewer_offer();
    }
    offer_ = *proto::parse_sdp(offer_sdp_);
  }

  static constexpr std::uint32_t kVideoSsrc = 0x11111111;
  static constexpr std::uint32_t kAudioSsrc = 0x22222222;

  const std::string& offer() const { return offer_sdp_; }
  // Replaces the offer text (before accept), e.g. to add simulcast attributes.
  void set_offer(std::string sdp) {
    offer_sdp_ = std::move(sdp);
    offer_ = *proto::parse_sdp(offer_sdp_);
  }

  // Takes the server's answer and starts ICE; the error is the answer check's message.
  Status accept(const std::string& answer_sdp) {
    auto answer = engine::accept_egress_answer(offer_, answer_sdp);
    if (!answer) {
      return answer.error();
    }
    engine::PeerSessionConfig config;
    config.dtls_role = answer->dtls_role;
    config.certificate = certificate_;
    config.remote_fingerprint = {answer->media.remote.fingerprint.algorithm,
                                 answer->media.remote.fingerprint.digest};
    config.media.video_payload_type = answer->media.video.payload_type;
    config.media.video_ssrcs = answer->media.video.remote_ssrcs;
    video_payload_type = answer->media.video.payload_type;
    if (answer->media.audio) {
      config.media.audio_payload_type = answer->media.audio->payload_type;
      config.media.audio_ssrcs = answer->media.audio->remote_ssrcs;
      audio_payload_type = answer->media.audio->payload_type;
    }
    engine::PeerSessionIceClient ice;
    ice.agent.local = local_.ice;
    ice.agent.host_addresses = {port_->local_address()};
    ice.remote = answer->media.remote.ice;
    for (const auto& candidate : answer->media.remote.candidates) {
      if (auto converted = engine::from_sdp_candidate(candidate); converted && candidate.is_udp()) {
        ice.candidates.push_back(*converted);
      }
    }
    candidates = ice.candidates.size();
    auto session = engine::PeerSession::create_client(config, ice, random_);
    if (!session) {
      return session.error();
    }
    session_ = std::move(*session);
    session_->start(io::monotonic_now());
    drain();
    return Ok{};
  }

  void send_rtp(ByteSpan packet) {
    if (session_) {
      session_->send_rtp(packet);
      drain();
    }
  }
  void send_rtcp(ByteSpan packet) {
    if (session_) {
      session_->send_rtcp(packet);
      drain();
    }
  }
  void close() {
    if (session_) {
      session_->close(io::monotonic_now());
      drain();
    }
  }
  // Stops answering anything (a peer that vanished without a DTLS close).
  void vanish() {
    session_.reset();
    port_->close();
  }

  engine::PeerSession* session() { return session_.get(); }
  SocketAddress address() const { return port_->local_address(); }

  bool connected = false;
  bool closed = false;
  std::optional<std::string> failure;
  std::vector<engine::SessionMediaPacket> media;
  std::vector<engine::SessionRtcpPacket> rtcp;
  std::uint8_t video_payload_type = 0;
  std::uint8_t audio_payload_type = 0;
  std::size_t candidates = 0;

 private:
  std::string viewer_offer() {
    std::string text = read_testdata("sdp/chromium-whep-offer.sdp");
    std::string out;
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      end = end == std::string::npos ? text.size() : end + 1;
      std::string line = text.substr(start, end - start);
      if (line.rfind("a=ice-ufrag:", 0) == 0) {
        line = "a=ice-ufrag:" + local_.ice.ufrag + "\r\n";
      } else if (line.rfind("a=ice-pwd:", 0) == 0) {
        line = "a=ice-pwd:" + local_.ice.pwd + "\r\n";
      } else if (line.rfind("a=fingerprint:", 0) == 0) {
        line = "a=fingerprint:" + certificate_->fingerprint_sdp() + "\r\n";
      }
      out += line;
      start = end;
    }
    return out;
  }

  void on_timeout(Instant now) {
    if (session_) {
      session_->handle_timeout(now);
      drain();
    }
  }

  void drain() {
    while (session_) {
      bool progressed = false;
      while (auto transmit = session_->poll_transmit()) {
        port_->send(transmit->destination, transmit->payload);
        progressed = true;
      }
      while (auto event = session_->poll_event()) {
        progressed = true;
        if (std::holds_alternative<engine::SessionConnected>(*event)) {
          connected = true;
        } else if (auto* packet = std::get_if<engine::SessionMediaPacket>(&*event)) {
          media.push_back(std::move(*packet));
        } else if (auto* feedback = std::get_if<engine::SessionRtcpPacket>(&*event)) {
          rtcp.push_back(std::move(*feedback));
        } else if (auto* failed = std::get_if<engine::SessionFailed>(&*event)) {
          failure = failed->reason;
        } else if (std::holds_alternative<engine::SessionClosed>(*event)) {
          closed = true;
        }
      }
      if (!progressed) {
        break;
      }
    }
    port_->flush();
    timer_.rearm(session_ ? session_->poll_timeout() : std::nullopt);
  }

  Mode mode_;
  engine::SeededRandom random_;
  std::shared_ptr<const engine::DtlsCertificate> certificate_;
  std::unique_ptr<io::UdpPort> port_;
  engine::LocalTransport local_;
  std::string offer_sdp_;
  proto::SessionDescription offer_;
  std::unique_ptr<engine::PeerSession> session_;
  io::EngineTimer timer_;
};

}  // namespace ivs::test
