// Interop: our controlling IceAgent against aioice (aiortc's ICE agent) as a full, controlled
// peer over real loopback UDP (port 0) — the case of IVS running full ICE. aioice checks us too,
// so this exercises answering peer checks, triggered checks and nomination with an independent
// implementation. Skipped when aioice is not installed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include "engine/ice_agent.hpp"
#include "proto/packet_demux.hpp"
#include "support/testdata.hpp"

namespace ivs::engine {
namespace {

SocketAddress from_sockaddr(const sockaddr_in& address) {
  std::array<std::uint8_t, 4> octets{};
  std::memcpy(octets.data(), &address.sin_addr, 4);
  return SocketAddress::ipv4(octets, ntohs(address.sin_port));
}

sockaddr_in to_sockaddr(const SocketAddress& address) {
  sockaddr_in out{};
  out.sin_family = AF_INET;
  out.sin_port = htons(address.port());
  std::memcpy(&out.sin_addr, address.ip_bytes(), 4);
  return out;
}

// Reads one line from the peer's stdout, waiting at most until `deadline`.
std::optional<std::string> read_line(FILE* peer, std::string& buffer,
                                     std::chrono::steady_clock::time_point deadline) {
  while (std::chrono::steady_clock::now() < deadline) {
    const auto newline = buffer.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      return line;
    }
    pollfd fd{::fileno(peer), POLLIN, 0};
    if (::poll(&fd, 1, 100) > 0) {
      char text[256];
      const auto got = ::read(::fileno(peer), text, sizeof text);
      if (got <= 0) {
        return std::nullopt;
      }
      buffer.append(text, static_cast<std::size_t>(got));
    }
  }
  return std::nullopt;
}

TEST(IceAgentInterop, NominatesWithAioiceAsControlledPeer) {
  if (std::system("/usr/bin/python3 -c 'import aioice' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-aioice not installed";
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in bound{};
  bound.sin_family = AF_INET;
  bound.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&bound), sizeof bound), 0);
  socklen_t length = sizeof bound;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length), 0);
  const SocketAddress local_address = from_sockaddr(bound);

  IceAgentConfig config;
  config.local = {"cliU", "client-password-abcdefghij"};
  config.host_addresses = {local_address};
  SecureRandom random;
  IceAgent agent(config, random);
  const std::string command =
      "/usr/bin/python3 " + test::testdata_path("ice/aioice_controlled.py") + " " +
      std::to_string(local_address.port()) + " " + config.local.ufrag + " " + config.local.pwd;
  FILE* peer = ::popen(command.c_str(), "r");
  ASSERT_NE(peer, nullptr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string buffer;
  const auto hello = read_line(peer, buffer, deadline);
  ASSERT_TRUE(hello);
  std::istringstream words(*hello);
  std::string tag, ufrag, pwd;
  int port = 0;
  words >> tag >> port >> ufrag >> pwd;
  ASSERT_EQ(tag, "peer") << *hello;

  IceCandidate remote;
  remote.foundation = "1";
  remote.priority = ice_candidate_priority(IceCandidateType::kHost, 65535);
  remote.address = *SocketAddress::from_string("127.0.0.1:" + std::to_string(port));
  remote.base = remote.address;
  agent.set_remote_credentials({ufrag, pwd});
  agent.add_remote_candidate(remote);
  agent.start(std::chrono::steady_clock::now());

  std::uint64_t media_from_peer = 0;
  bool peer_done = false;
  while (std::chrono::steady_clock::now() < deadline && !(peer_done && media_from_peer > 0)) {
    while (auto transmit = agent.poll_transmit()) {
      const sockaddr_in to = to_sockaddr(transmit->destination);
      (void)::sendto(fd, transmit->payload.data(), transmit->payload.size(), 0,
                     reinterpret_cast<const sockaddr*>(&to), sizeof to);
    }
    while (agent.poll_event()) {
    }
    pollfd fds[2] = {{fd, POLLIN, 0}, {::fileno(peer), POLLIN, 0}};
    int wait_ms = 50;
    if (const auto next = agent.poll_timeout()) {
      const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
          *next - std::chrono::steady_clock::now());
      wait_ms = std::clamp<int>(static_cast<int>(until.count()), 0, 50);
    }
    (void)::poll(fds, peer_done ? 1 : 2, wait_ms);
    const Instant now = std::chrono::steady_clock::now();
    if (fds[0].revents & POLLIN) {
      std::uint8_t datagram[2048];
      sockaddr_in from{};
      socklen_t from_length = sizeof from;
      const auto size = ::recvfrom(fd, datagram, sizeof datagram, 0,
                                   reinterpret_cast<sockaddr*>(&from), &from_length);
      const ByteSpan bytes(datagram, size > 0 ? static_cast<std::size_t>(size) : 0);
      if (proto::classify_packet(bytes) == proto::PacketKind::kStun) {
        agent.handle_packet(now, local_address, from_sockaddr(from), bytes);
      } else if (!bytes.empty()) {
        ++media_from_peer;
      }
    }
    if (!peer_done && (fds[1].revents & (POLLIN | POLLHUP))) {
      char text[256];
      const auto got = ::read(::fileno(peer), text, sizeof text);
      if (got <= 0) {
        peer_done = true;
      } else {
        buffer.append(text, static_cast<std::size_t>(got));
      }
    }
    agent.handle_timeout(now);
  }
  const int status = ::pclose(peer);
  ::close(fd);
  EXPECT_EQ(status, 0) << buffer;
  EXPECT_NE(buffer.find("connected"), std::string::npos) << buffer;
  EXPECT_EQ(agent.state(), IceAgentState::kConnected);
  ASSERT_TRUE(agent.selected_pair());
  EXPECT_EQ(agent.selected_pair()->second, remote.address);
  EXPECT_TRUE(agent.controlling());
  EXPECT_GT(agent.counters().requests_answered, 0u);  // aioice checked us as well.
  EXPECT_EQ(media_from_peer, 1u);
}

}  // namespace
}  // namespace ivs::engine
