// The send slots of the UDP ports of one thread (udp_send_queue.hpp): payload buffers and the
// destination + iovec that sendmmsg(2) / io_uring read, lent to whichever port queues a datagram
// and taken back when the kernel has it.
//
// Why one pool per thread instead of a ring per port: a media worker owns hundreds of egress
// ports, and at the end of each loop turn its send batch hands every port's queue to the kernel
// (udp_send_batch.hpp), so a datagram lives in a slot for one turn. Slots in use at once are then
// about one turn's traffic of the whole worker, while per-port rings each kept the pages of their
// own deepest recent turn resident: ~20-40 KiB per egress session at 250-500 stages
// (docs/egress-memory.md). A shared pool keeps resident what the worker as a whole needs, and
// the few hot pages it reuses for every port stay in cache.
//
// Allocation always takes the lowest free slot (a bitmap, one bit per slot, scanned from the
// first word with a free bit), so slots in use stay packed at the front and the pages behind
// them can be given back: every release_window() releases the pool compares how far it has been
// written with the deepest slot the window used (and the deepest in use now), and returns the
// pages beyond with madvise(2). The window grows with the pool (a sixteenth of its slots, 64 to
// 4,096 releases): a port's private pool gives a burst back after a few dozen sends, a worker's
// shared one checks at most every 4,096 sends, whatever the number of its ports. Nothing allocates
// after construction; the mappings are reserved up front (MAP_NORESERVE) and pages become resident
// only when written (anonymous_pages.hpp).
//
// Threading: a pool belongs to one thread, like the ports that share it.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "io/anonymous_pages.hpp"

namespace ivs::io {

class UdpSendSlotPool {
 public:
  // What sendmmsg reads for one queued datagram; zero bytes are a valid empty slot, so untouched
  // pages need no construction.
  struct Slot {
    sockaddr_storage destination;
    socklen_t destination_length;
    iovec payload;
  };
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;
  static constexpr std::size_t kReleaseSlack = 8;  // slots kept beyond the window's depth
  // Releases between page give-backs for a pool of `capacity` slots.
  static std::size_t release_window_for(std::size_t capacity);

  // `capacity` slots whose payloads hold `slot_bytes` each.
  UdpSendSlotPool(std::size_t capacity, std::size_t slot_bytes);
  static std::shared_ptr<UdpSendSlotPool> create(std::size_t capacity, std::size_t slot_bytes) {
    return std::make_shared<UdpSendSlotPool>(capacity, slot_bytes);
  }
  UdpSendSlotPool(const UdpSendSlotPool&) = delete;
  UdpSendSlotPool& operator=(const UdpSendSlotPool&) = delete;

  // The lowest free slot, now in use; kNone when every slot is in use.
  std::uint32_t acquire();
  void release(std::uint32_t index);

  Slot& slot(std::uint32_t index) { return reinterpret_cast<Slot*>(slots_.data())[index]; }
  std::uint8_t* payload(std::uint32_t index) { return payloads_.data() + index * slot_bytes_; }

  std::size_t capacity() const { return capacity_; }
  std::size_t slot_bytes() const { return slot_bytes_; }
  std::size_t in_use() const { return in_use_; }
  std::size_t release_window() const { return release_window_; }
  // Slots written since their pages were last given back: what may be resident.
  std::size_t touched_slots() const { return touched_; }

 private:
  void give_back_unused_pages();
  std::size_t highest_in_use_plus_one() const;

  std::size_t capacity_;
  std::size_t slot_bytes_;
  std::size_t release_window_;
  AnonymousPages slots_;
  AnonymousPages payloads_;
  std::vector<std::uint64_t> free_bits_;  // bit set = slot free
  std::size_t first_free_word_ = 0;       // no free bit in the words before it
  std::size_t in_use_ = 0;
  std::size_t touched_ = 0;       // slots [0, touched_) may be resident
  std::size_t window_depth_ = 0;  // the deepest slot acquired in this window, + 1
  std::size_t window_releases_ = 0;
};

}  // namespace ivs::io
