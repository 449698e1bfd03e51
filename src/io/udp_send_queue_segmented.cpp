// UdpSendQueue::fill_segmented: the queue as UDP GSO messages (UDP_SEGMENT, Linux 4.18,
// udp(7)). Why: one egress socket per stage gets a video frame's packets per loop turn (a
// handful of ~1,200-byte datagrams of the same size, the frame's last one shorter), and the
// kernel's per-datagram send work (route lookup, IP id, skb allocation, qdisc/loopback hand-off)
// dominates the fan-out's cost (bench/README.md, "send path"). With UDP_SEGMENT the run is one
// message the kernel builds once and splits at the device, or the NIC splits in hardware; the
// receiver still sees ordinary datagrams.
#include <netinet/udp.h>

#include <cstring>

#include "io/udp_send_queue.hpp"

namespace ivs::io {

namespace {

// The kernel refuses a GSO message above 64 KiB minus the headers.
constexpr std::size_t kMaxSegmentedBytes = 65000;
constexpr std::size_t kControlBytes = CMSG_SPACE(sizeof(std::uint16_t));

}  // namespace

std::size_t UdpSendQueue::fill_segmented(std::span<mmsghdr> messages, std::size_t max_segments,
                                         SegmentScratch& scratch) {
  max_segments = std::max<std::size_t>(max_segments, 1);
  // Bounded so a port's scratch stays a few KiB however deep its ring is: what does not fit is
  // sent by the next sendmmsg of the same flush.
  const std::size_t max_iovecs = std::min(size_, messages.size() * max_segments);
  scratch.iovecs.resize(std::min<std::size_t>(max_iovecs, 256));
  scratch.control.resize(messages.size() * kControlBytes);
  scratch.segments.resize(messages.size());

  std::size_t count = 0;
  std::size_t used_iovecs = 0;
  std::size_t index = 0;  // datagrams consumed so far, from head_
  while (count < messages.size() && index < size_ && used_iovecs < scratch.iovecs.size()) {
    Slot& first = slot_at(index);
    const std::size_t segment_size = first.payload.iov_len;
    iovec* iovecs = scratch.iovecs.data() + used_iovecs;
    std::size_t segments = 0;
    std::size_t bytes = 0;
    while (index + segments < size_ && segments < max_segments &&
           used_iovecs + segments < scratch.iovecs.size()) {
      Slot& next = slot_at(index + segments);
      const bool same_destination =
          next.destination_length == first.destination_length &&
          std::memcmp(&next.destination, &first.destination, first.destination_length) == 0;
      if (segments > 0 && (!same_destination || next.payload.iov_len > segment_size ||
                           bytes + next.payload.iov_len > kMaxSegmentedBytes)) {
        break;
      }
      iovecs[segments] = next.payload;
      bytes += next.payload.iov_len;
      ++segments;
      if (next.payload.iov_len < segment_size) {
        break;  // only the last segment of a message may be shorter
      }
    }
    msghdr& header = messages[count].msg_hdr;
    header = msghdr{};
    header.msg_name = &first.destination;
    header.msg_namelen = first.destination_length;
    header.msg_iov = iovecs;
    header.msg_iovlen = segments;
    messages[count].msg_len = 0;
    if (segments > 1) {
      std::uint8_t* control = scratch.control.data() + count * kControlBytes;
      std::memset(control, 0, kControlBytes);
      header.msg_control = control;
      header.msg_controllen = kControlBytes;
      cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
      cmsg->cmsg_level = SOL_UDP;
      cmsg->cmsg_type = UDP_SEGMENT;
      cmsg->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
      const auto gso_size = static_cast<std::uint16_t>(segment_size);
      std::memcpy(CMSG_DATA(cmsg), &gso_size, sizeof(gso_size));
    }
    scratch.segments[count] = static_cast<std::uint16_t>(segments);
    used_iovecs += segments;
    index += segments;
    ++count;
  }
  return count;
}

}  // namespace ivs::io
