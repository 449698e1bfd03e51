#include "proto/h264_bit_reader.hpp"

namespace ivs::proto {

std::optional<bool> H264BitReader::read_bit() {
  if (bits_left_ == 0) {
    if (position_ >= data_.size()) {
      return std::nullopt;
    }
    std::uint8_t byte = data_[position_++];
    if (zero_bytes_ >= 2 && byte == 0x03) {
      // An emulation prevention byte: drop it and read the next one.
      zero_bytes_ = 0;
      if (position_ >= data_.size()) {
        return std::nullopt;
      }
      byte = data_[position_++];
    }
    zero_bytes_ = byte == 0 ? zero_bytes_ + 1 : 0;
    current_ = byte;
    bits_left_ = 8;
  }
  --bits_left_;
  return ((current_ >> bits_left_) & 1) != 0;
}

std::optional<bool> H264BitReader::read_flag() {
  return read_bit();
}

std::optional<std::uint32_t> H264BitReader::read_bits(int count) {
  std::uint32_t value = 0;
  for (int i = 0; i < count; ++i) {
    auto bit = read_bit();
    if (!bit) {
      return std::nullopt;
    }
    value = (value << 1) | (*bit ? 1u : 0u);
  }
  return value;
}

std::optional<std::uint32_t> H264BitReader::read_unsigned_exp_golomb() {
  int leading_zeros = 0;
  while (true) {
    auto bit = read_bit();
    if (!bit) {
      return std::nullopt;
    }
    if (*bit) {
      break;
    }
    if (++leading_zeros > 31) {
      return std::nullopt;
    }
  }
  auto suffix = read_bits(leading_zeros);
  if (!suffix) {
    return std::nullopt;
  }
  const std::uint64_t value = (std::uint64_t{1} << leading_zeros) - 1 + *suffix;
  if (value > 0xFFFFFFFFu) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(value);
}

std::optional<std::int32_t> H264BitReader::read_signed_exp_golomb() {
  auto code = read_unsigned_exp_golomb();
  if (!code) {
    return std::nullopt;
  }
  // 1, 2, 3, 4, … map to 1, -1, 2, -2, …
  const std::int64_t magnitude = (std::int64_t{*code} + 1) / 2;
  return static_cast<std::int32_t>((*code & 1) ? magnitude : -magnitude);
}

}  // namespace ivs::proto
