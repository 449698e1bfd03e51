#include "io/connection_table.hpp"

#include <vector>

namespace ivs::io {

ConnectionDecision ConnectionTable::decide(std::string_view ip) const {
  using Outcome = ConnectionDecision::Outcome;
  if (limits_.max_per_ip > 0 && count_for(ip) >= limits_.max_per_ip) {
    return {Outcome::refuse_per_ip, SlotKind::general, std::nullopt};
  }
  if (general_count() < limits_.max_connections) {
    return {Outcome::admit, SlotKind::general, std::nullopt};
  }
  if (const auto victim = oldest_awaiting_header()) {
    return {Outcome::admit, SlotKind::general, victim};
  }
  if (reserved_in_use_ < limits_.reserved) {
    return {Outcome::admit, SlotKind::reserved, std::nullopt};
  }
  return {Outcome::refuse_full, SlotKind::general, std::nullopt};
}

std::uint64_t ConnectionTable::add(std::string ip, SlotKind slot, Instant now,
                                   std::function<void()> closer) {
  const std::uint64_t id = next_id_++;
  ++per_ip_[ip];
  if (slot == SlotKind::reserved) {
    ++reserved_in_use_;
  }
  entries_.emplace(id, Entry{std::move(ip), slot, true, now, std::move(closer)});
  return id;
}

void ConnectionTable::remove(std::uint64_t id) {
  const auto found = entries_.find(id);
  if (found == entries_.end()) {
    return;
  }
  if (auto count = per_ip_.find(found->second.ip); count != per_ip_.end()) {
    if (--count->second == 0) {
      per_ip_.erase(count);
    }
  }
  if (found->second.slot == SlotKind::reserved) {
    --reserved_in_use_;
  }
  entries_.erase(found);
}

void ConnectionTable::set_awaiting_header(std::uint64_t id, bool awaiting, Instant now) {
  if (auto found = entries_.find(id); found != entries_.end()) {
    found->second.awaiting_header = awaiting;
    found->second.since = now;
  }
}

const std::function<void()>* ConnectionTable::closer(std::uint64_t id) const {
  const auto found = entries_.find(id);
  return found == entries_.end() ? nullptr : &found->second.closer;
}

std::vector<std::function<void()>> ConnectionTable::closers() const {
  std::vector<std::function<void()>> out;
  out.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) {
    out.push_back(entry.closer);
  }
  return out;
}

std::size_t ConnectionTable::count_for(std::string_view ip) const {
  const auto found = per_ip_.find(std::string(ip));
  return found == per_ip_.end() ? 0 : found->second;
}

// A linear scan: it runs only when every general slot is taken, and then over at most
// max_connections entries, which is cheap next to the accept() that triggered it.
std::optional<std::uint64_t> ConnectionTable::oldest_awaiting_header() const {
  std::optional<std::uint64_t> oldest;
  Instant oldest_since{};
  for (const auto& [id, entry] : entries_) {
    if (entry.slot != SlotKind::general || !entry.awaiting_header) {
      continue;
    }
    if (!oldest || entry.since < oldest_since || (entry.since == oldest_since && id < *oldest)) {
      oldest = id;
      oldest_since = entry.since;
    }
  }
  return oldest;
}

}  // namespace ivs::io
