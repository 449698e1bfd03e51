// The byte script that the stateful fuzz targets read their operations from: each call takes
// the next bytes of the fuzz input, and past its end every read yields zeros (or nothing), so a
// target never has to check the length itself.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "proto/bytes.hpp"

namespace ivs::fuzz {

class Script {
 public:
  Script(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return position_ >= size_; }
  std::uint8_t byte() { return position_ < size_ ? data_[position_++] : 0; }
  std::uint16_t u16() {
    const std::uint8_t high = byte();
    return static_cast<std::uint16_t>((high << 8) | byte());
  }
  std::uint32_t u32() {
    const std::uint32_t high = u16();
    return (high << 16) | u16();
  }
  ByteSpan bytes(std::size_t count) {
    const std::size_t start = std::min(position_, size_);
    const std::size_t available = std::min(count, size_ - start);
    position_ = start + available;
    return ByteSpan(data_ + start, available);
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t position_ = 0;
};

}  // namespace ivs::fuzz
