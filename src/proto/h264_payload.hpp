// H.264 RTP payload inspection (RFC 6184 §5.6–5.8, packetization-mode 1): single NAL unit
// packets, STAP-A aggregates and FU-A fragments. The relay looks at every ingest video packet to
// find keyframes (for the GOP cache and for joining stages) and the SPS (for the IVS limits
// check); it never rewrites the payload.
//
//   NAL header  |F|NRI|  Type   |          Type 1..23: a single NAL unit packet
//   STAP-A      |F|NRI|  24     | size (16) | NAL | size | NAL …
//   FU-A        |F|NRI|  28     |S|E|R| Type| fragment …   (indicator, then FU header)
//
// Only what packetization-mode 1 allows is accepted: STAP-B, MTAPs and FU-B (25, 26, 27, 29) and
// the reserved types (0, 30, 31) are errors, as are malformed aggregates and fragments (a NAL
// size of 0 or past the end, an FU with both S and E set, no fragment bytes, or an aggregated
// original type). Inspection allocates nothing: NAL units are reported as offsets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/result.hpp"

namespace ivs::proto {

namespace h264_nal {
inline constexpr std::uint8_t kSlice = 1;
inline constexpr std::uint8_t kIdrSlice = 5;
inline constexpr std::uint8_t kSei = 6;
inline constexpr std::uint8_t kSps = 7;
inline constexpr std::uint8_t kPps = 8;
inline constexpr std::uint8_t kAccessUnitDelimiter = 9;
inline constexpr std::uint8_t kStapA = 24;
inline constexpr std::uint8_t kFuA = 28;
}  // namespace h264_nal

enum class H264Packetization : std::uint8_t { kSingleNal, kStapA, kFuA };

// A NAL unit inside a payload: offset and size relative to the payload start.
struct H264NalRange {
  std::size_t offset = 0;
  std::size_t size = 0;
  ByteSpan in(ByteSpan payload) const { return payload.subspan(offset, size); }
};

struct H264PayloadInfo {
  H264Packetization packetization = H264Packetization::kSingleNal;
  // Single NAL: its type. STAP-A: 24. FU-A: the fragmented NAL unit's own type.
  std::uint8_t nal_type = 0;
  bool fu_start = false;  // FU-A only
  bool fu_end = false;    // FU-A only

  bool has_idr = false;  // an IDR slice, or a fragment of one, is in this packet
  bool has_sps = false;
  bool has_pps = false;
  // The packet holds the first bytes of an IDR slice with first_mb_in_slice = 0, i.e. it starts
  // the IDR picture (slices after the first in a picture do not).
  bool starts_idr_picture = false;
  std::optional<H264NalRange> sps;  // the first complete SPS in the packet
  std::optional<H264NalRange> pps;  // the first complete PPS in the packet

  // Carries (part of) a keyframe: an IDR slice or parameter sets.
  bool is_keyframe() const { return has_idr || has_sps || has_pps; }
};

Result<H264PayloadInfo> inspect_h264_payload(ByteSpan payload);

// Iterates the NAL units of a STAP-A payload that inspect_h264_payload accepted.
class H264StapAIterator {
 public:
  explicit H264StapAIterator(ByteSpan payload) : payload_(payload) {}
  std::optional<H264NalRange> next();

 private:
  ByteSpan payload_;
  std::size_t position_ = 1;  // past the STAP-A NAL header
};

struct H264FuAHeader {
  bool forbidden_bit = false;  // F, copied from the fragmented unit's header
  std::uint8_t nal_ref_idc = 0;
  std::uint8_t nal_type = 0;  // the original type
  bool start = false;
  bool end = false;
  // The NAL header the reassembled unit starts with.
  std::uint8_t reconstructed_nal_header() const {
    return static_cast<std::uint8_t>((forbidden_bit ? 0x80 : 0) | (nal_ref_idc << 5) | nal_type);
  }
};

Result<H264FuAHeader> parse_fu_a_header(ByteSpan payload);

// Splits an Annex B byte stream (start codes 00 00 01 / 00 00 00 01) into NAL units, e.g. the
// output of `ffmpeg -f h264`, for the test publisher. Trailing zero bytes are trimmed.
std::vector<ByteSpan> split_annex_b(ByteSpan stream);

}  // namespace ivs::proto
