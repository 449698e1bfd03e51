#include "engine/relay_history.hpp"

#include <algorithm>

#include "engine/relay_packet.hpp"

namespace ivs::engine {
namespace {

static_assert(sizeof(LegHistoryEntry) == 16, "the per-leg history is 16 bytes per packet");

}  // namespace

void IngestHistory::store(std::shared_ptr<const RelayPacket> packet) {
  if (slots_.empty() || !packet) {
    return;
  }
  const IngestKey key = packet->key;
  auto& slot = slots_[key.sequence % slots_.size()];
  if (slot && slot->key.generation == key.generation &&
      static_cast<std::int32_t>(key.sequence - slot->key.sequence) < 0) {
    return;  // a late packet: the slot already holds a newer one
  }
  slot = std::move(packet);
}

ByteSpan IngestHistory::find(IngestKey key) const {
  if (slots_.empty()) {
    return {};
  }
  const auto& slot = slots_[key.sequence % slots_.size()];
  if (!slot ||
      static_cast<std::uint16_t>(slot->key.generation) !=
          static_cast<std::uint16_t>(key.generation) ||
      slot->key.sequence != key.sequence) {
    return {};
  }
  return slot->bytes;
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
