// The relay's GOP cache (DESIGN.md §5): the ingest video packets from the first packet of the
// latest keyframe access unit onward, so a stage that joins mid-stream starts with a decodable
// picture at once. OBS ignores PLI and FIR (DESIGN.md §3), so without this a joining stage would
// show nothing until the encoder's next scheduled IDR, up to 2 s later.
//
// A keyframe access unit (RFC 6184 §5.1: all packets of one picture share the RTP timestamp) is
// recognised in two steps, because OBS sends SPS and PPS as separate packets before the IDR:
//   1. a packet carrying SPS, PPS or IDR data with a timestamp not seen as a candidate before
//      marks a candidate start (its index in the cache);
//   2. the first IDR packet with the candidate's timestamp promotes it: everything before the
//      candidate start is dropped, so the cache begins with the parameter sets.
// Parameter sets without an IDR (some encoders repeat them) never promote, so the cache keeps
// the last real keyframe.
//
// Bounds: when the cache exceeds its packet or byte limit it is emptied and stays empty until
// the next keyframe, rather than grown or trimmed from the front (a trimmed GOP is not
// decodable).
//
// Two ways in. The relay's ingest side and every fan-out shard see the same RelayPackets
// (relay_packet.hpp), shared and immutable, so their caches hold references to them: one copy of
// the GOP for all of them instead of one per holder (each ~0.4 MB at 2.5 Mbit/s, plus as much
// again in reusable buffers). The simulcast selector caches raw layer packets that are not
// RelayPackets; those are copied, and the buffers of dropped copies are kept for reuse, so a
// steady stream stops allocating after the first GOP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/h264_payload.hpp"
#include "proto/rtp_packet.hpp"
#include "proto/time.hpp"

namespace ivs::engine {

struct RelayPacket;  // relay_packet.hpp

class GopCache {
 public:
  struct Entry {
    Bytes copy;                                 // add(now, view, info): the cache's own copy
    std::shared_ptr<const RelayPacket> shared;  // add(packet): the relay's packet itself
    Instant arrival;
    ByteSpan bytes() const;
  };
  enum class Added : std::uint8_t {
    kNotCached,    // no keyframe yet (or the cache overflowed)
    kCached,       // appended to the current GOP
    kNewKeyframe,  // this packet promoted a new keyframe access unit; the cache starts there
  };

  GopCache(std::size_t max_packets, std::size_t max_bytes)
      : max_packets_(max_packets), max_bytes_(max_bytes) {}

  // Copies the packet `view` points into.
  Added add(Instant now, const proto::RtpView& view, const proto::H264PayloadInfo& info);
  // Keeps a reference to the shared packet (its arrival, view and payload info are used).
  Added add(std::shared_ptr<const RelayPacket> packet);
  void reset();

  bool valid() const { return valid_ && !entries_.empty(); }
  std::size_t packets() const { return valid_ ? entries_.size() : 0; }
  std::size_t bytes() const { return bytes_; }
  // Only meaningful when valid().
  const std::deque<Entry>& entries() const { return entries_; }

 private:
  // add()'s two halves around the append: whether the packet is cached at all (a keyframe
  // candidate or a valid GOP to extend), then promotion and the bounds.
  bool admit(const proto::RtpView& view, const proto::H264PayloadInfo& info);
  Added settle(const proto::RtpView& view, const proto::H264PayloadInfo& info);
  void append_copy(Instant now, ByteSpan packet);
  void drop_front(std::size_t count);
  void clear_entries();

  std::size_t max_packets_;
  std::size_t max_bytes_;
  std::deque<Entry> entries_;
  std::size_t bytes_ = 0;
  bool valid_ = false;  // the entries start with a promoted keyframe access unit
  std::optional<std::uint32_t> candidate_timestamp_;
  std::size_t candidate_start_ = 0;
  bool candidate_promoted_ = false;
  std::vector<Bytes> spare_;
};

}  // namespace ivs::engine
