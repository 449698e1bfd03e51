// The HTTP server's table of open connections and its admission policy (issue 13; the policy is
// written out in docs/security.md "Overload"). Pure bookkeeping with time as an input, so the
// policy is unit tested without sockets; http_server.cpp only asks it and acts.
//
// What a new connection gets, in order:
//   1. its address already holds `max_per_ip` connections   -> refused (closed at once)
//   2. fewer than `max_connections` general connections     -> a general slot
//   3. a general connection is waiting for a request header -> the one waiting longest is
//      (a fresh one, keep-alive idle, or a slowloris)          evicted, the new one takes its slot
//   4. a reserved slot is free                              -> a reserved slot: one request, and
//                                                              only to a reserved path (/health*)
//   5. otherwise                                            -> refused
// Why eviction of header-waiting connections: a connection that has not sent a whole header
// costs nothing to drop (no request is lost, a real client reconnects), and it is exactly what a
// slowloris holds. A flood of partial headers can then never keep a probe or a viewer out, while
// connections doing work (reading a body, writing, WebSocket) are never shed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proto/time.hpp"

namespace ivs::io {

struct ConnectionLimits {
  std::size_t max_connections = 1024;  // general slots
  std::size_t reserved = 32;           // extra slots for reserved paths (health probes)
  std::size_t max_per_ip = 64;         // 0: no per-address limit
};

enum class SlotKind { general, reserved };

struct ConnectionDecision {
  enum class Outcome { admit, refuse_per_ip, refuse_full };
  Outcome outcome = Outcome::admit;
  SlotKind slot = SlotKind::general;
  std::optional<std::uint64_t> evict;  // close this connection first (its slot is reused)
};

class ConnectionTable {
 public:
  explicit ConnectionTable(ConnectionLimits limits) : limits_(limits) {}

  // What a new connection from `ip` gets (see the table above). Does not change the table.
  ConnectionDecision decide(std::string_view ip) const;
  // Registers an admitted connection, waiting for its first header since `now`. `closer`
  // closes it (eviction, stop()).
  std::uint64_t add(std::string ip, SlotKind slot, Instant now, std::function<void()> closer);
  void remove(std::uint64_t id);
  // The connection started (true) or finished (false) waiting for a request header.
  void set_awaiting_header(std::uint64_t id, bool awaiting, Instant now);

  // The closer of `id` (to evict it), or null.
  const std::function<void()>* closer(std::uint64_t id) const;
  // Every connection's closer, for stop(); a copy, since closers may remove entries.
  std::vector<std::function<void()>> closers() const;

  std::size_t size() const { return entries_.size(); }
  std::size_t general_count() const { return entries_.size() - reserved_in_use_; }
  std::size_t reserved_in_use() const { return reserved_in_use_; }
  std::size_t count_for(std::string_view ip) const;
  const ConnectionLimits& limits() const { return limits_; }

 private:
  struct Entry {
    std::string ip;
    SlotKind slot = SlotKind::general;
    bool awaiting_header = true;
    Instant since{};
    std::function<void()> closer;
  };
  std::optional<std::uint64_t> oldest_awaiting_header() const;

  ConnectionLimits limits_;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::unordered_map<std::string, std::size_t> per_ip_;
  std::size_t reserved_in_use_ = 0;
};

}  // namespace ivs::io
