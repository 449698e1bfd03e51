// Fuzz target: datagrams from the network into a server-role DtlsTransport, the shape of every
// server session before ICE has proven much about the sender.
//
// Input layout: byte 0 is the time step (in 10 ms units) applied between datagrams; the rest is a
// sequence of [u16 length][bytes] datagrams. After each datagram the harness obeys the engine
// rule (drain transmits and events) and fires the timer when it is due, so retransmission,
// failure and close paths are reached too. Must never crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/dtls_context.hpp"
#include "engine/dtls_transport.hpp"

namespace {

using namespace ivs;
using namespace ivs::engine;

// Certificate generation is slow; one per process, as in the product.
const std::shared_ptr<const DtlsCertificate>& certificate() {
  static const auto generated = DtlsCertificate::generate(WallTime{1'700'000'000'000'000}).value();
  return generated;
}

// One OpenSSL context for every transport, as the media plane and the egress workers share one
// (it also spares each input the context's set-up, most of this target's time before).
const std::shared_ptr<const DtlsContext>& shared_context() {
  static const auto made = DtlsContext::create(certificate(), DtlsConfig{}.srtp_profiles).value();
  return made;
}

void drain(DtlsTransport& dtls) {
  while (dtls.poll_transmit()) {
  }
  while (dtls.poll_event()) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  DtlsConfig config;
  config.role = DtlsRole::kServer;
  config.certificate = certificate();
  config.context = shared_context();
  config.remote_fingerprint = certificate()->fingerprint();
  auto created = DtlsTransport::create(config);
  if (!created) {
    return 0;
  }
  DtlsTransport& dtls = **created;
  const Duration step = milliseconds(10) * data[0];
  Instant now{};
  dtls.start(now);
  std::size_t at = 1;
  while (at + 2 <= size) {
    const std::size_t length = std::min<std::size_t>(read_u16(data + at), size - at - 2);
    dtls.handle_packet(now, ByteSpan(data + at + 2, length));
    drain(dtls);
    at += 2 + length;
    now += step;
    if (auto due = dtls.poll_timeout(); due && *due <= now) {
      dtls.handle_timeout(now);
      drain(dtls);
    }
  }
  dtls.close(now);
  drain(dtls);
  return 0;
}
