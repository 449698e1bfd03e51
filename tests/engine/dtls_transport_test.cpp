// Two DtlsTransports on a simulated clock, connected through tests/support/sim_network (loss,
// reordering, delay), plus the retransmission schedule checked against exact simulated times.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <set>

#include "engine/dtls_transport.hpp"
#include "support/sim_network.hpp"

namespace ivs::engine {
namespace {

using test::SimLinkModel;
using test::SimNetwork;

constexpr WallTime kWallNow{1'700'000'000'000'000};

std::shared_ptr<const DtlsCertificate> make_certificate() {
  auto certificate = DtlsCertificate::generate(kWallNow);
  EXPECT_TRUE(certificate.ok());
  return *certificate;
}

// Certificates are expensive to generate; two shared ones serve every test, as in the product.
const std::shared_ptr<const DtlsCertificate>& certificate(int which) {
  static const auto first = make_certificate();
  static const auto second = make_certificate();
  return which == 0 ? first : second;
}

struct Peer {
  SocketAddress address;
  std::unique_ptr<DtlsTransport> dtls;
  std::vector<DtlsEvent> events;
  std::vector<Instant> sent_at;  // when each datagram left, for retransmission timing
  std::vector<Bytes> sent;
  std::set<std::size_t> drop;  // indexes (into `sent`) of datagrams the network loses
};

class DtlsPair {
 public:
  explicit DtlsPair(std::uint64_t seed = 1, SimLinkModel model = {}) : network_(seed, model) {
    peers_[0].address = *SocketAddress::from_string("10.0.0.1:5000");
    peers_[1].address = *SocketAddress::from_string("10.0.0.2:6000");
  }

  DtlsConfig config(int self, DtlsRole role) const {
    DtlsConfig config;
    config.role = role;
    config.certificate = certificate(self);
    config.remote_fingerprint = certificate(1 - self)->fingerprint();
    return config;
  }

  void create(int self, DtlsConfig config) {
    auto created = DtlsTransport::create(std::move(config));
    ASSERT_TRUE(created.ok()) << created.error().message;
    peers_[self].dtls = std::move(*created);
  }

  void create_both(DtlsRole first_role) {
    create(0, config(0, first_role));
    create(1, config(1, first_role == DtlsRole::kClient ? DtlsRole::kServer : DtlsRole::kClient));
  }

  void start() {
    for (Peer& peer : peers_) {
      peer.dtls->start(now_);
    }
    drain();
  }

  // Runs the simulation until nothing is left to do or `limit` of simulated time passes.
  void run(Duration limit = seconds(120)) {
    const Instant end = now_ + limit;
    for (;;) {
      std::optional<Instant> next = network_.next_delivery();
      for (Peer& peer : peers_) {
        next = test::earliest(next, peer.dtls->poll_timeout());
      }
      if (!next || *next > end) {
        return;
      }
      now_ = std::max(now_, *next);
      while (auto datagram = network_.poll_delivery(now_)) {
        peer_at(datagram->to).dtls->handle_packet(now_, datagram->payload);
      }
      for (Peer& peer : peers_) {
        peer.dtls->handle_timeout(now_);
      }
      drain();
    }
  }

  // The rule from transmit.hpp: after any input, drain transmits and events.
  void drain() {
    for (int self = 0; self < 2; ++self) {
      Peer& peer = peers_[self];
      while (auto datagram = peer.dtls->poll_transmit()) {
        EXPECT_LE(datagram->size(), max_datagram_);
        peer.sent_at.push_back(now_);
        peer.sent.push_back(*datagram);
        if (peer.drop.count(peer.sent.size() - 1) == 0) {
          network_.send(now_, peer.address, peers_[1 - self].address, *datagram);
        }
      }
      while (auto event = peer.dtls->poll_event()) {
        peer.events.push_back(std::move(*event));
      }
    }
  }

  Peer& peer(int index) { return peers_[index]; }
  Peer& peer_at(const SocketAddress& address) {
    return address == peers_[0].address ? peers_[0] : peers_[1];
  }
  SimNetwork& network() { return network_; }
  Instant now() const { return now_; }
  Instant start_time() const { return Instant{}; }
  void set_max_datagram(std::size_t size) { max_datagram_ = size; }

 private:
  std::size_t max_datagram_ = 1200;
  SimNetwork network_;
  Peer peers_[2];
  Instant now_{};
};

const DtlsConnected* connected(const Peer& peer) {
  for (const DtlsEvent& event : peer.events) {
    if (const auto* done = std::get_if<DtlsConnected>(&event)) {
      return done;
    }
  }
  return nullptr;
}

const DtlsFailed* failed(const Peer& peer) {
  for (const DtlsEvent& event : peer.events) {
    if (const auto* failure = std::get_if<DtlsFailed>(&event)) {
      return failure;
    }
  }
  return nullptr;
}

void expect_matching_keys(const Peer& a, const Peer& b, SrtpProfile profile) {
  const DtlsConnected* first = connected(a);
  const DtlsConnected* second = connected(b);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(first->keys.profile, profile);
  EXPECT_EQ(second->keys.profile, profile);
  EXPECT_EQ(first->keys.local, second->keys.remote);
  EXPECT_EQ(first->keys.remote, second->keys.local);
  EXPECT_NE(first->keys.local, first->keys.remote);
  EXPECT_EQ(first->keys.local.salt.size(), master_salt_length(profile));
}

class DtlsRoles : public ::testing::TestWithParam<DtlsRole> {};

TEST_P(DtlsRoles, HandshakeCompletesWithIdenticalKeysAndGcmPreferred) {
  DtlsPair pair;
  pair.create_both(GetParam());
  pair.start();
  pair.run();
  expect_matching_keys(pair.peer(0), pair.peer(1), SrtpProfile::kAeadAes128Gcm);
  EXPECT_EQ(pair.peer(0).dtls->state(), DtlsState::kConnected);
  EXPECT_EQ(pair.peer(1).dtls->state(), DtlsState::kConnected);
  EXPECT_EQ(pair.peer(0).dtls->stats().retransmissions, 0u);
  EXPECT_EQ(pair.peer(1).dtls->stats().retransmissions, 0u);
  // Four flights, one datagram each, at 10 ms per hop: done in 40 ms of simulated time.
  EXPECT_EQ(pair.peer(0).sent_at.size() + pair.peer(1).sent_at.size(), 4u);
  EXPECT_EQ(pair.now() - pair.start_time(), milliseconds(40));
}

INSTANTIATE_TEST_SUITE_P(BothPairings, DtlsRoles,
                         ::testing::Values(DtlsRole::kClient, DtlsRole::kServer));

TEST(DtlsTransportTest, NegotiatesAesCmWhenThatIsAllTheClientOffers) {
  DtlsPair pair;
  DtlsConfig client = pair.config(0, DtlsRole::kClient);
  client.srtp_profiles = {SrtpProfile::kAes128CmHmacSha1_80};
  pair.create(0, client);
  pair.create(1, pair.config(1, DtlsRole::kServer));
  pair.start();
  pair.run();
  expect_matching_keys(pair.peer(0), pair.peer(1), SrtpProfile::kAes128CmHmacSha1_80);
}

// 20% loss each way plus reordering, jitter and duplicates: every seed must still complete,
// through retransmissions.
TEST(DtlsTransportTest, CompletesUnderLossAndReordering) {
  SimLinkModel lossy;
  lossy.loss = 0.2;
  lossy.reorder = 0.3;
  lossy.jitter = milliseconds(30);
  lossy.duplicate = 0.05;
  std::uint64_t retransmissions = 0;
  for (std::uint64_t seed = 1; seed <= 25; ++seed) {
    DtlsPair pair(seed, lossy);
    // Every third seed uses a small MTU, so flights span datagrams and arrive in pieces.
    const std::size_t mtu = seed % 3 == 0 ? 400 : 1200;
    pair.set_max_datagram(mtu);
    DtlsConfig first = pair.config(0, seed % 2 == 0 ? DtlsRole::kClient : DtlsRole::kServer);
    DtlsConfig second = pair.config(1, seed % 2 == 0 ? DtlsRole::kServer : DtlsRole::kClient);
    first.mtu = second.mtu = mtu;
    pair.create(0, first);
    pair.create(1, second);
    pair.start();
    pair.run();
    SCOPED_TRACE("seed " + std::to_string(seed));
    expect_matching_keys(pair.peer(0), pair.peer(1), SrtpProfile::kAeadAes128Gcm);
    retransmissions +=
        pair.peer(0).dtls->stats().retransmissions + pair.peer(1).dtls->stats().retransmissions;
  }
  EXPECT_GT(retransmissions, 0u);  // the loss really did bite
}

// The ClientHello goes out at 0 s, then is re-sent at 1, 3, 7, 15, 23 and 31 s (1 s doubling,
// capped at 8 s); at 39 s the sixth re-send has gone unanswered and the handshake fails. Each
// re-send is a new record (OpenSSL re-encoded it), not a byte copy.
TEST(DtlsTransportTest, RetransmitsOnTheEngineClockAndGivesUp) {
  DtlsPair pair;
  pair.create_both(DtlsRole::kClient);
  pair.network().set_blocked(pair.peer(1).address, true);
  pair.start();
  pair.run();
  const Peer& client = pair.peer(0);
  std::vector<Duration> offsets;
  for (Instant at : client.sent_at) {
    offsets.push_back(at - pair.start_time());
  }
  EXPECT_EQ(offsets, (std::vector<Duration>{seconds(0), seconds(1), seconds(3), seconds(7),
                                            seconds(15), seconds(23), seconds(31)}));
  EXPECT_EQ(client.dtls->stats().retransmissions, 6u);
  ASSERT_NE(failed(client), nullptr);
  EXPECT_NE(failed(client)->reason.find("timed out"), std::string::npos);
  EXPECT_EQ(pair.now() - pair.start_time(), seconds(39));
  EXPECT_EQ(client.dtls->poll_timeout(), std::nullopt);
  EXPECT_EQ(connected(client), nullptr);
}

TEST(DtlsTransportTest, RetransmissionIsANewRecordNotACopy) {
  DtlsPair pair;
  pair.create_both(DtlsRole::kClient);
  Peer& client = pair.peer(0);
  client.dtls->start(Instant{});
  const Bytes first = *client.dtls->poll_transmit();
  EXPECT_EQ(client.dtls->poll_timeout(), Instant{} + seconds(1));
  client.dtls->handle_timeout(Instant{} + milliseconds(999));
  EXPECT_FALSE(client.dtls->poll_transmit().has_value());  // not yet due
  client.dtls->handle_timeout(Instant{} + seconds(1));
  const auto second = client.dtls->poll_transmit();
  ASSERT_TRUE(second.has_value());
  ASSERT_EQ(second->size(), first.size());
  // Same handshake message, new record sequence number (bytes 5..10 of the record header).
  EXPECT_NE(Bytes(first.begin() + 5, first.begin() + 11),
            Bytes(second->begin() + 5, second->begin() + 11));
  EXPECT_EQ(Bytes(first.begin() + 13, first.end()), Bytes(second->begin() + 13, second->end()));
  EXPECT_EQ(client.dtls->poll_timeout(), Instant{} + seconds(3));
}

// The server's last flight (ChangeCipherSpec + Finished) is lost. It has no timer for it
// (RFC 6347 §4.2.4); the client re-sends its own last flight after 1 s and the server, seeing a
// repeated Finished, re-sends its flight. Timeline: F1 0 ms, F2 10 ms, F3 20 ms, F4 30 ms (lost),
// F3 again at 1.020 s, F4 again at 1.030 s, client connected at 1.040 s.
TEST(DtlsTransportTest, LostFinalFlightIsRecoveredByTheClientRetransmission) {
  DtlsPair pair;
  pair.create_both(DtlsRole::kClient);
  pair.peer(1).drop = {1};
  pair.start();
  pair.run();
  expect_matching_keys(pair.peer(0), pair.peer(1), SrtpProfile::kAeadAes128Gcm);
  EXPECT_EQ(pair.now() - pair.start_time(), milliseconds(1040));
  EXPECT_EQ(pair.peer(0).dtls->stats().retransmissions, 1u);
  EXPECT_EQ(pair.peer(1).dtls->stats().retransmissions, 0u);
  ASSERT_EQ(pair.peer(1).sent.size(), 3u);
  EXPECT_EQ(pair.peer(1).sent_at[2] - pair.start_time(), milliseconds(1030));
}

// Handshake records in epoch 0 as (message_seq, fragment_offset), read from the datagrams.
std::vector<std::pair<int, int>> handshake_fragments(const std::vector<Bytes>& datagrams) {
  std::vector<std::pair<int, int>> fragments;
  for (const Bytes& datagram : datagrams) {
    for (std::size_t at = 0; at + 13 <= datagram.size();) {
      const std::size_t length = read_u16(&datagram[at + 11]);
      const bool epoch0 = read_u16(&datagram[at + 3]) == 0;
      if (datagram[at] == 22 && epoch0 && length >= 12) {
        fragments.emplace_back(read_u16(&datagram[at + 13 + 4]),
                               static_cast<int>(read_u24(&datagram[at + 13 + 6])));
      }
      at += 13 + length;
    }
  }
  return fragments;
}

// With a small MTU every flight spans several datagrams, so the peer reads partial flights. No
// handshake fragment may ever be sent twice without loss: OpenSSL must not retransmit on its
// own (its clock) when a read comes up short.
TEST(DtlsTransportTest, SmallMtuSplitsFlightsWithoutSpuriousRetransmissions) {
  DtlsPair pair(3);
  pair.set_max_datagram(300);
  DtlsConfig client = pair.config(0, DtlsRole::kClient);
  DtlsConfig server = pair.config(1, DtlsRole::kServer);
  client.mtu = server.mtu = 300;
  pair.create(0, client);
  pair.create(1, server);
  pair.start();
  pair.run();
  expect_matching_keys(pair.peer(0), pair.peer(1), SrtpProfile::kAeadAes128Gcm);
  for (int side = 0; side < 2; ++side) {
    const auto fragments = handshake_fragments(pair.peer(side).sent);
    EXPECT_GT(fragments.size(), 2u);
    EXPECT_EQ(std::set(fragments.begin(), fragments.end()).size(), fragments.size());
    EXPECT_EQ(pair.peer(side).dtls->stats().retransmissions, 0u);
  }
  EXPECT_GT(pair.peer(1).sent.size(), 2u);  // the server's flight really was split
}

// Why DtlsTransport does not use the simpler "timer callback returns 1 µs" approach: OpenSSL
// checks its timer at the top of every read, finds it expired, retransmits, restarts the 1 µs
// timer and loops until its 12-timeout limit fails the handshake inside the first call. If this
// test ever fails, OpenSSL changed and the simpler approach may be reconsidered.
TEST(OpenSslDtlsTimer, AlwaysExpiredTimerKillsTheHandshake) {
  SSL_CTX* context = SSL_CTX_new(DTLS_method());
  SSL* ssl = SSL_new(context);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(in, -1);
  SSL_set_bio(ssl, in, out);
  SSL_set_connect_state(ssl);
  DTLS_set_timer_cb(ssl, [](SSL*, unsigned int) -> unsigned int { return 1; });
  const int result = SSL_do_handshake(ssl);
  EXPECT_EQ(SSL_get_error(ssl, result), SSL_ERROR_SSL);
  EXPECT_EQ(ERR_GET_REASON(ERR_peek_error()), SSL_R_READ_TIMEOUT_EXPIRED);
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(context);
}

TEST(DtlsTransportTest, WrongFingerprintFailsWithoutKeys) {
  DtlsPair pair;
  DtlsConfig client = pair.config(0, DtlsRole::kClient);
  client.remote_fingerprint.digest[0] ^= 0xff;  // not the server's certificate
  pair.create(0, client);
  pair.create(1, pair.config(1, DtlsRole::kServer));
  pair.start();
  pair.run();
  ASSERT_NE(failed(pair.peer(0)), nullptr);
  EXPECT_NE(failed(pair.peer(0))->reason.find("fingerprint"), std::string::npos);
  EXPECT_EQ(connected(pair.peer(0)), nullptr);
  EXPECT_EQ(connected(pair.peer(1)), nullptr);  // the server got our alert instead of a Finished
  EXPECT_EQ(pair.peer(0).dtls->state(), DtlsState::kFailed);
}

TEST(DtlsTransportTest, ServerRejectsClientWithWrongFingerprint) {
  DtlsPair pair;
  DtlsConfig server = pair.config(1, DtlsRole::kServer);
  server.remote_fingerprint.digest[31] ^= 0x01;
  pair.create(0, pair.config(0, DtlsRole::kClient));
  pair.create(1, server);
  pair.start();
  pair.run();
  ASSERT_NE(failed(pair.peer(1)), nullptr);
  EXPECT_NE(failed(pair.peer(1))->reason.find("fingerprint"), std::string::npos);
  EXPECT_EQ(connected(pair.peer(1)), nullptr);
  EXPECT_EQ(connected(pair.peer(0)), nullptr);
}

TEST(DtlsTransportTest, GarbageDatagramsAreCountedDropsNotFailures) {
  DtlsPair pair;
  pair.create_both(DtlsRole::kClient);
  Peer& server = pair.peer(1);
  SeededRandom random(7);
  auto send_garbage = [&] {
    for (int i = 0; i < 50; ++i) {
      Bytes junk(1 + random.uniform(300));
      random.fill(junk);
      server.dtls->handle_packet(pair.now(), junk);
    }
    server.dtls->handle_packet(pair.now(), as_bytes("\x00\x01 not DTLS, a STUN-ish byte"));
  };
  send_garbage();  // before the handshake: a server in kNew
  pair.start();
  send_garbage();
  pair.drain();
  pair.run();
  expect_matching_keys(pair.peer(0), server, SrtpProfile::kAeadAes128Gcm);
  send_garbage();  // and after
  pair.drain();
  EXPECT_EQ(server.dtls->state(), DtlsState::kConnected);
  EXPECT_GT(server.dtls->stats().datagrams_dropped, 0u);
  EXPECT_EQ(failed(server), nullptr);
}

TEST(DtlsTransportTest, CloseNotifyDeliversClosed) {
  DtlsPair pair;
  pair.create_both(DtlsRole::kClient);
  pair.start();
  pair.run();
  ASSERT_NE(connected(pair.peer(1)), nullptr);
  pair.peer(0).dtls->close(pair.now());
  pair.drain();
  pair.run();
  EXPECT_EQ(pair.peer(0).dtls->state(), DtlsState::kClosed);
  EXPECT_EQ(pair.peer(1).dtls->state(), DtlsState::kClosed);
  ASSERT_FALSE(pair.peer(1).events.empty());
  EXPECT_TRUE(std::holds_alternative<DtlsClosed>(pair.peer(1).events.back()));
}

TEST(DtlsTransportTest, KeysFromTheHandshakeProtectAndUnprotectSrtp) {
  DtlsPair pair;
  pair.create_both(DtlsRole::kClient);
  pair.start();
  pair.run();
  const DtlsConnected* client = connected(pair.peer(0));
  const DtlsConnected* server = connected(pair.peer(1));
  ASSERT_TRUE(client && server);
  auto session = [](const DtlsSrtpKeys& keys, SrtpDirection direction) {
    SrtpConfig config;
    config.profile = keys.profile;
    config.master = direction == SrtpDirection::kOutbound ? keys.local : keys.remote;
    config.direction = direction;
    return make_libsrtp_session(config).value();
  };
  auto client_out = session(client->keys, SrtpDirection::kOutbound);
  auto server_in = session(server->keys, SrtpDirection::kInbound);
  auto server_out = session(server->keys, SrtpDirection::kOutbound);
  auto client_in = session(client->keys, SrtpDirection::kInbound);
  Bytes plain = {0x80, 0x60, 0x00, 0x01, 0, 0, 0, 100, 0xca, 0xfe, 0xba, 0xbe, 1, 2, 3, 4};
  for (auto [sender, receiver] : {std::pair{client_out.get(), server_in.get()},
                                  std::pair{server_out.get(), client_in.get()}}) {
    Bytes buffer = plain;
    std::size_t size = buffer.size();
    buffer.resize(size + kMaxSrtpOverhead);
    ASSERT_EQ(sender->protect_rtp(buffer, size), SrtpStatus::kOk);
    ASSERT_EQ(receiver->unprotect_rtp(buffer, size), SrtpStatus::kOk);
    buffer.resize(size);
    EXPECT_EQ(buffer, plain);
  }
  // The client's outbound key is not the server's: the server cannot read its own direction.
  Bytes buffer = plain;
  buffer[3] = 2;  // a fresh sequence number, so the replay check cannot answer first
  std::size_t size = buffer.size();
  buffer.resize(size + kMaxSrtpOverhead);
  ASSERT_EQ(server_out->protect_rtp(buffer, size), SrtpStatus::kOk);
  EXPECT_EQ(server_in->unprotect_rtp(buffer, size), SrtpStatus::kAuthFail);
}

TEST(DtlsSrtpKeysTest, SplitsExporterOutputPerRfc5764) {
  Bytes material(60);
  for (std::size_t i = 0; i < material.size(); ++i) {
    material[i] = static_cast<std::uint8_t>(i);
  }
  auto client =
      split_dtls_srtp_material(SrtpProfile::kAes128CmHmacSha1_80, DtlsRole::kClient, material);
  ASSERT_TRUE(client.ok());
  // client key 0..15, server key 16..31, client salt 32..45, server salt 46..59.
  EXPECT_EQ(client->local.key.front(), 0);
  EXPECT_EQ(client->remote.key.front(), 16);
  EXPECT_EQ(client->local.salt.front(), 32);
  EXPECT_EQ(client->local.salt.size(), 14u);
  EXPECT_EQ(client->remote.salt.front(), 46);
  EXPECT_EQ(client->remote.salt.back(), 59);
  auto server =
      split_dtls_srtp_material(SrtpProfile::kAes128CmHmacSha1_80, DtlsRole::kServer, material);
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(server->local, client->remote);
  EXPECT_EQ(server->remote, client->local);

  Bytes gcm_material(56);
  for (std::size_t i = 0; i < gcm_material.size(); ++i) {
    gcm_material[i] = static_cast<std::uint8_t>(i);
  }
  auto gcm = split_dtls_srtp_material(SrtpProfile::kAeadAes128Gcm, DtlsRole::kClient, gcm_material);
  ASSERT_TRUE(gcm.ok());
  // client salt 32..43, server salt 44..55 (12-byte salts).
  EXPECT_EQ(gcm->local.salt.front(), 32);
  EXPECT_EQ(gcm->remote.salt.front(), 44);
  EXPECT_EQ(gcm->remote.salt.back(), 55);
  EXPECT_FALSE(
      split_dtls_srtp_material(SrtpProfile::kAeadAes128Gcm, DtlsRole::kClient, material).ok());
}

}  // namespace
}  // namespace ivs::engine
