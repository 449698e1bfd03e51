// UdpSendBatch on real loopback sockets: many ports flushed with one io_uring submission (or one
// sendmmsg each), every datagram delivered once and in order per port, GSO runs kept, a port
// closed while deferred skipped, an ICMP report consumed by the batch still reported, and more
// messages than the ring holds sent in chunks.
#include "io/udp_send_batch.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <map>
#include <memory>
#include <vector>

#include "udp_test_support.hpp"

namespace ivs::io {
namespace {

using namespace udp_testing;

// A receiving port, `count` sending ports and the batch under test, on one loop.
struct Rig {
  boost::asio::io_context io;
  std::unique_ptr<UdpPort> receiver = open_port(io, kLoopback4);
  Recorder recorder;
  std::vector<std::unique_ptr<UdpPort>> ports;
  std::shared_ptr<UdpSendBatch> batch;

  Rig(SendBatching mode, std::size_t count, bool segmentation = false)
      : batch(UdpSendBatch::create(io, mode)) {
    recorder.start(*receiver);
    for (std::size_t i = 0; i < count; ++i) {
      UdpPortOptions options;
      options.segmentation_offload = segmentation;
      ports.push_back(open_port(io, options));
    }
  }

  // Queues `per_port` numbered datagrams on every port, defers each port (the first one
  // twice), and runs the loop until the receiver has them all.
  void send_through(std::uint32_t per_port, std::size_t size = 8) {
    for (auto& port : ports) {
      for (std::uint32_t i = 0; i < per_port; ++i) {
        ASSERT_TRUE(port->send(receiver->local_address(), numbered(i, size)));
      }
      batch->defer_flush(*port);
    }
    batch->defer_flush(*ports.front());  // once is enough
    const std::size_t expected = ports.size() * per_port;
    ASSERT_TRUE(run_until(io, [&] { return recorder.received.size() >= expected; }))
        << recorder.received.size() << " of " << expected;
  }
};

// Per source port, the numbers it received, in arrival order.
std::map<std::uint16_t, std::vector<std::uint32_t>> by_sender(const Recorder& recorder) {
  std::map<std::uint16_t, std::vector<std::uint32_t>> numbers;
  for (const auto& datagram : recorder.received) {
    numbers[datagram.from.port()].push_back(read_u32(datagram.bytes.data()));
  }
  return numbers;
}

std::vector<std::uint32_t> count_to(std::uint32_t n) {
  std::vector<std::uint32_t> numbers;
  for (std::uint32_t i = 0; i < n; ++i) {
    numbers.push_back(i);
  }
  return numbers;
}

class UdpSendBatchTest : public ::testing::TestWithParam<SendBatching> {};

TEST_P(UdpSendBatchTest, FlushesEveryDeferredPortOnceAtTheEndOfTheTurnInOrder) {
  Rig rig(GetParam(), 20);

  rig.send_through(5);

  EXPECT_EQ(rig.recorder.received.size(), 100u);
  const auto numbers = by_sender(rig.recorder);
  ASSERT_EQ(numbers.size(), 20u);
  for (const auto& [port, received] : numbers) {
    EXPECT_EQ(received, count_to(5)) << "from port " << port;
  }
  for (const auto& port : rig.ports) {
    EXPECT_EQ(port->counters().datagrams_sent, 5u);
    EXPECT_EQ(port->queued(), 0u);
  }
  EXPECT_EQ(rig.batch->counters().flushes, 1u);
  EXPECT_EQ(rig.batch->counters().ports_flushed, 20u);
  if (rig.batch->uses_io_uring()) {
    // The point of the batch: the kernel is entered a few times for twenty sockets, and no
    // port made a sendmmsg of its own.
    EXPECT_EQ(rig.batch->counters().messages, 100u);
    EXPECT_LT(rig.batch->counters().submits, 20u);
    for (const auto& port : rig.ports) {
      EXPECT_EQ(port->counters().send_syscalls, 0u);
    }
  } else {
    EXPECT_NE(GetParam(), SendBatching::kAuto) << "io_uring refused on this machine";
    EXPECT_EQ(rig.batch->counters().submits, 0u);
    for (const auto& port : rig.ports) {
      EXPECT_EQ(port->counters().send_syscalls, 1u);
    }
  }
}

TEST_P(UdpSendBatchTest, KeepsGsoRunsOneMessageEach) {
  Rig rig(GetParam(), 3, /*segmentation=*/true);

  rig.send_through(10, 1000);

  for (const auto& [port, received] : by_sender(rig.recorder)) {
    EXPECT_EQ(received, count_to(10)) << "from port " << port;
  }
  for (const auto& port : rig.ports) {
    EXPECT_EQ(port->counters().segmented_messages, 1u);  // ten equal datagrams, one message
  }
  if (rig.batch->uses_io_uring()) {
    EXPECT_EQ(rig.batch->counters().messages, 3u);
  }
}

TEST_P(UdpSendBatchTest, SkipsAPortClosedOrDestroyedWhileDeferred) {
  Rig rig(GetParam(), 3);
  for (auto& port : rig.ports) {
    port->send(rig.receiver->local_address(), numbered(7));
    rig.batch->defer_flush(*port);
  }
  rig.ports[0]->close();
  rig.ports[1].reset();

  ASSERT_TRUE(run_until(rig.io, [&] { return rig.batch->counters().flushes == 1; }));
  ASSERT_TRUE(run_until(rig.io, [&] { return rig.recorder.received.size() == 1; }));
  EXPECT_EQ(rig.recorder.received[0].from.port(), rig.ports[2]->local_address().port());
  EXPECT_EQ(rig.batch->counters().ports_flushed, 1u);
}

// A port's unreachable handler runs inside the batch's flush (the ICMP report is read there);
// if it destroys a port deferred after it, as a failing session does with its own socket, the
// batch must skip that port, not flush it after it is gone (ASan would see the use).
TEST_P(UdpSendBatchTest, SkipsAPortDestroyedByAnotherPortsHandlerDuringTheFlush) {
  Rig rig(GetParam(), 2);
  auto gone = open_port(rig.io, kLoopback4);
  const SocketAddress closed = gone->local_address();
  gone.reset();
  UdpPort& first = *rig.ports[0];
  first.start([](Instant, const SocketAddress&, ByteSpan) {},
              [&rig](const SocketAddress&, int) { rig.ports[1].reset(); });
  first.send(closed, numbered(0));
  first.flush();  // the ICMP report is now pending on the first port's socket

  first.send(rig.receiver->local_address(), numbered(1));
  rig.batch->defer_flush(first);
  rig.ports[1]->send(rig.receiver->local_address(), numbered(2));
  rig.batch->defer_flush(*rig.ports[1]);
  ASSERT_TRUE(run_until(rig.io, [&] { return rig.batch->counters().flushes == 1; }));
  ASSERT_TRUE(run_until(rig.io, [&] { return rig.recorder.received.size() == 1; }));

  EXPECT_EQ(rig.ports[1], nullptr);
  EXPECT_EQ(read_u32(rig.recorder.received[0].bytes.data()), 1u);
  EXPECT_EQ(rig.recorder.received[0].from.port(), first.local_address().port());
  EXPECT_EQ(rig.batch->counters().ports_flushed, 1u);
}

// The bug this guards against: a sendmsg through io_uring consumes the socket's pending ICMP
// error (ECONNREFUSED) instead of sending, exactly like sendmmsg does; the port must still read
// the report, tell its unreachable handler, and send the datagram it was refused.
TEST_P(UdpSendBatchTest, ReportsIcmpErrorsAndStillSendsTheRefusedDatagram) {
  boost::asio::io_context io;
  auto a = open_port(io, kLoopback4);
  auto b = open_port(io, kLoopback4);
  ASSERT_TRUE(a && b);
  auto gone = open_port(io, kLoopback4);
  const SocketAddress closed = gone->local_address();
  gone.reset();
  Recorder at_a;
  Recorder at_b;
  at_a.start(*a);
  at_b.start(*b);
  auto batch = UdpSendBatch::create(io, GetParam());

  for (std::uint32_t round = 0; round < 3; ++round) {
    a->send(closed, numbered(round));
    a->send(b->local_address(), numbered(round));
    batch->defer_flush(*a);
    const auto flushes = batch->counters().flushes;
    ASSERT_TRUE(run_until(io, [&] { return batch->counters().flushes > flushes; }));
  }
  ASSERT_TRUE(run_until(io, [&] { return at_b.received.size() == 3; }));
  EXPECT_EQ(a->counters().send_errors, 0u);
  EXPECT_EQ(a->counters().datagrams_sent, 6u);
  if (!batch->uses_io_uring()) {
    // One sendmmsg carries both datagrams: the kernel clears the error that stops it after the
    // first and returns 1 ("the error code is lost", sendmmsg(2)), so the report is not read.
    return;
  }
  ASSERT_TRUE(run_until(io, [&] { return a->counters().icmp_errors >= 2; }))
      << "icmp errors " << a->counters().icmp_errors;
  ASSERT_FALSE(at_a.unreachable.empty());
  for (const auto& [destination, error] : at_a.unreachable) {
    EXPECT_EQ(destination, closed);
    EXPECT_EQ(error, ECONNREFUSED);
  }
}

// 12 ports × 64 datagrams is more than the ring's 512 entries: the batch submits in chunks that
// end on a port boundary, and every datagram still arrives once, in order.
TEST_P(UdpSendBatchTest, SendsMoreMessagesThanTheRingHoldsInChunks) {
  Rig rig(GetParam(), 12);

  rig.send_through(64);

  EXPECT_EQ(rig.recorder.received.size(), 12u * 64u);
  for (const auto& [port, received] : by_sender(rig.recorder)) {
    EXPECT_EQ(received, count_to(64)) << "from port " << port;
  }
  if (rig.batch->uses_io_uring()) {
    EXPECT_EQ(rig.batch->counters().messages, 12u * 64u);
    EXPECT_GE(rig.batch->counters().submits, 2u);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, UdpSendBatchTest,
                         ::testing::Values(SendBatching::kAuto, SendBatching::kSendmmsg),
                         [](const auto& info) {
                           return info.param == SendBatching::kAuto ? std::string("IoUring")
                                                                    : std::string("Sendmmsg");
                         });

}  // namespace
}  // namespace ivs::io
