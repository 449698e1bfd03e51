// One flush per loop turn for every UDP port of a thread: the ports that queued datagrams during
// the turn are handed to the kernel together, with one io_uring_enter(2) (io_uring(7),
// IORING_OP_SENDMSG) for all of them, or with one sendmmsg(2) each where io_uring is not allowed.
//
// Why: a media worker feeds hundreds of stages, each with its own socket (a stage's WHIP
// endpoint may share one address for many sessions, so the 5-tuple is the only thing that
// tells them apart and the sockets cannot be merged). A paced publisher gives each leg a few
// packets per turn, so a sendmmsg per leg per turn was a syscall for every two or three packets;
// on machines whose kernel isolates page tables on every syscall (PTI: ~1 µs for an empty one)
// that was most of the CPU left above the floor (bench/README.md, "io_uring").
//
//   leg ─send_slot/commit─► port's queue ─defer_flush(port)─► this batch (one post per turn)
//   end of turn: flush() ─► each port fills its mmsghdrs (GSO runs as before)
//                         ─► one SQE per message, a port's messages linked (IOSQE_IO_LINK)
//                         ─► io_uring_submit_and_wait(all) ─► each port pops what was sent
//
// Why linked SQEs: a port's datagrams must leave in order and, like sendmmsg, stop at the first
// one the kernel refuses; a link gives exactly that (the rest of the chain completes with
// -ECANCELED). A port whose chain stopped early, or that has more queued than one fill holds,
// finishes with its own UdpPort::flush(), which already knows every error (EAGAIN and the
// writability wait, ICMP reports, GSO refused).
//
// Why nothing stays in flight: MSG_DONTWAIT makes a send that would block complete at once with
// -EAGAIN instead of waiting in the kernel, so every SQE completes during the submit call; the
// batch waits for all of them before the ports touch their rings again, and no kernel reference
// to a send slot outlives flush().
//
// The ring is created on the first flush, on the thread that runs the loop (IORING_SETUP_
// SINGLE_ISSUER binds it to that thread). When io_uring_setup is refused (a container's seccomp
// profile, kernel.io_uring_disabled) the batch logs why once and uses sendmmsg per port.
//
// Threading: one batch per io_context thread; everything runs on that thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace ivs::io {

class UdpPort;

enum class SendBatching {
  kAuto,      // io_uring when the kernel allows it, else sendmmsg per port
  kIoUring,   // io_uring; if it cannot be set up, sendmmsg per port (the reason is logged)
  kSendmmsg,  // one sendmmsg per port per turn (what every port did before batches)
};

struct UdpSendBatchCounters {
  std::uint64_t flushes = 0;        // turns that had at least one port to flush
  std::uint64_t ports_flushed = 0;  // port flushes, summed over flushes
  std::uint64_t submits = 0;        // io_uring_enter calls (io_uring only)
  std::uint64_t messages = 0;       // SENDMSG operations submitted (a GSO run is one)
};

class UdpSendBatch : public std::enable_shared_from_this<UdpSendBatch> {
 public:
  static std::shared_ptr<UdpSendBatch> create(boost::asio::io_context& io, SendBatching mode);
  ~UdpSendBatch();
  UdpSendBatch(const UdpSendBatch&) = delete;
  UdpSendBatch& operator=(const UdpSendBatch&) = delete;

  // Flushes `port` when this turn of the loop ends, with every other port deferred in it. A
  // port deferred twice is flushed once. The port tells the batch itself when it closes.
  void defer_flush(UdpPort& port);
  // Flushes every deferred port now.
  void flush();
  // Called by a port that closes or is destroyed while deferred.
  void forget(const UdpPort& port);

  // False until the first flush has tried io_uring, and when it was refused or not asked for.
  bool uses_io_uring() const;
  const UdpSendBatchCounters& counters() const { return counters_; }

 private:
  struct Ring;
  UdpSendBatch(boost::asio::io_context& io, SendBatching mode);

  bool ring_ready();
  void flush_each(std::size_t first);
  void flush_with_ring();
  bool submit_and_complete(std::size_t first, std::size_t end);
  std::size_t reap_completions();
  void give_up_ring(std::size_t next);

  boost::asio::io_context& io_;
  SendBatching mode_;
  std::unique_ptr<Ring> ring_;
  bool ring_tried_ = false;
  bool flush_posted_ = false;
  struct Deferred {
    UdpPort* port = nullptr;  // null once forgotten
    std::size_t messages = 0;
    std::size_t sent = 0;  // leading messages the kernel took
    int error = 0;         // the first refusal's errno, 0 if none
  };
  std::vector<Deferred> deferred_;
  std::vector<Deferred> flushing_;  // deferred_ of the turn being flushed
  UdpSendBatchCounters counters_;
};

}  // namespace ivs::io
