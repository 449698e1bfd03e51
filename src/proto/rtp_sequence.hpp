// Wrap-around arithmetic for RTP sequence numbers (16 bit) and timestamps (32 bit), after
// RFC 3550 §A.1: a value is "newer" when it is ahead by less than half the number space, and
// an unwrapper extends the wrapping counter into a monotone 64-bit one (the "extended highest
// sequence number" of receiver reports, NACK history keys, GOP cache indices).
//
// Why header-only templates: these run several times per packet per egress, so they must
// inline; one template serves 16-bit sequence numbers and 32-bit timestamps alike.
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>

namespace ivs::proto {

// Signed distance from `b` to `a` in the wrapping space: positive when `a` is ahead of `b`.
// Exactly half-way (e.g. 0x8000 apart for 16 bits) counts as ahead, matching libwebrtc.
template <class T>
constexpr std::make_signed_t<T> wrapping_difference(T a, T b) {
  static_assert(std::is_unsigned_v<T>);
  return static_cast<std::make_signed_t<T>>(static_cast<T>(a - b));
}

// RFC 3550 §A.1 comparison: true when `a` is newer than `b` (ahead by 1..half the space).
template <class T>
constexpr bool is_newer(T a, T b) {
  static_assert(std::is_unsigned_v<T>);
  const T forward = static_cast<T>(a - b);
  constexpr T half = static_cast<T>(T(~T{0}) / 2 + 1);
  return forward != 0 && (forward < half || (forward == half && a > b));
}

inline constexpr bool is_newer_sequence_number(std::uint16_t a, std::uint16_t b) {
  return is_newer<std::uint16_t>(a, b);
}
inline constexpr bool is_newer_timestamp(std::uint32_t a, std::uint32_t b) {
  return is_newer<std::uint32_t>(a, b);
}

// Extends a wrapping counter to 64 bits. Each value is placed at the candidate nearest to the
// last one seen, so reordered packets from before a wrap unwrap below it rather than a whole
// cycle ahead. Values before the first one seen may go negative.
template <class T>
class Unwrapper {
 public:
  std::int64_t unwrap(T value) {
    if (!last_) {
      last_ = static_cast<std::int64_t>(value);
      return *last_;
    }
    const std::int64_t unwrapped = *last_ + wrapping_difference<T>(value, static_cast<T>(*last_));
    last_ = unwrapped;
    return unwrapped;
  }
  // Like unwrap() but does not move the reference point (for lookups of old values).
  std::int64_t peek(T value) const {
    if (!last_) {
      return static_cast<std::int64_t>(value);
    }
    return *last_ + wrapping_difference<T>(value, static_cast<T>(*last_));
  }
  std::optional<std::int64_t> last() const { return last_; }
  void reset() { last_.reset(); }

 private:
  std::optional<std::int64_t> last_;
};

using SequenceNumberUnwrapper = Unwrapper<std::uint16_t>;
using TimestampUnwrapper = Unwrapper<std::uint32_t>;

}  // namespace ivs::proto
