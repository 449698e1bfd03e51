#include "io/udp_send_batch.hpp"

#include <liburing.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstring>

#include "io/udp_port.hpp"

namespace ivs::io {
namespace {

// Submission entries: room for several ports' fills (UdpPortOptions::send_batch, 64 each);
// beyond it the batch submits in chunks.
constexpr unsigned kRingEntries = 512;
// A port gets at most the space left; below this much the chunk is submitted first, so that a
// port's messages are not cut into many small chains.
constexpr unsigned kMinSpacePerPort = 64;

// user_data of an SQE: the deferred entry in the high half, the message in the low half.
std::uint64_t tag(std::size_t entry, std::size_t message) {
  return (static_cast<std::uint64_t>(entry) << 32) | static_cast<std::uint64_t>(message);
}

}  // namespace

struct UdpSendBatch::Ring {
  io_uring ring{};
  bool initialized = false;
  ~Ring() {
    if (initialized) {
      io_uring_queue_exit(&ring);
    }
  }
};

std::shared_ptr<UdpSendBatch> UdpSendBatch::create(boost::asio::io_context& io, SendBatching mode) {
  return std::shared_ptr<UdpSendBatch>(new UdpSendBatch(io, mode));
}

UdpSendBatch::UdpSendBatch(boost::asio::io_context& io, SendBatching mode) : io_(io), mode_(mode) {}

UdpSendBatch::~UdpSendBatch() {
  for (auto& entry : deferred_) {
    if (entry.port != nullptr) {
      entry.port->set_deferred_in(nullptr);
    }
  }
}

bool UdpSendBatch::uses_io_uring() const {
  return ring_ != nullptr;
}

void UdpSendBatch::defer_flush(UdpPort& port) {
  // The port's own link says whether it is listed already (this runs per packet per leg, so no
  // search): in deferred_, or in flushing_ with its entry still to come.
  if (port.deferred_in() == this) {
    return;
  }
  deferred_.push_back(Deferred{&port});
  port.set_deferred_in(this);
  if (flush_posted_) {
    return;
  }
  flush_posted_ = true;
  boost::asio::post(io_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      self->flush();
    }
  });
}

void UdpSendBatch::forget(const UdpPort& port) {
  for (auto* entries : {&deferred_, &flushing_}) {
    for (auto& entry : *entries) {
      if (entry.port == &port) {
        entry.port = nullptr;
      }
    }
  }
}

// Works on its own copy of the list: a port's handler that runs during the flush (an ICMP
// report failing a session) may defer another port, which then waits for the next turn. Each
// port keeps pointing at this batch until its own entry is done, so a port closed by another
// port's handler meanwhile is forgotten here instead of being flushed after it is gone.
void UdpSendBatch::flush() {
  flush_posted_ = false;
  if (deferred_.empty()) {
    return;
  }
  ++counters_.flushes;
  flushing_.swap(deferred_);
  if (ring_ready()) {
    flush_with_ring();
  } else {
    flush_each(0);
  }
  flushing_.clear();
}

// One UdpPort::flush (a sendmmsg) per port from `first` on.
void UdpSendBatch::flush_each(std::size_t first) {
  for (std::size_t i = first; i < flushing_.size(); ++i) {
    if (UdpPort* port = flushing_[i].port) {
      port->set_deferred_in(nullptr);
      ++counters_.ports_flushed;
      port->flush();
    }
  }
}

bool UdpSendBatch::ring_ready() {
  if (ring_tried_ || mode_ == SendBatching::kSendmmsg) {
    return ring_ != nullptr;
  }
  ring_tried_ = true;
  auto ring = std::make_unique<Ring>();
  io_uring_params params{};
  // Only this thread submits, and completions are only read right after submitting: the kernel
  // may skip the cross-thread wake-ups that would serve anything else.
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
  int result = io_uring_queue_init_params(kRingEntries, &ring->ring, &params);
  if (result == -EINVAL) {
    params = {};  // a kernel before 6.0 knows neither flag
    result = io_uring_queue_init_params(kRingEntries, &ring->ring, &params);
  }
  if (result < 0) {
    spdlog::info(
        "io_uring is not available ({}): egress sockets are flushed with one sendmmsg each; "
        "a container needs a seccomp profile that allows io_uring_setup and io_uring_enter",
        std::strerror(-result));
    return false;
  }
  ring->initialized = true;
  ring_ = std::move(ring);
  return true;
}

// One SQE per message, a port's messages linked so that they leave in order and stop at the
// first refusal; submitted in chunks that end on a port boundary.
void UdpSendBatch::flush_with_ring() {
  io_uring& ring = ring_->ring;
  std::size_t chunk_start = 0;
  for (std::size_t i = 0; i < flushing_.size(); ++i) {
    auto& entry = flushing_[i];
    if (entry.port == nullptr) {
      continue;
    }
    if (io_uring_sq_space_left(&ring) < kMinSpacePerPort) {
      if (!submit_and_complete(chunk_start, i)) {
        return give_up_ring(i);
      }
      chunk_start = i;
    }
    const auto send = entry.port->begin_batched_send(io_uring_sq_space_left(&ring));
    entry.messages = send.messages.size();
    for (std::size_t m = 0; m < entry.messages; ++m) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      io_uring_prep_sendmsg(sqe, send.fd, &send.messages[m].msg_hdr, MSG_DONTWAIT);
      io_uring_sqe_set_data64(sqe, tag(i, m));
      if (m + 1 < entry.messages) {
        sqe->flags |= IOSQE_IO_LINK;
      }
    }
    counters_.messages += entry.messages;
  }
  if (!submit_and_complete(chunk_start, flushing_.size())) {
    give_up_ring(flushing_.size());
  }
}

// Submits what is queued, waits for every completion of entries [first, end), then lets each
// of those ports pop what was sent and deal with the rest. False when the ring itself failed;
// nothing of the chunk was then sent through it and its ports have flushed themselves.
bool UdpSendBatch::submit_and_complete(std::size_t first, std::size_t end) {
  io_uring& ring = ring_->ring;
  std::size_t expected = 0;
  for (std::size_t i = first; i < end; ++i) {
    expected += flushing_[i].port != nullptr ? flushing_[i].messages : 0;
  }
  std::size_t completed = 0;
  bool ring_failed = false;
  while (completed < expected) {
    const int submitted = io_uring_submit_and_wait(&ring, 1);
    ++counters_.submits;
    if (submitted < 0 && submitted != -EINTR && submitted != -EAGAIN && submitted != -EBUSY) {
      spdlog::error("io_uring_enter failed ({}); egress sockets fall back to sendmmsg",
                    std::strerror(-submitted));
      ring_failed = true;
      break;
    }
    completed += reap_completions();
  }
  for (std::size_t i = first; i < end; ++i) {
    auto& entry = flushing_[i];
    if (entry.port == nullptr) {
      continue;
    }
    entry.port->set_deferred_in(nullptr);
    if (entry.messages == 0) {
      continue;
    }
    ++counters_.ports_flushed;
    if (ring_failed) {
      entry.port->flush();
    } else {
      entry.port->end_batched_send(entry.sent, entry.error);
    }
  }
  return !ring_failed;
}

// Counts each completion against its port: how many of its messages left in order, and the
// errno of the first that did not (the linked rest completes with ECANCELED).
std::size_t UdpSendBatch::reap_completions() {
  io_uring& ring = ring_->ring;
  io_uring_cqe* cqe = nullptr;
  unsigned head = 0;
  unsigned seen = 0;
  io_uring_for_each_cqe(&ring, head, cqe) {
    const std::uint64_t data = io_uring_cqe_get_data64(cqe);
    auto& entry = flushing_[static_cast<std::size_t>(data >> 32)];
    const auto message = static_cast<std::size_t>(data & 0xffffffffU);
    if (cqe->res >= 0 && message == entry.sent && entry.error == 0) {
      ++entry.sent;
    } else if (cqe->res < 0 && entry.error == 0 && cqe->res != -ECANCELED) {
      entry.error = -cqe->res;
    }
    ++seen;
  }
  io_uring_cq_advance(&ring, seen);
  return seen;
}

// The ring failed: the ports from `next` on flush themselves, and so does every port from now
// on. Destroying the ring discards whatever was queued in it and not submitted.
void UdpSendBatch::give_up_ring(std::size_t next) {
  ring_.reset();
  flush_each(next);
}

}  // namespace ivs::io
