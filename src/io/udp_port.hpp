// One UDP socket that many WebRTC sessions share (RFC 8445 §5.1.1.1 host candidates; RFC 7983
// demultiplexing happens above, in whoever owns the receive handler).
//
// Why it looks like this: a media worker moves tens of thousands of datagrams a second through
// one socket, and the syscall, not the copy, is the cost (DESIGN.md §8). So both directions are
// batched:
//
//   kernel --recvmmsg x32--> preallocated buffers --handler(now, from, bytes)--> engines
//   engines --send(dest, bytes)--> queue of slots --flush(): sendmmsg x64--> kernel
//                                      ^                         | EAGAIN
//                                      +-- async_wait(write) <---+
//
// Receiving is driven by Asio readiness on the non-blocking native socket: async_wait(read),
// then recvmmsg until EAGAIN (bounded per wake so a flood cannot starve the io_context's other
// handlers; the rest is drained from a posted continuation). The Instant passed to the handler
// is read once per recvmmsg batch. Nothing allocates per packet. The receive buffers and the send
// slots are mapped up front but only become resident as they are used, and the slot pool gives
// its deep pages back after a burst (udp_send_slot_pool.hpp), so capacity is a cap, not a cost
// per port.
//
// Sending copies into a slot of a fixed pool (udp_send_queue.hpp, udp_send_slot_pool.hpp: the
// pool may be shared by every port of the thread; drop-new when full) and flush() empties the
// queue with sendmmsg. When the kernel buffer is full the rest stays queued and the port flushes
// again once the socket is writable. After each receive batch the port flushes by itself, so a
// handler that answers packets (STUN, NACK) only calls send().
//
// ICMP errors: with report_icmp_errors (IP_RECVERR) the kernel queues "port unreachable" and
// friends; they surface as ECONNREFUSED/EHOSTUNREACH on whichever recv or send runs next. Both
// paths treat those as reports about an earlier datagram, never as a failure of the socket:
// they drain the error queue, tell the unreachable handler which destination failed, and carry
// on. Without IP_RECVERR Linux drops ICMP errors for unconnected sockets silently.
//
// Threading: a port belongs to one thread (the thread running its io_context). The handlers
// may call send(), flush() and close() on the port; they must not destroy it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "proto/bytes.hpp"
#include "proto/result.hpp"
#include "proto/socket_address.hpp"
#include "proto/time.hpp"

namespace boost::asio {
class io_context;
}
struct mmsghdr;

namespace ivs::io {

class UdpSendBatch;
class UdpSendSlotPool;

// Another descriptor of a port's kernel socket (dup(2)), owned: closed on destruction unless a
// port took it (UdpPort::open_sender). Move-only.
class SocketDuplicate {
 public:
  SocketDuplicate() = default;
  explicit SocketDuplicate(int fd) : fd_(fd) {}
  ~SocketDuplicate();
  SocketDuplicate(SocketDuplicate&& other) noexcept : fd_(other.release()) {}
  SocketDuplicate& operator=(SocketDuplicate&& other) noexcept;
  SocketDuplicate(const SocketDuplicate&) = delete;
  SocketDuplicate& operator=(const SocketDuplicate&) = delete;

  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Batch sizes bucketed by powers of two: [1], [2,3], [4,7], [8,15], [16,31], [32,63], [64,...).
struct BatchHistogram {
  static constexpr std::size_t kBuckets = 7;
  std::array<std::uint64_t, kBuckets> counts{};
  void record(std::size_t batch_size);
};

struct UdpPortCounters {
  std::uint64_t datagrams_received = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t receive_syscalls = 0;  // every recvmmsg, including the one that says EAGAIN
  std::uint64_t receive_wakeups = 0;   // readiness notifications and posted continuations
  std::uint64_t receive_errors = 0;    // recvmmsg failures other than EAGAIN and ICMP reports
  std::uint64_t truncated_drops = 0;   // datagrams larger than max_datagram_bytes
  BatchHistogram receive_batches;

  std::uint64_t datagrams_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t send_syscalls = 0;              // every sendmmsg, including failed ones
  std::uint64_t send_would_block = 0;           // sendmmsg said EAGAIN: waited for writability
  std::uint64_t send_errors = 0;                // datagrams the kernel refused (dropped)
  std::uint64_t segmented_messages = 0;         // GSO messages of more than one datagram sent
  std::uint64_t segmentation_fallbacks = 0;     // GSO refused by the kernel: plain sends since
  std::uint64_t queue_full_drops = 0;           // send() while the queue or pool was full
  std::uint64_t oversize_drops = 0;             // send() of more than max_datagram_bytes
  std::uint64_t unsupported_address_drops = 0;  // IPv6 destination on an IPv4 socket
  BatchHistogram send_batches;

  std::uint64_t icmp_errors = 0;  // ICMP reports read from the socket's error queue

  double mean_receive_batch() const;  // datagrams per recvmmsg that returned data
  double mean_send_batch() const;     // datagrams per successful sendmmsg
};

struct UdpPortOptions {
  // IPv4 or IPv6 address to bind; port 0 picks an ephemeral port (read it with local_address()).
  SocketAddress bind_address = SocketAddress::ipv4({127, 0, 0, 1}, 0);
  // An IPv6 socket bound to :: also receives IPv4 unless this is set (IPV6_V6ONLY).
  bool ipv6_only = false;
  // SO_REUSEADDR. Off: for UDP it lets two sockets hold one port, and Linux then hands a port
  // another SO_REUSEADDR socket holds to a bind on port 0 (two stage legs or two viewers on one
  // local port: one of them never gets its replies). UDP has no TIME_WAIT to reuse past.
  bool reuse_address = false;
  // UDP GSO (UDP_SEGMENT): flush() sends runs of equal-size datagrams to one destination as one
  // message the kernel splits. For ports that send bursts to one peer (a WHIP egress session);
  // falls back to plain sendmmsg by itself when the kernel or device refuses it.
  bool segmentation_offload = false;
  // Requested kernel buffer sizes; the granted sizes (Linux doubles and caps the request) are
  // read back and reported. As root, SO_RCVBUFFORCE/SO_SNDBUFFORCE exceed net.core.*mem_max.
  int receive_buffer_bytes = 4 << 20;
  int send_buffer_bytes = 4 << 20;
  std::size_t receive_batch = 32;                 // datagrams per recvmmsg
  std::size_t max_receive_batches_per_wake = 16;  // then yield to other handlers
  std::size_t send_batch = 64;                    // datagrams per sendmmsg
  std::size_t send_queue_capacity = 1024;  // queued datagrams; beyond this send() drops the new one
  std::size_t max_datagram_bytes = 2048;   // per send slot and per receive buffer
  // Where queued datagrams wait (udp_send_slot_pool.hpp): the pool every port of this thread
  // shares, or null for a private pool of send_queue_capacity slots. A shared pool's slots must
  // hold max_datagram_bytes, or larger datagrams are refused as oversize.
  std::shared_ptr<UdpSendSlotPool> send_slot_pool;
  bool flush_after_receive_batch = true;
  bool report_icmp_errors = true;  // IP_RECVERR / IPV6_RECVERR
};

class UdpPort {
 public:
  // Called once per received datagram. `bytes` is valid only during the call.
  using ReceiveHandler =
      std::function<void(Instant now, const SocketAddress& from, ByteSpan bytes)>;
  // Called when an ICMP error names a destination we sent to (e.g. port unreachable), with
  // the errno it carried (ECONNREFUSED, EHOSTUNREACH, ...).
  using UnreachableHandler = std::function<void(const SocketAddress& destination, int error)>;

  // Opens, configures and binds the socket. Errors name the step and the address.
  static Result<std::unique_ptr<UdpPort>> open(boost::asio::io_context& io,
                                               const UdpPortOptions& options);
  ~UdpPort();
  UdpPort(const UdpPort&) = delete;
  UdpPort& operator=(const UdpPort&) = delete;

  // A port on `io` that only sends, from the socket `socket` duplicates (UdpPort::duplicate):
  // its datagrams leave from the same address and port as the original's, which keeps
  // receiving on its own thread. For a media worker that sends WHEP viewers' media from the
  // media plane's one port (app/relay/worker_viewers.hpp); both threads may call sendmmsg on
  // the socket at once (the kernel serialises them per datagram). Never call start() on it.
  // `options` gives the send queue and batch; its bind address is ignored.
  static Result<std::unique_ptr<UdpPort>> open_sender(boost::asio::io_context& io,
                                                      SocketDuplicate socket,
                                                      const UdpPortOptions& options);
  // A second descriptor of this port's socket for open_sender; the error names dup(2)'s.
  Result<SocketDuplicate> duplicate() const;

  // Starts receiving; datagrams that arrived before start() are delivered first.
  void start(ReceiveHandler on_receive, UnreachableHandler on_unreachable = {});
  // Closes the socket; queued datagrams are discarded and no handler runs afterwards.
  void close();
  // Inline and cached: the fan-out path asks once per packet per stage.
  bool is_open() const { return open_; }

  // Queues one datagram (copied). False when it was dropped (queue full, too large, or an
  // address family the socket cannot reach); the drop is counted.
  bool send(const SocketAddress& destination, ByteSpan bytes);
  // The zero-copy form of send (see UdpSendQueue::next_slot): write at most its size into
  // send_slot() (empty when the queue is full or the port closed), then commit_send() the
  // bytes written. Drops are counted as for send().
  MutableByteSpan send_slot();
  bool commit_send(const SocketAddress& destination, std::size_t size);
  // Hands queued datagrams to the kernel until the queue is empty or the kernel pushes back.
  void flush();
  std::size_t queued() const;

  SocketAddress local_address() const { return local_address_; }
  int granted_receive_buffer_bytes() const { return granted_receive_buffer_; }
  int granted_send_buffer_bytes() const { return granted_send_buffer_; }
  const UdpPortCounters& counters() const { return counters_; }

  // Replaces the sendmmsg(2) the port calls (same signature), so tests can make the kernel
  // push back (EAGAIN), fail one datagram, or be interrupted; loopback never does on its own.
  using SendmmsgFunction = std::function<int(int fd, mmsghdr* messages, unsigned count, int flags)>;
  void set_sendmmsg_for_test(SendmmsgFunction sendmmsg);

  // For UdpSendBatch (udp_send_batch.hpp), which sends many ports' queues in one syscall:
  // begin_batched_send() fills the messages one flush() would hand to sendmmsg, at most
  // `max_messages` (none when the
  // queue is empty, the port is closed, or it waits for writability); end_batched_send() says
  // how many of them the kernel took, in order, and the errno that stopped the rest (0 if
  // none). It pops what was sent and, when anything is left, flushes the rest itself.
  struct BatchedSend {
    int fd = -1;
    std::span<mmsghdr> messages;
  };
  BatchedSend begin_batched_send(std::size_t max_messages);
  void end_batched_send(std::size_t messages_sent, int error);
  // The batch this port is deferred in, told when the port closes.
  void set_deferred_in(UdpSendBatch* batch) { deferred_in_ = batch; }
  UdpSendBatch* deferred_in() const { return deferred_in_; }

 private:
  struct Impl;
  explicit UdpPort(std::unique_ptr<Impl> impl);

  void wait_readable();
  void drain_receive();
  bool receive_batch();  // one recvmmsg; false when the socket has nothing more (or closed)
  void deliver_batch(std::size_t count);
  void wait_writable();
  void drain_error_queue();
  bool is_icmp_report(int error) const;
  // Pops the datagrams of the first `messages` filled messages and counts them sent.
  void account_sent(std::size_t messages, bool segmented);

  std::unique_ptr<Impl> impl_;
  SocketAddress local_address_;
  int granted_receive_buffer_ = 0;
  int granted_send_buffer_ = 0;
  UdpPortCounters counters_;
  ReceiveHandler on_receive_;
  UnreachableHandler on_unreachable_;
  bool writable_wait_pending_ = false;
  bool receiving_ = false;
  bool open_ = true;  // until close(); open() only returns bound sockets
  UdpSendBatch* deferred_in_ = nullptr;
  // Asio handlers hold a weak reference to this; once the port is gone they do nothing.
  std::shared_ptr<UdpPort*> self_;
};

}  // namespace ivs::io
