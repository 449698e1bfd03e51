// The relay's packet history for RFC 4585 §6.2.1 generic NACK answers, in two parts:
//
//   IngestHistory (one per ingest track, per shard)       LegHistory (one per leg stream)
//   slot = ingest key mod K: the shared ingest packet      slot = outgoing seq mod K: 16 bytes
//   ┌──────────────────────────────────────┐             ┌─────────────────────────────────┐
//   │ RelayPacketPtr (key, bytes: the one   │◄────────────│ out seq, generation, key, out ts │
//   │ copy every shard references)          │             │ abs-send-time, config epoch      │
//   └──────────────────────────────────────┘             └─────────────────────────────────┘
//
// Why: a NACKed packet must go out again byte-identical (SRTP retransmission with the same
// sequence number must carry the same payload). Keeping each leg's rewritten bytes did that, but
// cost K × ~1.2 KB per leg (1.5 MB per warm video leg: 1.5 GB at 1000 stages) for bytes that
// differ between legs only in a few header fields. The rewrite is a pure function of the ingest
// packet, the leg stream's configuration, the offsets in force when it was sent and the
// abs-send-time value stamped then, so a leg only remembers those (the offsets as the outgoing
// sequence number and timestamp themselves) and rebuilds the packet from the shared ingest copy
// when a NACK asks. The leg's history is then a fixed number of bytes per slot, whatever the
// packet sizes.
//
// Overwrite detection: an ingest slot is named by the track's source generation (a new
// publisher or SSRC starts a new one) and the packet's extended sequence number; a leg entry
// whose name no longer matches the slot is a miss (counted by the leg, not answered). A late
// ingest packet (a retransmission from the publisher) never overwrites a newer one in its slot.
//
// Why the ingest slots hold the shared RelayPacket (relay_packet.hpp) rather than a copy of its
// bytes: every fan-out shard (one per media worker, plus the ingest thread's own for WHEP
// viewers) keeps the same K packets, so copies cost K × ~1.2 KB per shard (~1.5 MB each at
// K = 1024) for identical bytes. Holding the reference costs 16 bytes per slot per shard and one
// atomic increment per packet per shard; the packet is freed by whichever shard lets go last.
//
// Cost: per packet per leg the history costs one 16-byte store. A NACK answer costs a parse and
// a rewrite, which is rare.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "proto/bytes.hpp"

namespace ivs::engine {

struct RelayPacket;  // relay_packet.hpp, which needs IngestKey from here

// Names one ingest packet: its track's source generation and the low 32 bits of its extended
// (unwrapped) sequence number.
struct IngestKey {
  std::uint32_t generation = 0;
  std::uint32_t sequence = 0;
};

// The last K ingest packets of one track, held once for every leg.
class IngestHistory {
 public:
  explicit IngestHistory(std::size_t packets) : slots_(packets) {}

  // Keeps a reference to the packet, named by its key. Nothing is kept when the slot holds a
  // newer packet of the same generation (a late packet older than the window) or when the
  // history is disabled (K = 0).
  void store(std::shared_ptr<const RelayPacket> packet);
  // The packet's bytes, or empty when it was overwritten or never kept. Generations compare by
  // their low 16 bits (what a leg entry keeps): a false match would take 65536 source switches
  // while the leg still held the entry.
  ByteSpan find(IngestKey key) const;
  std::size_t capacity() const { return slots_.size(); }

 private:
  std::vector<std::shared_ptr<const RelayPacket>> slots_;
};

// What one leg stream must remember of a packet it sent to rebuild the same bytes.
struct LegHistoryEntry {
  std::uint32_t ingest_sequence = 0;  // IngestKey::sequence
  std::uint32_t timestamp = 0;        // the outgoing RTP timestamp (the offset in force)
  // The abs-send-time value written (24 bits) and the leg stream's configuration epoch (7 bits,
  // a publisher switch changes extension ids) and a used bit (the top bit).
  std::uint32_t stamp_and_epoch = 0;
  std::uint16_t sequence = 0;           // the outgoing sequence number this entry is for
  std::uint16_t ingest_generation = 0;  // IngestKey::generation, low 16 bits

  static constexpr std::uint32_t kUsed = 0x80000000u;
  std::uint32_t abs_send_time() const { return stamp_and_epoch & 0xFFFFFF; }
  std::uint8_t config_epoch() const { return (stamp_and_epoch >> 24) & 0x7F; }
  bool used() const { return (stamp_and_epoch & kUsed) != 0; }
  IngestKey ingest() const { return {ingest_generation, ingest_sequence}; }
};

// The per-leg-stream ring, indexed by outgoing sequence number; fixed size from construction.
class LegHistory {
 public:
  explicit LegHistory(std::size_t packets) : entries_(packets) {}

  void record(std::uint16_t sequence, IngestKey ingest, std::uint32_t timestamp,
              std::uint32_t abs_send_time, std::uint8_t config_epoch);
  // The entry for this outgoing sequence number, when it is still there.
  std::optional<LegHistoryEntry> find(std::uint16_t sequence) const;
  // Bytes this history holds, for the memory accounting (independent of packet sizes).
  std::size_t memory_bytes() const { return entries_.capacity() * sizeof(LegHistoryEntry); }

 private:
  std::vector<LegHistoryEntry> entries_;
};

}  // namespace ivs::engine
