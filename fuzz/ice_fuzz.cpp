// Stateful fuzz target over the ICE engines: the input is split into records
// [selector, time step, length, bytes...]; each record is delivered either to an ICE-lite
// responder (with one registered session) or to a full agent in the checking state, from one of
// a few source addresses, after advancing the simulated clock. Outputs are drained as an owner
// would. Nothing may crash, hang or grow without bound.
#include <cstddef>
#include <cstdint>

#include "engine/ice_agent.hpp"
#include "engine/ice_lite.hpp"

using namespace ivs;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  engine::IceLite lite;
  (void)lite.add_session({"srvU", "server-password-abcdefghij"}, std::nullopt);
  engine::SeededRandom random(1);
  engine::IceAgentConfig config;
  config.local = {"cliU", "client-password-abcdefghij"};
  config.host_addresses = {*SocketAddress::from_string("10.0.0.1:5000")};
  engine::IceAgent agent(config, random);
  agent.set_remote_credentials({"srvU", "server-password-abcdefghij"});
  engine::IceCandidate remote;
  remote.foundation = "1";
  remote.priority = engine::ice_candidate_priority(engine::IceCandidateType::kHost, 65535);
  remote.address = *SocketAddress::from_string("10.0.0.2:6000");
  remote.base = remote.address;
  agent.add_remote_candidate(remote);
  Instant now{};
  agent.start(now);

  std::size_t offset = 0;
  while (offset + 3 <= size) {
    const std::uint8_t selector = data[offset];
    now += milliseconds(data[offset + 1] * 50);
    const std::size_t length = std::min<std::size_t>(data[offset + 2] * 4u, size - offset - 3);
    const ByteSpan packet(data + offset + 3, length);
    offset += 3 + length;
    const auto from = SocketAddress::ipv4({10, 0, 0, static_cast<std::uint8_t>(2 + (selector & 3))},
                                          static_cast<std::uint16_t>(6000 + (selector & 3)));
    if (selector & 0x80) {
      (void)lite.handle_packet(now, from, packet);
      lite.handle_timeout(now);
      while (lite.poll_event()) {
      }
    } else {
      agent.handle_packet(now, config.host_addresses[0], from, packet);
      agent.handle_timeout(now);
      while (agent.poll_transmit()) {
      }
      while (agent.poll_event()) {
      }
    }
  }
  return 0;
}
