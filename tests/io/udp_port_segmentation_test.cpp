// UDP GSO in UdpPort::flush (UDP_SEGMENT, udp(7)): runs of equal-size datagrams to one
// destination leave as one message, the receiver still sees every datagram on its own and in
// order, and a kernel that refuses GSO makes the port fall back to plain sends without losing
// the run.
#include <netinet/udp.h>

#include <gtest/gtest.h>

#include <cstring>

#include "io/udp_port.hpp"
#include "io_test_support.hpp"

namespace ivs::io {
namespace {

const SocketAddress kLoopback = SocketAddress::ipv4({127, 0, 0, 1}, 0);
using testing::run_until;

std::unique_ptr<UdpPort> open_port(boost::asio::io_context& io, bool segmentation) {
  UdpPortOptions options;
  options.bind_address = kLoopback;
  options.segmentation_offload = segmentation;
  auto port = UdpPort::open(io, options);
  EXPECT_TRUE(port.ok()) << (port.ok() ? "" : port.error().message);
  return port.ok() ? std::move(port).value() : nullptr;
}

Bytes numbered(std::uint32_t number, std::size_t size) {
  Bytes bytes(size, 0xab);
  write_u32(bytes.data(), number);
  return bytes;
}

// A video frame (equal-size packets, the last shorter), audio, then the next frame.
std::vector<std::size_t> frame_sizes() {
  std::vector<std::size_t> sizes(9, 1200);
  sizes.push_back(700);
  sizes.insert(sizes.end(), {120, 118});
  sizes.insert(sizes.end(), 6, 1200);
  return sizes;
}

std::uint16_t segment_size_of(const msghdr& header) {
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&header); cmsg != nullptr;
       cmsg = CMSG_NXTHDR(const_cast<msghdr*>(&header), cmsg)) {
    if (cmsg->cmsg_level == SOL_UDP && cmsg->cmsg_type == UDP_SEGMENT) {
      std::uint16_t size = 0;
      std::memcpy(&size, CMSG_DATA(cmsg), sizeof(size));
      return size;
    }
  }
  return 0;
}

TEST(UdpPortSegmentation, ReceiverGetsEveryDatagramInOrderFromFewMessages) {
  boost::asio::io_context io;
  auto sender = open_port(io, true);
  auto receiver = open_port(io, false);
  ASSERT_TRUE(sender && receiver);
  std::vector<Bytes> received;
  receiver->start([&](Instant, const SocketAddress&, ByteSpan bytes) {
    received.emplace_back(bytes.begin(), bytes.end());
  });
  const auto sizes = frame_sizes();
  for (std::uint32_t i = 0; i < sizes.size(); ++i) {
    ASSERT_TRUE(sender->send(receiver->local_address(), numbered(i, sizes[i])));
  }
  sender->flush();
  EXPECT_EQ(sender->counters().datagrams_sent, sizes.size());
  EXPECT_EQ(sender->counters().send_syscalls, 1u);
  EXPECT_EQ(sender->counters().segmentation_fallbacks, 0u);
  // 9×1200+700 | 120 (118 is shorter: the run's last) | 6×1200.
  EXPECT_EQ(sender->counters().segmented_messages, 3u);
  ASSERT_TRUE(run_until(io, [&] { return received.size() == sizes.size(); }));
  for (std::uint32_t i = 0; i < sizes.size(); ++i) {
    EXPECT_EQ(received[i], numbered(i, sizes[i])) << i;
  }
}

TEST(UdpPortSegmentation, RunsBreakAtALargerDatagramAndAnotherDestination) {
  boost::asio::io_context io;
  auto sender = open_port(io, true);
  auto other = open_port(io, false);
  ASSERT_TRUE(sender && other);
  const SocketAddress first = SocketAddress::ipv4({127, 0, 0, 1}, 9);
  std::vector<std::pair<std::size_t, std::uint16_t>> messages;  // (iovecs, segment size)
  sender->set_sendmmsg_for_test([&](int, mmsghdr* batch, unsigned count, int) {
    for (unsigned i = 0; i < count; ++i) {
      messages.emplace_back(batch[i].msg_hdr.msg_iovlen, segment_size_of(batch[i].msg_hdr));
    }
    return static_cast<int>(count);
  });
  for (std::size_t size : {500, 500, 400, 500, 500}) {
    ASSERT_TRUE(sender->send(first, Bytes(size, 1)));
  }
  ASSERT_TRUE(sender->send(other->local_address(), Bytes(500, 2)));
  sender->flush();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0], std::make_pair(std::size_t{3}, std::uint16_t{500}));  // 500 500 400
  EXPECT_EQ(messages[1], std::make_pair(std::size_t{2}, std::uint16_t{500}));  // 500 500
  EXPECT_EQ(messages[2], std::make_pair(std::size_t{1}, std::uint16_t{0}));    // other peer
  EXPECT_EQ(sender->counters().datagrams_sent, 6u);
  EXPECT_EQ(sender->queued(), 0u);
}

TEST(UdpPortSegmentation, AKernelThatRefusesGsoGetsPlainSendsAndLosesNothing) {
  boost::asio::io_context io;
  auto sender = open_port(io, true);
  ASSERT_TRUE(sender);
  std::size_t plain = 0;
  sender->set_sendmmsg_for_test([&](int, mmsghdr* batch, unsigned count, int) {
    for (unsigned i = 0; i < count; ++i) {
      if (batch[i].msg_hdr.msg_iovlen > 1) {
        errno = EIO;  // what a device without checksum offload answers
        return i == 0 ? -1 : static_cast<int>(i);
      }
      ++plain;
    }
    return static_cast<int>(count);
  });
  const SocketAddress peer = SocketAddress::ipv4({127, 0, 0, 1}, 9);
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(sender->send(peer, Bytes(1000, 3)));
  }
  sender->flush();
  EXPECT_EQ(sender->counters().segmentation_fallbacks, 1u);
  EXPECT_EQ(sender->counters().datagrams_sent, 8u);
  EXPECT_EQ(sender->counters().send_errors, 0u);
  EXPECT_EQ(plain, 8u);
}

}  // namespace
}  // namespace ivs::io
