// ICE-lite per-packet costs on the ingest path: routing a media datagram by source address among
// many sessions (the hot path, one hash lookup) and answering an authenticated binding request
// (parse, FINGERPRINT, HMAC-SHA1 verify, signed reply). Prints figures; asserts nothing.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "engine/ice_lite.hpp"

namespace {

using namespace ivs;

constexpr int kSessions = 1000;

SocketAddress peer_address(int i) {
  return SocketAddress::ipv4(
      {10, 1, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)},
      static_cast<std::uint16_t>(40000 + i % 1000));
}

Bytes binding_request(int i, bool use_candidate) {
  proto::StunBuilder builder(proto::kStunBindingMethod, proto::StunClass::kRequest,
                             {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, static_cast<std::uint8_t>(i)});
  builder.add_username("s" + std::to_string(i) + ":peer");
  builder.add_priority(1853824767);
  builder.add_ice_controlling(42);
  if (use_candidate) {
    builder.add_use_candidate();
  }
  engine::StunIntegrity integrity;
  integrity.sign_with_fingerprint(builder,
                                  as_bytes("pwd-" + std::to_string(i) + "-0123456789abcdef"));
  return std::move(builder).take();
}

engine::IceLite make_lite_with_validated_sessions() {
  engine::IceLite lite;
  for (int i = 0; i < kSessions; ++i) {
    (void)lite.add_session(
        {"s" + std::to_string(i), "pwd-" + std::to_string(i) + "-0123456789abcdef"});
    (void)lite.handle_packet(Instant{}, peer_address(i), binding_request(i, true));
  }
  return lite;
}

void BM_RouteMediaByAddress(benchmark::State& state) {
  engine::IceLite lite = make_lite_with_validated_sessions();
  Bytes rtp(1200, 0);
  rtp[0] = 0x80;
  int i = 0;
  for (auto _ : state) {
    auto decision = lite.handle_packet(Instant{}, peer_address(i), rtp);
    benchmark::DoNotOptimize(decision.session);
    i = (i + 1) % kSessions;
  }
}
BENCHMARK(BM_RouteMediaByAddress);

void BM_AnswerBindingRequest(benchmark::State& state) {
  engine::IceLite lite = make_lite_with_validated_sessions();
  std::vector<Bytes> requests;
  for (int i = 0; i < kSessions; ++i) {
    requests.push_back(binding_request(i, false));
  }
  int i = 0;
  for (auto _ : state) {
    auto decision = lite.handle_packet(Instant{}, peer_address(i), requests[i]);
    benchmark::DoNotOptimize(decision.reply.payload.data());
    i = (i + 1) % kSessions;
  }
}
BENCHMARK(BM_AnswerBindingRequest);

void BM_ParseStunRequest(benchmark::State& state) {
  const Bytes request = binding_request(1, true);
  for (auto _ : state) {
    auto message = proto::StunMessage::parse(request);
    benchmark::DoNotOptimize(message.ok());
  }
}
BENCHMARK(BM_ParseStunRequest);

}  // namespace

BENCHMARK_MAIN();
