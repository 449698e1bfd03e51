#include "engine/relay_history.hpp"

#include <algorithm>

namespace ivs::engine {
namespace {

// Larger than any RTP packet that fits a 1500-byte MTU datagram: reserving it on first use
// means a slot that first held a small packet does not reallocate for a larger one later.
constexpr std::size_t kSlotCapacity = 1500;

static_assert(sizeof(LegHistoryEntry) == 16, "the per-leg history is 16 bytes per packet");

}  // namespace

void IngestHistory::store(IngestKey key, ByteSpan packet) {
  if (slots_.empty()) {
    return;
  }
  Slot& slot = slots_[key.sequence % slots_.size()];
  if (slot.used && slot.key.generation == key.generation &&
      static_cast<std::int32_t>(key.sequence - slot.key.sequence) < 0) {
    return;  // a late packet: the slot already holds a newer one
  }
  if (slot.bytes.capacity() < kSlotCapacity) {
    slot.bytes.reserve(std::max(kSlotCapacity, packet.size()));
  }
  slot.bytes.assign(packet.begin(), packet.end());
  slot.key = key;
  slot.used = true;
}

ByteSpan IngestHistory::find(IngestKey key) const {
  if (slots_.empty()) {
    return {};
  }
  const Slot& slot = slots_[key.sequence % slots_.size()];
  if (!slot.used ||
      static_cast<std::uint16_t>(slot.key.generation) !=
          static_cast<std::uint16_t>(key.generation) ||
      slot.key.sequence != key.sequence) {
    return {};
  }
  return slot.bytes;
}

void LegHistory::record(std::uint16_t sequence, IngestKey ingest, std::uint32_t timestamp,
                        std::uint32_t abs_send_time, std::uint8_t config_epoch) {
  if (entries_.empty()) {
    return;
  }
  LegHistoryEntry& entry = entries_[sequence % entries_.size()];
  entry.ingest_sequence = ingest.sequence;
  entry.ingest_generation = static_cast<std::uint16_t>(ingest.generation);
  entry.timestamp = timestamp;
  entry.stamp_and_epoch = LegHistoryEntry::kUsed |
                          (static_cast<std::uint32_t>(config_epoch & 0x7F) << 24) |
                          (abs_send_time & 0xFFFFFF);
  entry.sequence = sequence;
}

std::optional<LegHistoryEntry> LegHistory::find(std::uint16_t sequence) const {
  if (entries_.empty()) {
    return std::nullopt;
  }
  const LegHistoryEntry& entry = entries_[sequence % entries_.size()];
  if (!entry.used() || entry.sequence != sequence) {
    return std::nullopt;
  }
  return entry;
}

}  // namespace ivs::engine
