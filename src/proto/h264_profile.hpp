// H.264 profiles as SDP names them (RFC 6184 §8.1 profile-level-id, Table 5) and the Amazon IVS
// video limits (DESIGN.md §3: Baseline, ≤ 720p).
//
// profile-level-id is three hex bytes: profile_idc, profile-iop (the constraint_set flags) and
// level_idc, e.g. 42e01f = Constrained Baseline, level 3.1. The profile name depends on both
// profile_idc and the constraint flags, matched with the RFC 6184 table patterns (as libwebrtc
// does): x = either, and the four low bits of profile-iop must be 0.
//
// For the IVS check, "Baseline" means a decoder limited to Baseline can decode the stream:
// profile_idc 66, or constraint_set0_flag set (H.264 §A.2: the stream obeys the Baseline
// constraints whatever its profile_idc). "≤ 720p" means the longer side is at most 1280 and the
// shorter at most 720, so portrait 720×1280 passes as well.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proto/h264_sps.hpp"
#include "proto/result.hpp"

namespace ivs::proto {

enum class H264Profile : std::uint8_t {
  kConstrainedBaseline,
  kBaseline,
  kMain,
  kExtended,
  kConstrainedHigh,
  kHigh,
  kHigh10,
  kHigh422,
  kHigh444,
  kOther,
};

std::string_view to_string(H264Profile profile);

// The RFC 6184 profile name of profile_idc with these constraint flags.
H264Profile classify_h264_profile(std::uint8_t profile_idc, std::uint8_t constraint_flags);

// Whether a Baseline decoder can decode it (see the header comment).
inline bool is_baseline_compatible(std::uint8_t profile_idc, std::uint8_t constraint_flags) {
  return profile_idc == 66 || (constraint_flags & 0x80) != 0;
}

struct H264ProfileLevelId {
  std::uint8_t profile_idc = 0;
  std::uint8_t profile_iop = 0;
  std::uint8_t level_idc = 0;

  H264Profile profile() const { return classify_h264_profile(profile_idc, profile_iop); }
  bool baseline_compatible() const { return is_baseline_compatible(profile_idc, profile_iop); }
  // Six lower-case hex digits, as SDP writes them.
  std::string to_string() const;
  bool operator==(const H264ProfileLevelId&) const = default;
};

// Parses exactly six hex digits (either case).
Result<H264ProfileLevelId> parse_profile_level_id(std::string_view hex);

// Finds profile-level-id in an fmtp parameter list ("a=b;c=d", spaces allowed after ';').
// nullopt when absent or malformed; RFC 6184 §8.1 says an absent value means 420010
// (Baseline, level 1.0), which the caller may apply.
std::optional<H264ProfileLevelId> profile_level_id_from_fmtp(std::string_view fmtp);

inline constexpr std::uint32_t kIvsMaxLongSide = 1280;
inline constexpr std::uint32_t kIvsMaxShortSide = 720;

// Whether a stream stays within what IVS Real-Time accepts (DESIGN.md §3).
struct IvsVideoCheck {
  bool baseline = false;
  bool within_720p = false;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  H264Profile profile = H264Profile::kOther;

  bool ok() const { return baseline && within_720p; }
  // One line for a warning, e.g. "H.264 High 1920x1080: IVS needs Baseline, at most 720p".
  std::string describe() const;
};

IvsVideoCheck check_ivs_video_limits(const H264Sps& sps);

}  // namespace ivs::proto
