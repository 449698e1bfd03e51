// UdpPort on real loopback sockets (port 0): delivery with correct source addresses over IPv4,
// IPv6 and dual-stack, that recvmmsg really batches, and that ICMP "port unreachable" never
// breaks the receive loop or eats the next datagram. The send queue: udp_port_send_test.cpp.
#include "io/udp_port.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "udp_test_support.hpp"

namespace ivs::io {
namespace {

using namespace udp_testing;

void expect_round_trip(const SocketAddress& a_bind, const SocketAddress& b_bind,
                       const SocketAddress& a_as_seen_by_b) {
  boost::asio::io_context io;
  auto a = open_port(io, a_bind);
  auto b = open_port(io, b_bind);
  ASSERT_TRUE(a && b);
  Recorder at_a;
  Recorder at_b;
  at_a.start(*a);
  at_b.start(*b, /*echo=*/true);

  constexpr std::uint32_t kCount = 300;
  SocketAddress b_address = b->local_address();
  if (b_address.ip_string() == "::") {
    b_address = SocketAddress::ipv4({127, 0, 0, 1}, b_address.port());
  }
  for (std::uint32_t i = 0; i < kCount; ++i) {
    ASSERT_TRUE(a->send(b_address, numbered(i)));
  }
  a->flush();
  ASSERT_TRUE(run_until(io, [&] { return at_a.received.size() == kCount; }))
      << "a got " << at_a.received.size() << " echoes, b got " << at_b.received.size();

  for (std::uint32_t i = 0; i < kCount; ++i) {
    EXPECT_EQ(at_b.received[i].from, a_as_seen_by_b);
    EXPECT_EQ(read_u32(at_b.received[i].bytes.data()), i);  // loopback keeps order
    EXPECT_EQ(at_a.received[i].from, b_address);
    EXPECT_EQ(at_a.received[i].bytes, numbered(i));
  }
  EXPECT_EQ(a->counters().datagrams_sent, kCount);
  EXPECT_EQ(a->counters().bytes_sent, kCount * 8);
  EXPECT_EQ(b->counters().datagrams_received, kCount);
  EXPECT_EQ(b->counters().datagrams_sent, kCount);
  EXPECT_EQ(a->counters().datagrams_received, kCount);
  EXPECT_EQ(a->counters().bytes_received, kCount * 8);
}

TEST(UdpPort, RoundTripsManyDatagramsOverIpv4WithSourceAddresses) {
  boost::asio::io_context io;
  auto probe = open_port(io, kLoopback4);
  ASSERT_TRUE(probe);
  EXPECT_TRUE(probe->local_address().is_ipv4());
  EXPECT_NE(probe->local_address().port(), 0);
  EXPECT_GT(probe->granted_receive_buffer_bytes(), 0);
  EXPECT_GT(probe->granted_send_buffer_bytes(), 0);
  probe.reset();

  // The source address seen by b is a's own bound address (whose port the kernel chose).
  auto a = open_port(io, kLoopback4);
  ASSERT_TRUE(a);
  const SocketAddress a_address = a->local_address();
  a.reset();
  // Rebinding the same port works: SO_REUSEADDR, and nothing else holds it.
  expect_round_trip(a_address, kLoopback4, a_address);
}

TEST(UdpPort, RoundTripsManyDatagramsOverIpv6Loopback) {
  boost::asio::io_context io;
  auto a = open_port(io, kLoopback6);
  ASSERT_TRUE(a);
  ASSERT_FALSE(a->local_address().is_ipv4());
  const SocketAddress a_address = a->local_address();
  EXPECT_EQ(a_address.ip_string(), "::1");
  a.reset();
  expect_round_trip(a_address, kLoopback6, a_address);
}

TEST(UdpPort, DualStackSocketSeesAndAnswersIpv4PeersAsPlainIpv4) {
  boost::asio::io_context io;
  auto a = open_port(io, kLoopback4);
  ASSERT_TRUE(a);
  const SocketAddress a_address = a->local_address();
  a.reset();
  // b is bound to [::]:0 and gets a's datagrams as ::ffff:127.0.0.1, which it must report as
  // 127.0.0.1 and answer by mapping back.
  expect_round_trip(a_address, *SocketAddress::from_ip("::", 0), a_address);
}

TEST(UdpPort, ReceiveBatchesSeveralDatagramsPerSyscall) {
  boost::asio::io_context io;
  auto sender = open_port(io, kLoopback4);
  auto receiver = open_port(io, kLoopback4);
  ASSERT_TRUE(sender && receiver);
  for (std::uint32_t i = 0; i < 100; ++i) {
    sender->send(receiver->local_address(), numbered(i, 100));
  }
  sender->flush();
  ASSERT_EQ(sender->counters().datagrams_sent, 100u);

  // All 100 are waiting in the kernel before the receiver starts.
  std::vector<Instant> batch_times;
  std::size_t received = 0;
  receiver->start([&](Instant now, const SocketAddress&, ByteSpan bytes) {
    EXPECT_EQ(read_u32(bytes.data()), received);
    ++received;
    batch_times.push_back(now);
  });
  ASSERT_TRUE(run_until(io, [&] { return received == 100; }));

  const auto& counters = receiver->counters();
  EXPECT_EQ(counters.datagrams_received, 100u);
  EXPECT_EQ(counters.bytes_received, 100u * 100u);
  EXPECT_LT(counters.receive_syscalls, 100u);
  EXPECT_LE(counters.receive_syscalls, 10u);  // 32+32+32+4 and one EAGAIN, with slack
  EXPECT_GE(counters.mean_receive_batch(), 8.0);
  EXPECT_GE(counters.receive_batches.counts[5], 3u);  // three full batches of 32
  // The Instant is read once per batch: the first 32 datagrams share it.
  for (std::size_t i = 1; i < 32; ++i) {
    EXPECT_EQ(batch_times[i], batch_times[0]);
  }
}

SocketAddress closed_port_address(boost::asio::io_context& io) {
  auto port = open_port(io, kLoopback4);
  const SocketAddress address = port->local_address();
  port.reset();  // nothing listens there any more
  return address;
}

// A send to a port nobody listens on comes back as ICMP port unreachable, which Linux reports
// as ECONNREFUSED on the next recv or send of the socket. Neither may stop the loop or cost the
// next datagram.
TEST(UdpPort, PortUnreachableIsReportedAndBreaksNeitherReceiveNorSend) {
  boost::asio::io_context io;
  auto a = open_port(io, kLoopback4);
  auto b = open_port(io, kLoopback4);
  ASSERT_TRUE(a && b);
  const SocketAddress closed = closed_port_address(io);
  Recorder at_a;
  Recorder at_b;
  at_a.start(*a);
  at_b.start(*b);

  // The ICMP error arrives while a is still sending: the pending error surfaces on a's next
  // sendmmsg, which must send the datagram to b anyway.
  for (std::uint32_t round = 0; round < 3; ++round) {
    a->send(closed, numbered(round));
    a->flush();
    a->send(b->local_address(), numbered(round));
    a->flush();
  }
  for (std::uint32_t i = 0; i < 10; ++i) {
    b->send(a->local_address(), numbered(i));
  }
  b->flush();
  ASSERT_TRUE(run_until(io,
                        [&] {
                          return at_a.received.size() == 10 && at_b.received.size() == 3 &&
                                 a->counters().icmp_errors >= 3;
                        }))
      << "a got " << at_a.received.size() << ", b got " << at_b.received.size() << ", icmp errors "
      << a->counters().icmp_errors;

  EXPECT_EQ(a->counters().send_errors, 0u);
  EXPECT_EQ(a->counters().datagrams_sent, 6u);
  ASSERT_FALSE(at_a.unreachable.empty());
  for (const auto& [destination, error] : at_a.unreachable) {
    EXPECT_EQ(destination, closed);
    EXPECT_EQ(error, ECONNREFUSED);
  }

  // The loop is still alive afterwards, in both directions.
  b->send(a->local_address(), numbered(99));
  b->flush();
  a->send(b->local_address(), numbered(99));
  a->flush();
  ASSERT_TRUE(
      run_until(io, [&] { return at_a.received.size() == 11 && at_b.received.size() == 4; }));
  EXPECT_EQ(a->counters().receive_errors, 0u);
}

TEST(UdpPort, WithoutIcmpReportsUnreachableSendsAreSilent) {
  boost::asio::io_context io;
  UdpPortOptions options;
  options.report_icmp_errors = false;
  auto a = open_port(io, options);
  auto b = open_port(io, kLoopback4);
  ASSERT_TRUE(a && b);
  const SocketAddress closed = closed_port_address(io);
  Recorder at_a;
  at_a.start(*a);
  a->send(closed, numbered(1));
  a->flush();
  b->send(a->local_address(), numbered(2));
  b->flush();
  ASSERT_TRUE(run_until(io, [&] { return at_a.received.size() == 1; }));
  EXPECT_EQ(a->counters().icmp_errors, 0u);
  EXPECT_TRUE(at_a.unreachable.empty());
  EXPECT_EQ(a->counters().send_errors, 0u);
}

TEST(UdpPort, OversizedIncomingDatagramIsDroppedAndCounted) {
  boost::asio::io_context io;
  UdpPortOptions small;
  small.max_datagram_bytes = 100;
  auto receiver = open_port(io, small);
  auto sender = open_port(io, kLoopback4);
  ASSERT_TRUE(receiver && sender);
  Recorder at_receiver;
  at_receiver.start(*receiver);
  sender->send(receiver->local_address(), numbered(1, 500));
  sender->send(receiver->local_address(), numbered(2, 100));
  sender->flush();
  ASSERT_TRUE(run_until(io, [&] { return at_receiver.received.size() == 1; }));
  EXPECT_EQ(read_u32(at_receiver.received[0].bytes.data()), 2u);
  EXPECT_EQ(receiver->counters().truncated_drops, 1u);
}

TEST(UdpPort, HandlerMayCloseThePortMidBatch) {
  boost::asio::io_context io;
  auto receiver = open_port(io, kLoopback4);
  auto sender = open_port(io, kLoopback4);
  ASSERT_TRUE(receiver && sender);
  for (std::uint32_t i = 0; i < 10; ++i) {
    sender->send(receiver->local_address(), numbered(i));
  }
  sender->flush();
  std::size_t delivered = 0;
  receiver->start([&](Instant, const SocketAddress&, ByteSpan) {
    ++delivered;
    receiver->close();
  });
  ASSERT_TRUE(run_until(io, [&] { return delivered > 0; }));
  io.restart();
  io.poll();
  EXPECT_EQ(delivered, 1u);
  EXPECT_FALSE(receiver->is_open());
  EXPECT_FALSE(receiver->send(sender->local_address(), numbered(1)));
}

TEST(UdpPort, DestroyedPortLeavesNoHandlerBehind) {
  boost::asio::io_context io;
  auto port = open_port(io, kLoopback4);
  ASSERT_TRUE(port);
  port->start([](Instant, const SocketAddress&, ByteSpan) { FAIL() << "port is gone"; });
  port.reset();
  io.poll();  // the posted first drain and the aborted wait run without touching the port
  SUCCEED();
}

// A media worker sends WHEP viewers' media from the media plane's one port while the main
// thread keeps receiving on it (app/relay/worker_viewers.hpp): the datagrams a sender on a
// duplicate sends from another thread leave from the original's address, and the answers still
// reach the original.
TEST(UdpPort, ASenderOnADuplicateSendsFromTheOriginalsAddressOnAnotherThread) {
  boost::asio::io_context io;
  auto a = open_port(io, kLoopback4);
  auto b = open_port(io, kLoopback4);
  ASSERT_TRUE(a && b);
  Recorder at_a;
  Recorder at_b;
  at_a.start(*a);
  at_b.start(*b, /*echo=*/true);
  auto duplicate = a->duplicate();
  ASSERT_TRUE(duplicate) << duplicate.error().message;

  constexpr std::uint32_t kCount = 100;
  boost::asio::io_context worker_io;
  std::thread worker([&, socket = std::move(*duplicate)]() mutable {
    auto sender = UdpPort::open_sender(worker_io, std::move(socket), UdpPortOptions{});
    ASSERT_TRUE(sender) << sender.error().message;
    EXPECT_EQ((*sender)->local_address(), a->local_address());
    for (std::uint32_t i = 0; i < kCount; ++i) {
      EXPECT_TRUE((*sender)->send(b->local_address(), numbered(i)));
    }
    (*sender)->flush();
    EXPECT_EQ((*sender)->counters().datagrams_sent, kCount);
  });
  worker.join();
  ASSERT_TRUE(run_until(io, [&] { return at_a.received.size() == kCount; }))
      << "b got " << at_b.received.size() << ", a got " << at_a.received.size() << " echoes";
  for (const Received& received : at_b.received) {
    EXPECT_EQ(received.from, a->local_address());
  }
  EXPECT_EQ(a->counters().datagrams_sent, 0u);
}

// A sender stays out of the reactor (it would wake at every datagram the original receives)
// until the kernel pushes back; then it registers, waits for writability and sends the rest.
TEST(UdpPort, ASenderThatMeetsEagainWaitsForWritabilityAndSendsTheRest) {
  boost::asio::io_context io;
  auto a = open_port(io, kLoopback4);
  auto b = open_port(io, kLoopback4);
  ASSERT_TRUE(a && b);
  Recorder at_b;
  at_b.start(*b);
  auto duplicate = a->duplicate();
  ASSERT_TRUE(duplicate);
  auto sender = UdpPort::open_sender(io, std::move(*duplicate), UdpPortOptions{});
  ASSERT_TRUE(sender);
  int calls = 0;
  (*sender)->set_sendmmsg_for_test([&](int fd, mmsghdr* messages, unsigned count, int flags) {
    if (++calls == 1) {
      errno = EAGAIN;
      return -1;
    }
    return ::sendmmsg(fd, messages, count, flags);
  });
  for (std::uint32_t i = 0; i < 20; ++i) {
    (*sender)->send(b->local_address(), numbered(i));
  }
  (*sender)->flush();
  EXPECT_EQ((*sender)->counters().send_would_block, 1u);
  EXPECT_EQ((*sender)->queued(), 20u);
  ASSERT_TRUE(run_until(io, [&] { return at_b.received.size() == 20; }));
  EXPECT_EQ(at_b.received.front().from, a->local_address());
}

TEST(UdpPort, AClosedPortHasNoDuplicateAndASenderNeedsABoundSocket) {
  boost::asio::io_context io;
  auto a = open_port(io, kLoopback4);
  ASSERT_TRUE(a);
  a->close();
  EXPECT_FALSE(a->duplicate());
  EXPECT_FALSE(UdpPort::open_sender(io, SocketDuplicate{}, UdpPortOptions{}));
}

// The bug: every client socket (a WHIP egress leg's, an edge's WHEP pull, the benchmark's
// viewers) was opened on port 0 with SO_REUSEADDR, and for UDP Linux then treats a port held by
// another SO_REUSEADDR socket as free: 2 of 200 WHEP viewers of bench/whep_viewers.py got the
// same local port as another, the server saw two sessions at one address, and one of them
// failed (its DTLS went to the other). The same could hit two stage legs of one server. Ports
// now open without SO_REUSEADDR unless asked: ephemeral ports are then distinct.
TEST(UdpPort, EphemeralPortsAreDistinct) {
  boost::asio::io_context io;
  std::vector<std::unique_ptr<UdpPort>> ports;
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 1000; ++i) {
    UdpPortOptions options;
    options.bind_address = kLoopback4;
    options.receive_buffer_bytes = 0;  // 1,000 sockets: keep the kernel's default buffers
    options.send_buffer_bytes = 0;
    auto port = UdpPort::open(io, options);
    ASSERT_TRUE(port) << port.error().message;
    EXPECT_TRUE(seen.insert((*port)->local_address().port()).second)
        << "port " << (*port)->local_address().port() << " handed out twice";
    ports.push_back(std::move(*port));
  }
}

TEST(UdpPort, BindFailureNamesTheAddress) {
  boost::asio::io_context io;
  UdpPortOptions options;
  options.bind_address = SocketAddress::ipv4({192, 0, 2, 1}, 9);  // not a local address
  auto port = UdpPort::open(io, options);
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.error().message.find("192.0.2.1:9"), std::string::npos) << port.error().message;
  EXPECT_NE(port.error().message.find("bind"), std::string::npos);
}

TEST(BatchHistogram, BucketsByPowersOfTwo) {
  BatchHistogram histogram;
  for (std::size_t size : {1, 2, 3, 4, 31, 32, 63, 64, 1000}) {
    histogram.record(size);
  }
  histogram.record(0);
  const std::array<std::uint64_t, BatchHistogram::kBuckets> expected{1, 2, 1, 0, 1, 2, 2};
  EXPECT_EQ(histogram.counts, expected);
}

}  // namespace
}  // namespace ivs::io