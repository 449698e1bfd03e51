// DtlsContext (dtls_context.hpp): many transports sharing one OpenSSL context. Each session's
// peer check must still use that session's own expected fingerprint, which the verification
// callback finds through the SSL object, not the shared context. Two clients share a context:
// the one expecting the server's real fingerprint connects, the one expecting another fails,
// and their handshakes interleave so a context-global callback would mix them up.
#include "engine/dtls_context.hpp"

#include <gtest/gtest.h>

#include <array>

#include "engine/dtls_transport.hpp"
#include "proto/time.hpp"

namespace ivs::engine {
namespace {

std::shared_ptr<const DtlsCertificate> make_certificate() {
  auto made = DtlsCertificate::generate(WallTime{1'760'000'000'000'000});
  EXPECT_TRUE(made.ok());
  return *made;
}

std::unique_ptr<DtlsTransport> make(DtlsRole role, std::shared_ptr<const DtlsCertificate> own,
                                    const DtlsFingerprint& expected,
                                    std::shared_ptr<const DtlsContext> context = nullptr) {
  DtlsConfig config;
  config.role = role;
  config.certificate = std::move(own);
  config.remote_fingerprint = expected;
  config.context = std::move(context);
  auto created = DtlsTransport::create(std::move(config));
  EXPECT_TRUE(created.ok()) << created.error().message;
  return std::move(*created);
}

// Hands every datagram of `from` to `to`; true when anything moved.
bool deliver(DtlsTransport& from, DtlsTransport& to, Instant now) {
  bool moved = false;
  while (auto datagram = from.poll_transmit()) {
    to.handle_packet(now, *datagram);
    moved = true;
  }
  return moved;
}

bool connected(DtlsTransport& transport) {
  while (auto event = transport.poll_event()) {
    if (std::holds_alternative<DtlsConnected>(*event)) {
      return true;
    }
  }
  return false;
}

TEST(DtlsContextTest, SessionsSharingAContextEachCheckTheirOwnPeer) {
  const auto client_certificate = make_certificate();
  const auto server_certificate = make_certificate();
  const auto stranger = make_certificate();
  auto shared = DtlsContext::create(client_certificate, DtlsConfig{}.srtp_profiles);
  ASSERT_TRUE(shared.ok()) << shared.error().message;

  std::array<std::unique_ptr<DtlsTransport>, 2> clients{
      make(DtlsRole::kClient, client_certificate, server_certificate->fingerprint(), *shared),
      make(DtlsRole::kClient, client_certificate, stranger->fingerprint(), *shared)};
  std::array<std::unique_ptr<DtlsTransport>, 2> servers{
      make(DtlsRole::kServer, server_certificate, client_certificate->fingerprint()),
      make(DtlsRole::kServer, server_certificate, client_certificate->fingerprint())};
  const Instant now{};
  for (auto& transport : clients) {
    transport->start(now);
  }
  for (auto& transport : servers) {
    transport->start(now);
  }
  // Both handshakes advance flight by flight, interleaved.
  for (bool moved = true; moved;) {
    moved = false;
    for (std::size_t i = 0; i < 2; ++i) {
      moved = deliver(*clients[i], *servers[i], now) || moved;
      moved = deliver(*servers[i], *clients[i], now) || moved;
    }
  }
  EXPECT_TRUE(connected(*clients[0])) << "the expected peer is accepted";
  EXPECT_EQ(clients[0]->state(), DtlsState::kConnected);
  EXPECT_NE(clients[1]->state(), DtlsState::kConnected)
      << "a certificate other than the expected one is refused, context shared or not";
}

TEST(DtlsContextTest, RefusesToBeMadeWithoutACertificateOrProfiles) {
  EXPECT_FALSE(DtlsContext::create(nullptr, DtlsConfig{}.srtp_profiles).ok());
  EXPECT_FALSE(DtlsContext::create(make_certificate(), {}).ok());
}

}  // namespace
}  // namespace ivs::engine
