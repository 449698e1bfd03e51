// Interop: aioice (aiortc's ICE agent, Debian python3-aiortc) as a full controlling agent
// against our ICE-lite responder over a real loopback UDP socket (port 0). This checks what
// the RFC vectors cannot: that an independent implementation accepts our responses (integrity,
// fingerprint, XOR-MAPPED-ADDRESS), nominates, and that its media is routed by address.
// Skipped when aioice is not installed.
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
#include <string>

#include "engine/ice_lite.hpp"
#include "support/testdata.hpp"

namespace ivs::engine {
namespace {

bool aioice_available() {
  return std::system("/usr/bin/python3 -c 'import aioice' >/dev/null 2>&1") == 0;
}

SocketAddress from_sockaddr(const sockaddr_in& address) {
  std::array<std::uint8_t, 4> octets{};
  std::memcpy(octets.data(), &address.sin_addr, 4);
  return SocketAddress::ipv4(octets, ntohs(address.sin_port));
}

TEST(IceLiteInterop, AioiceControllingAgentNominatesAndSendsMedia) {
  if (!aioice_available()) {
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

  IceLite lite;
  const IceCredentials local{"srvU", "server-password-abcdefghij"};
  const IceSessionId session = *lite.add_session(local);
  const std::string command =
      "/usr/bin/python3 " + test::testdata_path("ice/aioice_controlling.py") + " " +
      std::to_string(ntohs(bound.sin_port)) + " " + local.ufrag + " " + local.pwd;
  FILE* peer = ::popen(command.c_str(), "r");
  ASSERT_NE(peer, nullptr);

  std::string output;
  bool selected = false;
  std::uint64_t routed_to_session = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {::fileno(peer), POLLIN, 0}};
    if (::poll(fds, 2, 200) < 0) {
      break;
    }
    if (fds[0].revents & POLLIN) {
      std::uint8_t buffer[2048];
      sockaddr_in from{};
      socklen_t from_length = sizeof from;
      const auto size = ::recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from),
                                   &from_length);
      if (size > 0) {
        const auto decision =
            lite.handle_packet(std::chrono::steady_clock::now(), from_sockaddr(from),
                               ByteSpan(buffer, static_cast<std::size_t>(size)));
        if (decision.action == IceLiteDecision::Action::kSendReply) {
          (void)::sendto(fd, decision.reply.payload.data(), decision.reply.payload.size(), 0,
                         reinterpret_cast<sockaddr*>(&from), from_length);
        } else if (decision.action == IceLiteDecision::Action::kRouteToSession &&
                   decision.session == session) {
          ++routed_to_session;
        }
      }
    }
    while (auto event = lite.poll_event()) {
      selected |= event->kind == IceLiteEvent::Kind::kSelected && event->session == session;
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      char text[256];
      const auto got = ::read(::fileno(peer), text, sizeof text);
      if (got <= 0) {
        // The peer exited; its last datagram may still sit in our socket.
        if (routed_to_session > 0 || (fds[0].revents & POLLIN) == 0) {
          break;
        }
        continue;
      }
      output.append(text, static_cast<std::size_t>(got));
    }
  }
  const int status = ::pclose(peer);
  ::close(fd);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("connected"), std::string::npos) << output;
  EXPECT_TRUE(selected);
  EXPECT_GT(lite.counters().binding_requests, 0u);
  EXPECT_EQ(lite.counters().rejected_bad_integrity, 0u);
  EXPECT_EQ(routed_to_session, 1u);
}

}  // namespace
}  // namespace ivs::engine
