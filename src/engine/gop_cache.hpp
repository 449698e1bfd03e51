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
// decodable). Packet buffers of dropped entries are kept for reuse, so a steady stream stops
// allocating after the first GOP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/h264_payload.hpp"
#include "proto/rtp_packet.hpp"
#include "proto/time.hpp"

namespace ivs::engine {

class GopCache {
 public:
  struct Entry {
    Bytes bytes;
    Instant arrival;
  };
  enum class Added : std::uint8_t {
    kNotCached,    // no keyframe yet (or the cache overflowed)
    kCached,       // appended to the current GOP
    kNewKeyframe,  // this packet promoted a new keyframe access unit; the cache starts there
  };

  GopCache(std::size_t max_packets, std::size_t max_bytes)
      : max_packets_(max_packets), max_bytes_(max_bytes) {}

  Added add(Instant now, const proto::RtpView& view, const proto::H264PayloadInfo& info);
  void reset();

  bool valid() const { return valid_ && !entries_.empty(); }
  std::size_t packets() const { return valid_ ? entries_.size() : 0; }
  std::size_t bytes() const { return bytes_; }
  // Only meaningful when valid().
  const std::deque<Entry>& entries() const { return entries_; }

 private:
  void append(Instant now, ByteSpan packet);
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
