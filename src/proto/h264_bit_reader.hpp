// A bit reader over an H.264 NAL unit payload (ITU-T H.264 §7.2 and §9.1): fixed-width reads,
// unsigned and signed Exp-Golomb codes, and on-the-fly removal of emulation prevention bytes
// (the 0x03 in 0x00 0x00 0x03, §7.4.1) so the caller reads RBSP bits from the escaped bytes
// without copying them.
//
// Every read returns nullopt once the data runs out or a code is longer than 32 bits, so parsers
// turn truncated or hostile input into errors, never into reads past the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "proto/bytes.hpp"

namespace ivs::proto {

class H264BitReader {
 public:
  explicit H264BitReader(ByteSpan escaped) : data_(escaped) {}

  std::optional<bool> read_flag();
  // Up to 32 bits, most significant first.
  std::optional<std::uint32_t> read_bits(int count);
  // ue(v): §9.1.
  std::optional<std::uint32_t> read_unsigned_exp_golomb();
  // se(v): §9.1.1.
  std::optional<std::int32_t> read_signed_exp_golomb();

 private:
  std::optional<bool> read_bit();

  ByteSpan data_;
  std::size_t position_ = 0;
  int zero_bytes_ = 0;  // consecutive 0x00 bytes just consumed, for emulation prevention
  std::uint8_t current_ = 0;
  int bits_left_ = 0;
};

}  // namespace ivs::proto
