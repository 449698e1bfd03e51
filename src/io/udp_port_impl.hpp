// UdpPort's private state, shared by its translation units (udp_port.cpp: socket set-up and
// receive; udp_port_send.cpp: the send queue and flush). Not part of the io API.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <vector>

#include "io/anonymous_pages.hpp"
#include "io/udp_port.hpp"
#include "io/udp_send_queue.hpp"

namespace ivs::io {

namespace asio = boost::asio;

struct UdpPort::Impl {
  Impl(asio::io_context& io_context, const UdpPortOptions& port_options)
      : io(io_context),
        socket(io_context),
        options(port_options),
        send_queue(port_options.send_queue_capacity, port_options.max_datagram_bytes,
                   !port_options.bind_address.is_ipv4(), port_options.send_slot_pool),
        receive_storage(port_options.receive_batch * port_options.max_datagram_bytes),
        receive_iovecs(port_options.receive_batch),
        receive_names(port_options.receive_batch),
        receive_messages(port_options.receive_batch),
        send_messages(std::max<std::size_t>(port_options.send_batch, 1)) {
    for (std::size_t i = 0; i < receive_messages.size(); ++i) {
      receive_iovecs[i].iov_base = receive_storage.data() + i * options.max_datagram_bytes;
      receive_iovecs[i].iov_len = options.max_datagram_bytes;
      receive_messages[i].msg_hdr.msg_iov = &receive_iovecs[i];
      receive_messages[i].msg_hdr.msg_iovlen = 1;
      receive_messages[i].msg_hdr.msg_name = &receive_names[i];
    }
  }

  int fd() { return socket.is_open() ? socket.native_handle() : unregistered_fd; }
  // A sender's descriptor (UdpPort::open_sender) until it first waits for writability: only
  // then is it handed to `socket` and so to the reactor (see there why).
  void register_with_reactor() {
    if (unregistered_fd < 0) {
      return;
    }
    const bool ipv4 = options.bind_address.is_ipv4();
    boost::system::error_code ignored;
    socket.assign(ipv4 ? asio::ip::udp::v4() : asio::ip::udp::v6(), unregistered_fd, ignored);
    unregistered_fd = -1;
  }

  asio::io_context& io;
  asio::ip::udp::socket socket;
  int unregistered_fd = -1;
  UdpPortOptions options;
  UdpSendQueue send_queue;
  AnonymousPages receive_storage;
  std::vector<iovec> receive_iovecs;
  std::vector<sockaddr_storage> receive_names;
  std::vector<mmsghdr> receive_messages;
  std::vector<mmsghdr> send_messages;
  // Error-queue reads (ICMP reports): the offending datagram's head and the control message.
  std::array<std::uint8_t, 64> error_payload{};
  std::array<std::uint8_t, 512> error_control{};
  sockaddr_storage error_name{};
  UdpPort::SendmmsgFunction sendmmsg_for_test;
  UdpSendQueue::SegmentScratch segment_scratch;
  // Set when the kernel refused a GSO message (no UDP_SEGMENT, or a device without checksum
  // offload answers EIO): the port sends one datagram per message from then on.
  bool segmentation_refused = false;  // fill_segmented's iovecs and control blocks
  bool batch_segmented = false;       // how begin_batched_send filled the messages
};

}  // namespace ivs::io
