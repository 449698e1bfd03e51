// UdpPort's send half on real loopback sockets (port 0): sendmmsg really batches, the drop-new
// queue limit, zero-copy send slots, a slot pool shared by ports, the queue's resident memory,
// kernel push-back and refusals.
#include <gtest/gtest.h>

#include <cerrno>
#include <fstream>
#include <string>
#include <vector>

#include "io/udp_port.hpp"
#include "io/udp_send_slot_pool.hpp"
#include "support/sanitizer.hpp"
#include "udp_test_support.hpp"

namespace ivs::io {
namespace {

using namespace udp_testing;

TEST(UdpPort, FlushSendsTheWholeQueueInFewSyscalls) {
  boost::asio::io_context io;
  auto sender = open_port(io, kLoopback4);
  auto receiver = open_port(io, kLoopback4);
  ASSERT_TRUE(sender && receiver);
  Recorder at_receiver;
  at_receiver.start(*receiver);

  constexpr std::uint32_t kCount = 500;
  for (std::uint32_t i = 0; i < kCount; ++i) {
    ASSERT_TRUE(sender->send(receiver->local_address(), numbered(i, 200)));
  }
  EXPECT_EQ(sender->queued(), kCount);
  EXPECT_EQ(sender->counters().datagrams_sent, 0u);  // send() only queues
  sender->flush();
  EXPECT_EQ(sender->queued(), 0u);
  const auto& counters = sender->counters();
  EXPECT_EQ(counters.datagrams_sent, kCount);
  EXPECT_EQ(counters.bytes_sent, kCount * 200);
  EXPECT_LE(counters.send_syscalls, kCount / 64 + 2);
  EXPECT_GT(counters.mean_send_batch(), 32.0);
  EXPECT_EQ(counters.send_errors, 0u);

  ASSERT_TRUE(run_until(io, [&] { return at_receiver.received.size() == kCount; }));
  for (std::uint32_t i = 0; i < kCount; ++i) {
    EXPECT_EQ(read_u32(at_receiver.received[i].bytes.data()), i);
    EXPECT_EQ(at_receiver.received[i].from, sender->local_address());
  }
}

TEST(UdpPort, FullQueueDropsTheNewDatagramAndCountsIt) {
  boost::asio::io_context io;
  UdpPortOptions options;
  options.send_queue_capacity = 8;
  options.max_datagram_bytes = 256;
  auto sender = open_port(io, options);
  auto receiver = open_port(io, kLoopback4);
  ASSERT_TRUE(sender && receiver);
  Recorder at_receiver;
  at_receiver.start(*receiver);

  for (std::uint32_t i = 0; i < 12; ++i) {
    EXPECT_EQ(sender->send(receiver->local_address(), numbered(i)), i < 8) << i;
  }
  EXPECT_FALSE(sender->send(receiver->local_address(), Bytes(257, 1)));
  EXPECT_EQ(sender->counters().queue_full_drops, 4u);
  EXPECT_EQ(sender->counters().oversize_drops, 1u);
  EXPECT_EQ(sender->queued(), 8u);

  sender->flush();
  EXPECT_EQ(sender->counters().datagrams_sent, 8u);
  // The queue is usable again after the flush.
  EXPECT_TRUE(sender->send(receiver->local_address(), numbered(100)));
  sender->flush();
  ASSERT_TRUE(run_until(io, [&] { return at_receiver.received.size() == 9; }));
  for (std::uint32_t i = 0; i < 8; ++i) {
    EXPECT_EQ(read_u32(at_receiver.received[i].bytes.data()), i);  // the oldest were kept
  }
  EXPECT_EQ(read_u32(at_receiver.received[8].bytes.data()), 100u);
}

// The fan-out path writes (encrypts) straight into the next send slot: nothing is queued until
// commit_send, a full ring hands out no slot, and a commit beyond the slot size is refused.
TEST(UdpPort, SendSlotIsWrittenInPlaceAndQueuedOnlyOnCommit) {
  boost::asio::io_context io;
  UdpPortOptions options;
  options.send_queue_capacity = 2;
  options.max_datagram_bytes = 256;
  auto sender = open_port(io, options);
  auto receiver = open_port(io, kLoopback4);
  ASSERT_TRUE(sender && receiver);
  Recorder at_receiver;
  at_receiver.start(*receiver);

  for (std::uint32_t i = 0; i < 2; ++i) {
    MutableByteSpan slot = sender->send_slot();
    ASSERT_EQ(slot.size(), 256u);
    write_u32(slot.data(), 7 + i);
    EXPECT_EQ(sender->queued(), i);  // writing into the slot queues nothing
    ASSERT_TRUE(sender->commit_send(receiver->local_address(), 4));
  }
  EXPECT_TRUE(sender->send_slot().empty());  // full
  EXPECT_FALSE(sender->commit_send(receiver->local_address(), 4));
  EXPECT_EQ(sender->counters().queue_full_drops, 1u);
  sender->flush();
  EXPECT_FALSE(sender->commit_send(receiver->local_address(), 257));
  EXPECT_EQ(sender->counters().oversize_drops, 1u);
  ASSERT_TRUE(run_until(io, [&] { return at_receiver.received.size() == 2; }));
  EXPECT_EQ(read_u32(at_receiver.received[0].bytes.data()), 7u);
  EXPECT_EQ(read_u32(at_receiver.received[1].bytes.data()), 8u);
  EXPECT_EQ(at_receiver.received[1].bytes.size(), 4u);
}

// A media worker's egress ports share one slot pool (EgressSendPath): a port's datagrams hold
// slots only until they are sent, every port keeps its own order, and a pool drained by one
// port refuses (and counts) the other's datagrams until the slots come back.
TEST(UdpPort, PortsSharingASlotPoolEachKeepTheirOrderAndGiveTheSlotsBack) {
  boost::asio::io_context io;
  UdpPortOptions options;
  options.bind_address = kLoopback4;
  options.max_datagram_bytes = 256;
  options.send_slot_pool = UdpSendSlotPool::create(8, 256);
  auto first = open_port(io, options);
  auto second = open_port(io, options);
  auto receiver = open_port(io, kLoopback4);
  ASSERT_TRUE(first && second && receiver);
  Recorder at_receiver;
  at_receiver.start(*receiver);

  for (std::uint32_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(first->send(receiver->local_address(), numbered(i)));
  }
  for (std::uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(second->send(receiver->local_address(), numbered(100 + i)), i < 3) << i;
  }
  EXPECT_EQ(second->counters().queue_full_drops, 1u);
  EXPECT_TRUE(second->send_slot().empty());  // no slot to write into either
  EXPECT_EQ(options.send_slot_pool->in_use(), 8u);

  first->flush();
  EXPECT_EQ(options.send_slot_pool->in_use(), 3u);
  EXPECT_TRUE(second->send(receiver->local_address(), numbered(103)));
  second->flush();
  EXPECT_EQ(options.send_slot_pool->in_use(), 0u);

  ASSERT_TRUE(run_until(io, [&] { return at_receiver.received.size() == 9; }));
  std::vector<std::uint32_t> from_first;
  std::vector<std::uint32_t> from_second;
  for (const auto& datagram : at_receiver.received) {
    (datagram.from == first->local_address() ? from_first : from_second)
        .push_back(read_u32(datagram.bytes.data()));
  }
  EXPECT_EQ(from_first, (std::vector<std::uint32_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(from_second, (std::vector<std::uint32_t>{100, 101, 102, 103}));
}

// A port destroyed with datagrams still queued (a stage that left while its socket waited for
// writability) returns their slots, so the pool it shares does not shrink for good.
TEST(UdpPort, APortDestroyedWithQueuedDatagramsReturnsItsSlots) {
  boost::asio::io_context io;
  UdpPortOptions options;
  options.bind_address = kLoopback4;
  options.send_slot_pool = UdpSendSlotPool::create(16, 2048);
  auto port = open_port(io, options);
  ASSERT_TRUE(port);
  const auto destination = *SocketAddress::from_string("127.0.0.1:9");
  for (std::uint32_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(port->send(destination, numbered(i)));
  }
  ASSERT_FALSE(port->send_slot().empty());  // one more slot lent out, not yet committed
  EXPECT_EQ(options.send_slot_pool->in_use(), 11u);
  port.reset();
  EXPECT_EQ(options.send_slot_pool->in_use(), 0u);
}

// Resident anonymous memory of this process in KiB (RssAnon in /proc/self/status).
std::int64_t resident_anonymous_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("RssAnon:", 0) == 0) {
      return std::stoll(line.substr(8));
    }
  }
  return -1;
}

// Issue 6: one port per egress session, so a port must not cost its capacity in resident memory.
// The queue is sized for a burst (a GOP replayed to a new stage): opening it costs address space
// only, a burst makes its slots resident, and once traffic is steady again the deep pages go
// back.
TEST(UdpPort, SendRingIsResidentOnlyAsDeepAsUsedAndShrinksAfterABurst) {
#if IVS_ADDRESS_SANITIZER
  // Under AddressSanitizer the process's resident memory is mostly ASan's (shadow pages, the
  // freed-memory quarantine), so RssAnon says nothing about the ring: CI's ASan run failed here.
  GTEST_SKIP() << "resident memory is not measurable under AddressSanitizer";
#endif
  boost::asio::io_context io;
  auto receiver = open_port(io, kLoopback4);
  ASSERT_TRUE(receiver);
  std::size_t received = 0;
  receiver->start([&](Instant, const SocketAddress&, ByteSpan) { ++received; });
  const std::int64_t before = resident_anonymous_kib();
  ASSERT_GT(before, 0);

  UdpPortOptions options;
  options.send_queue_capacity = 4096;  // 8 MiB of slots
  options.receive_batch = 256;         // 512 KiB of receive buffers
  auto sender = open_port(io, options);
  ASSERT_TRUE(sender);
  const std::int64_t opened = resident_anonymous_kib();
  EXPECT_LT(opened - before, 512) << "opening made the rings resident";

  // Steady traffic: a few datagrams per flush stay in the first slots.
  for (int round = 0; round < 200; ++round) {
    for (std::uint32_t i = 0; i < 8; ++i) {
      ASSERT_TRUE(sender->send(receiver->local_address(), numbered(i, 1200)));
    }
    sender->flush();
  }
  EXPECT_LT(resident_anonymous_kib() - before, 512) << "steady traffic walked the whole ring";

  // A burst of 3000 datagrams of 1200 bytes (~3.5 MiB resident while queued).
  for (std::uint32_t i = 0; i < 3000; ++i) {
    ASSERT_TRUE(sender->send(receiver->local_address(), numbered(i, 1200)));
  }
  const std::int64_t during = resident_anonymous_kib();
  EXPECT_GT(during - before, 3000);
  sender->flush();
  ASSERT_EQ(sender->queued(), 0u);
  EXPECT_EQ(sender->counters().queue_full_drops, 0u);
  // Steady traffic again: within two release windows of the port's (private) slot pool the deep
  // pages go back.
  const std::size_t window = UdpSendSlotPool::release_window_for(options.send_queue_capacity);
  for (std::size_t round = 0; round < 2 * window / 8 + 1; ++round) {
    for (std::uint32_t i = 0; i < 8; ++i) {
      ASSERT_TRUE(sender->send(receiver->local_address(), numbered(i, 1200)));
    }
    sender->flush();
  }
  const std::int64_t after = resident_anonymous_kib();
  EXPECT_LT(after - before, 512) << "during the burst " << during - before << " KiB";
  ASSERT_TRUE(run_until(io, [&] { return received > 0; }));
}

// Loopback never makes sendmmsg say EAGAIN (the skb is orphaned at once), so the kernel's push
// back is simulated: the first call sends 10 datagrams, the second says EAGAIN.
TEST(UdpPort, KernelPushBackKeepsTheRestQueuedUntilWritable) {
  boost::asio::io_context io;
  auto sender = open_port(io, kLoopback4);
  auto receiver = open_port(io, kLoopback4);
  ASSERT_TRUE(sender && receiver);
  Recorder at_receiver;
  at_receiver.start(*receiver);
  int calls = 0;
  sender->set_sendmmsg_for_test([&](int fd, mmsghdr* messages, unsigned count, int flags) {
    ++calls;
    if (calls == 1) {
      return ::sendmmsg(fd, messages, std::min(count, 10u), flags);
    }
    if (calls == 2) {
      errno = EAGAIN;
      return -1;
    }
    return ::sendmmsg(fd, messages, count, flags);
  });
  for (std::uint32_t i = 0; i < 100; ++i) {
    sender->send(receiver->local_address(), numbered(i));
  }
  sender->flush();
  EXPECT_EQ(sender->counters().datagrams_sent, 10u);
  EXPECT_EQ(sender->queued(), 90u);
  EXPECT_EQ(sender->counters().send_would_block, 1u);
  // While waiting for writability, flush() leaves the kernel alone; new datagrams queue behind.
  sender->send(receiver->local_address(), numbered(100));
  sender->flush();
  EXPECT_EQ(calls, 2);

  ASSERT_TRUE(run_until(io, [&] { return at_receiver.received.size() == 101; }));
  EXPECT_EQ(sender->queued(), 0u);
  for (std::uint32_t i = 0; i <= 100; ++i) {
    EXPECT_EQ(read_u32(at_receiver.received[i].bytes.data()), i);
  }
  EXPECT_EQ(sender->counters().send_errors, 0u);
}

// A datagram the kernel refuses for itself (here: always ECONNREFUSED for one destination) is
// retried once, as a possible stale ICMP report, then dropped; the ones behind it still go.
TEST(UdpPort, DatagramTheKernelKeepsRefusingIsDroppedAloneAfterOneRetry) {
  boost::asio::io_context io;
  auto sender = open_port(io, kLoopback4);
  auto receiver = open_port(io, kLoopback4);
  ASSERT_TRUE(sender && receiver);
  Recorder at_receiver;
  at_receiver.start(*receiver);
  const SocketAddress refused = SocketAddress::ipv4({127, 0, 0, 1}, 9);
  int refusals = 0;
  // Like the kernel: sends up to the refused datagram; fails the call when it is the first.
  sender->set_sendmmsg_for_test([&](int fd, mmsghdr* messages, unsigned count, int flags) {
    unsigned sendable = 0;
    while (sendable < count &&
           ntohs(static_cast<const sockaddr_in*>(messages[sendable].msg_hdr.msg_name)->sin_port) !=
               refused.port()) {
      ++sendable;
    }
    if (sendable == 0) {
      ++refusals;
      errno = ECONNREFUSED;
      return -1;
    }
    return ::sendmmsg(fd, messages, sendable, flags);
  });
  sender->send(receiver->local_address(), numbered(1));
  sender->send(refused, numbered(2));
  sender->send(receiver->local_address(), numbered(3));
  sender->flush();
  EXPECT_EQ(refusals, 2);
  EXPECT_EQ(sender->counters().send_errors, 1u);
  EXPECT_EQ(sender->counters().datagrams_sent, 2u);
  EXPECT_EQ(sender->queued(), 0u);
  ASSERT_TRUE(run_until(io, [&] { return at_receiver.received.size() == 2; }));
  EXPECT_EQ(read_u32(at_receiver.received[1].bytes.data()), 3u);
}

TEST(UdpPort, Ipv6DestinationOnIpv4SocketIsDroppedAndCounted) {
  boost::asio::io_context io;
  auto port = open_port(io, kLoopback4);
  ASSERT_TRUE(port);
  EXPECT_FALSE(port->send(*SocketAddress::from_ip("::1", 9), numbered(1)));
  EXPECT_EQ(port->counters().unsupported_address_drops, 1u);
  EXPECT_EQ(port->queued(), 0u);
}

}  // namespace
}  // namespace ivs::io
