// Fuzzes H.264 payload inspection, the SPS parser and the packetizer. Where inspection succeeds,
// a STAP-A rebuilt from its units must equal the input and describe the same packet. Every input
// is also packetized as one NAL unit at a fuzz-chosen payload limit, and depacketizing the
// result must give the input back.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "proto/h264_packetizer.hpp"
#include "proto/h264_payload.hpp"
#include "proto/h264_profile.hpp"
#include "proto/h264_sps.hpp"

namespace {

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

void check_stap_a_round_trip(ivs::ByteSpan payload, const ivs::proto::H264PayloadInfo& info) {
  using namespace ivs::proto;
  std::vector<ivs::ByteSpan> units;
  H264StapAIterator walk(payload);
  while (auto range = walk.next()) {
    units.push_back(range->in(payload));
  }
  const ivs::Bytes rebuilt = build_stap_a(units);
  // The STAP-A header's F/NRI bits are derived from the units, so compare from byte 1.
  check(rebuilt.size() == payload.size());
  check(std::equal(rebuilt.begin() + 1, rebuilt.end(), payload.begin() + 1));
  auto again = inspect_h264_payload(rebuilt);
  check(again.ok());
  check(again->has_idr == info.has_idr && again->has_sps == info.has_sps &&
        again->has_pps == info.has_pps && again->starts_idr_picture == info.starts_idr_picture);
}

void check_packetizer_round_trip(ivs::ByteSpan unit, std::size_t max_payload) {
  using namespace ivs::proto;
  if (unit.empty() || (unit[0] & 0x1F) == 0 || (unit[0] & 0x1F) >= 24) {
    return;  // not a NAL unit the packetizer is meant to carry
  }
  const std::vector<ivs::ByteSpan> units = {unit};
  const auto payloads = packetize_h264(units, max_payload);
  ivs::Bytes reassembled;
  for (const auto& payload : payloads) {
    check(payload.size() <= max_payload);
    auto info = inspect_h264_payload(payload);
    check(info.ok());
    if (info->packetization == H264Packetization::kFuA) {
      if (info->fu_start) {
        reassembled.push_back(parse_fu_a_header(payload)->reconstructed_nal_header());
      }
      reassembled.insert(reassembled.end(), payload.begin() + 2, payload.end());
    } else {
      reassembled.assign(payload.begin(), payload.end());
    }
  }
  check(reassembled == ivs::Bytes(unit.begin(), unit.end()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ivs::proto;
  const ivs::ByteSpan input(data, size);

  auto info = inspect_h264_payload(input);
  if (info && info->packetization == H264Packetization::kStapA) {
    check_stap_a_round_trip(input, *info);
  }
  if (info && info->sps) {
    (void)parse_h264_sps(info->sps->in(input));
  }
  if (auto sps = parse_h264_sps(input)) {
    check(sps->width > 0 && sps->height > 0);
    (void)check_ivs_video_limits(*sps).describe();
  }
  (void)split_annex_b(input);
  (void)profile_level_id_from_fmtp(std::string_view(reinterpret_cast<const char*>(data), size));
  if (size > 0) {
    check_packetizer_round_trip(input, 3 + data[0] % 64);
  }
  return 0;
}
