#include "proto/h264_profile.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace ivs::proto {
namespace {

// RFC 6184 Table 5 patterns over profile-iop, most significant bit first.
struct ProfilePattern {
  std::uint8_t profile_idc;
  const char* iop_pattern;  // 8 characters of '0', '1' or 'x'
  H264Profile profile;
};

constexpr std::array<ProfilePattern, 9> kPatterns = {{
    {0x42, "x1xx0000", H264Profile::kConstrainedBaseline},
    {0x4D, "1xxx0000", H264Profile::kConstrainedBaseline},
    {0x58, "11xx0000", H264Profile::kConstrainedBaseline},
    {0x42, "x0xx0000", H264Profile::kBaseline},
    {0x58, "10xx0000", H264Profile::kBaseline},
    {0x4D, "0x0x0000", H264Profile::kMain},
    {0x58, "00xx0000", H264Profile::kExtended},
    {0x64, "00001100", H264Profile::kConstrainedHigh},
    {0x64, "00000000", H264Profile::kHigh},
}};

bool matches(const char* pattern, std::uint8_t value) {
  for (int bit = 0; bit < 8; ++bit) {
    const bool set = (value >> (7 - bit)) & 1;
    if ((pattern[bit] == '1' && !set) || (pattern[bit] == '0' && set)) {
      return false;
    }
  }
  return true;
}

std::optional<std::uint8_t> hex_byte(char high, char low) {
  const int h = hex_digit_value(high);
  const int l = hex_digit_value(low);
  if (h < 0 || l < 0) {
    return std::nullopt;
  }
  return static_cast<std::uint8_t>(h * 16 + l);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

std::string_view to_string(H264Profile profile) {
  switch (profile) {
    case H264Profile::kConstrainedBaseline:
      return "Constrained Baseline";
    case H264Profile::kBaseline:
      return "Baseline";
    case H264Profile::kMain:
      return "Main";
    case H264Profile::kExtended:
      return "Extended";
    case H264Profile::kConstrainedHigh:
      return "Constrained High";
    case H264Profile::kHigh:
      return "High";
    case H264Profile::kHigh10:
      return "High 10";
    case H264Profile::kHigh422:
      return "High 4:2:2";
    case H264Profile::kHigh444:
      return "High 4:4:4";
    case H264Profile::kOther:
      break;
  }
  return "other";
}

H264Profile classify_h264_profile(std::uint8_t profile_idc, std::uint8_t constraint_flags) {
  for (const auto& pattern : kPatterns) {
    if (pattern.profile_idc == profile_idc && matches(pattern.iop_pattern, constraint_flags)) {
      return pattern.profile;
    }
  }
  switch (profile_idc) {
    case 100:
      return H264Profile::kHigh;  // High with constraint_set4/5 (e.g. progressive only)
    case 110:
      return H264Profile::kHigh10;
    case 122:
      return H264Profile::kHigh422;
    case 244:
      return H264Profile::kHigh444;
    default:
      return H264Profile::kOther;
  }
}

std::string H264ProfileLevelId::to_string() const {
  const std::uint8_t bytes[] = {profile_idc, profile_iop, level_idc};
  return to_hex(bytes);
}

Result<H264ProfileLevelId> parse_profile_level_id(std::string_view hex) {
  if (hex.size() != 6) {
    return make_error("profile-level-id: expected 6 hex digits, got \"" + std::string(hex) + "\"");
  }
  auto profile = hex_byte(hex[0], hex[1]);
  auto iop = hex_byte(hex[2], hex[3]);
  auto level = hex_byte(hex[4], hex[5]);
  if (!profile || !iop || !level) {
    return make_error("profile-level-id: not hex: \"" + std::string(hex) + "\"");
  }
  return H264ProfileLevelId{*profile, *iop, *level};
}

std::optional<H264ProfileLevelId> profile_level_id_from_fmtp(std::string_view fmtp) {
  while (!fmtp.empty()) {
    const std::size_t end = std::min(fmtp.find(';'), fmtp.size());
    const std::string_view parameter = trim(fmtp.substr(0, end));
    fmtp.remove_prefix(std::min(end + 1, fmtp.size()));
    const std::size_t equals = parameter.find('=');
    if (equals == std::string_view::npos) {
      continue;
    }
    std::string name(trim(parameter.substr(0, equals)));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name == "profile-level-id") {
      auto parsed = parse_profile_level_id(trim(parameter.substr(equals + 1)));
      return parsed ? std::optional(*parsed) : std::nullopt;
    }
  }
  return std::nullopt;
}

std::string IvsVideoCheck::describe() const {
  std::string text = "H.264 " + std::string(to_string(profile)) + " " + std::to_string(width) +
                     "x" + std::to_string(height);
  if (ok()) {
    return text + ": within IVS limits";
  }
  text += ": IVS needs";
  text += baseline ? "" : " Baseline";
  text += !baseline && !within_720p ? " and" : "";
  text += within_720p ? "" : " at most 720p";
  return text;
}

IvsVideoCheck check_ivs_video_limits(const H264Sps& sps) {
  IvsVideoCheck check;
  check.width = sps.width;
  check.height = sps.height;
  check.profile = classify_h264_profile(sps.profile_idc, sps.constraint_flags);
  check.baseline = is_baseline_compatible(sps.profile_idc, sps.constraint_flags);
  const std::uint32_t long_side = std::max(sps.width, sps.height);
  const std::uint32_t short_side = std::min(sps.width, sps.height);
  check.within_720p = long_side <= kIvsMaxLongSide && short_side <= kIvsMaxShortSide;
  return check;
}

}  // namespace ivs::proto
