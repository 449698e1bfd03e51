// Loopback helpers shared by the UdpPort tests (udp_port_test.cpp: receive, addresses, ICMP;
// udp_port_send_test.cpp: the send queue).
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "io/udp_port.hpp"

namespace ivs::io::udp_testing {

inline const SocketAddress kLoopback4 = SocketAddress::ipv4({127, 0, 0, 1}, 0);
inline const SocketAddress kLoopback6 = *SocketAddress::from_ip("::1", 0);

// Runs the io_context until `done` holds or five seconds pass; returns whether it held.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    io.restart();
    io.run_one_for(std::chrono::milliseconds(20));
  }
  return true;
}

inline std::unique_ptr<UdpPort> open_port(boost::asio::io_context& io, UdpPortOptions options) {
  auto port = UdpPort::open(io, options);
  EXPECT_TRUE(port.ok()) << (port.ok() ? "" : port.error().message);
  return port.ok() ? std::move(port).value() : nullptr;
}

inline std::unique_ptr<UdpPort> open_port(boost::asio::io_context& io, const SocketAddress& bind) {
  UdpPortOptions options;
  options.bind_address = bind;
  return open_port(io, options);
}

inline Bytes numbered(std::uint32_t number, std::size_t size = 8) {
  Bytes bytes(size, 0xab);
  write_u32(bytes.data(), number);
  return bytes;
}

struct Received {
  SocketAddress from;
  Bytes bytes;
};

// A port that records what it receives and, when `echo` is set, sends each datagram back.
struct Recorder {
  std::vector<Received> received;
  std::vector<std::pair<SocketAddress, int>> unreachable;

  void start(UdpPort& port, bool echo = false) {
    port.start(
        [this, &port, echo](Instant, const SocketAddress& from, ByteSpan bytes) {
          received.push_back({from, Bytes(bytes.begin(), bytes.end())});
          if (echo) {
            port.send(from, bytes);
          }
        },
        [this](const SocketAddress& destination, int error) {
          unreachable.emplace_back(destination, error);
        });
  }
};

}  // namespace ivs::io::udp_testing
