// Stateful fuzz target over a whole server-side session (STYLE.md §9): a PeerSessionRouter (the
// shared IceLite) with one PeerSession, driven by fuzz-chosen steps. Each step's first byte
// chooses what happens:
//   0: time passes (next two bytes, in ms) and timeouts run
//   1: a fuzz-chosen datagram arrives from one of two addresses (STUN, DTLS, SRTP or junk)
//   2: a VALID, signed binding request (optionally USE-CANDIDATE) arrives, so the fuzzer gets
//      past ICE validation and reaches the DTLS and SRTP paths, which it could never forge
//   3: the application sends fuzz-chosen RTP or RTCP through the session
//   4: the session is closed, removed and re-added
// Invariants: no crash, no leak (ASan), and no datagram to an address ICE never validated.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "engine/dtls_context.hpp"
#include "engine/peer_session_router.hpp"
#include "engine/stun_integrity.hpp"
#include "proto/stun_message.hpp"

namespace {

using namespace ivs;
using namespace ivs::engine;

const IceCredentials kLocal{"srvU", "server-password-abcdefghij"};
const IceCredentials kRemote{"cliU", "client-password-abcdefghij"};

std::shared_ptr<const DtlsCertificate> certificate(int which) {
  static const auto first = *DtlsCertificate::generate(WallTime{1'700'000'000'000'000});
  static const auto second = *DtlsCertificate::generate(WallTime{1'700'000'000'000'000});
  return which == 0 ? first : second;
}

// The media plane's sessions share one OpenSSL context (app/relay/media_plane.hpp); so do these.
const std::shared_ptr<const DtlsContext>& shared_context() {
  static const auto made = DtlsContext::create(certificate(0), DtlsConfig{}.srtp_profiles).value();
  return made;
}

IceSessionId add(PeerSessionRouter& router, Instant now) {
  PeerSessionConfig config;
  config.dtls_role = DtlsRole::kServer;
  config.certificate = certificate(0);
  config.dtls_context = shared_context();
  config.remote_fingerprint = certificate(1)->fingerprint();
  config.media.video_payload_type = 96;
  config.media.audio_payload_type = 111;
  auto id = router.add_session(now, config, kLocal, kRemote);
  return id ? *id : 0;
}

Bytes signed_request(std::uint8_t seed, bool use_candidate) {
  proto::StunTransactionId id{};
  id.fill(seed);
  proto::StunBuilder builder(proto::kStunBindingMethod, proto::StunClass::kRequest, id);
  builder.add_username(kLocal.ufrag + ":" + kRemote.ufrag);
  builder.add_priority(0x6e0001ff);
  builder.add_ice_controlling(42);
  if (use_candidate) {
    builder.add_use_candidate();
  }
  StunIntegrity integrity;
  integrity.sign_with_fingerprint(builder, as_bytes(kLocal.pwd));
  return std::move(builder).take();
}

struct Reader {
  const std::uint8_t* data;
  std::size_t size;
  std::uint8_t byte() {
    if (size == 0) {
      return 0;
    }
    --size;
    return *data++;
  }
  ByteSpan take(std::size_t wanted) {
    const std::size_t n = wanted < size ? wanted : size;
    ByteSpan out(data, n);
    data += n;
    size -= n;
    return out;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const SocketAddress peers[2] = {*SocketAddress::from_string("10.0.0.1:5000"),
                                  *SocketAddress::from_string("10.0.0.3:5001")};
  bool validated[2] = {false, false};
  PeerSessionRouter router;
  Instant now{};
  IceSessionId id = add(router, now);
  Reader in{data, size};
  for (int step = 0; step < 256 && in.size > 0; ++step) {
    const std::uint8_t op = in.byte();
    const std::size_t peer = (op >> 4) & 1;
    switch (op % 5) {
      case 0:
        now += milliseconds((in.byte() << 8) | in.byte());
        router.handle_timeout(now);
        break;
      case 1: {
        const std::size_t length = (in.byte() << 3) | (op >> 5);
        router.handle_packet(now, peers[peer], in.take(length));
        break;
      }
      case 2: {
        validated[peer] = true;
        router.handle_packet(now, peers[peer], signed_request(in.byte(), op & 0x20));
        break;
      }
      case 3: {
        const ByteSpan packet = in.take(in.byte() * 4u);
        (void)((op & 0x20) ? router.send_rtcp(id, packet) : router.send_rtp(id, packet));
        break;
      }
      case 4:
        if (auto* session = router.session(id)) {
          session->close(now);
        }
        while (router.poll_transmit()) {
        }
        router.remove_session(id);
        validated[0] = validated[1] = false;
        id = add(router, now);
        break;
    }
    while (auto transmit = router.poll_transmit()) {
      const bool known = transmit->destination == peers[0] || transmit->destination == peers[1];
      if (!known) {
        std::abort();  // We only ever answer or send to addresses that contacted us.
      }
    }
    while (router.poll_event()) {
    }
    while (router.poll_transmit()) {
    }
  }
  return 0;
}
