// SRTP packet index estimation and replay protection (RFC 3711 §3.3.1, §3.3.2, Appendix A), and
// the SRTCP replay window (§3.4, §3.3.2).
//
// The rules follow libsrtp2's rdbx/rdb exactly, not just the RFC, because the OpenSSL backend
// must accept and reject the same packets as the libsrtp backend (the fuzz target checks it):
//   - A stream's first packet fixes ROC = 0 and index = SEQ.
//   - While the highest index is at most 2^15 the guess is plain SEQ (ROC 0); after that it is
//     RFC 3711 Appendix A's: the ROC of the highest index, one less, or one more, whichever puts
//     the index within 2^15 of the highest one.
//   - The RTP window is `window_size` packets (rounded up to a multiple of 32, as libsrtp's
//     bitvector does) ending at the highest index; an index ahead of it is new, one inside it is
//     new unless its bit is set, one behind it is too old.
//   - The SRTCP window is 128 indices starting at window_start; an outbound stream's next index
//     is window_start + 1 (so the first SRTCP index sent is 1).
//
//   RTP window: "index i was seen" is bit (i mod ring) of a ring of `ring` bits (a power of two
//   at least the window size); the window is the `size` indices ending at the highest one.
//     index:  highest-size+1 ... highest-1  highest  | highest+1 ... (cleared as the window moves)
//   Why a ring and not a shifted bit vector: the window moves by one on nearly every packet, and
//   shifting 1,024 bits per packet was 2 % of the media workers' CPU at 250 stages (perf, issue
//   12); the ring clears one bit instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace ivs::engine::srtp_detail {

enum class ReplayCheck : std::uint8_t { kNew, kReplayed, kTooOld };

struct IndexEstimate {
  std::uint64_t index = 0;  // 48-bit ROC || SEQ
  std::int32_t delta = 0;   // index minus the highest index seen so far
  std::uint32_t roc() const { return static_cast<std::uint32_t>(index >> 16); }
};

class RtpReplayWindow {
 public:
  explicit RtpReplayWindow(std::size_t window_size);

  IndexEstimate estimate(std::uint16_t sequence) const;
  ReplayCheck check(std::int32_t delta) const;
  // Records the packet `delta` away from the highest index (delta > 0 moves the window).
  void add(std::int32_t delta);
  std::uint64_t highest() const { return highest_; }

 private:
  // The ring position of the index `behind` packets before the highest one.
  std::size_t position(std::size_t behind) const { return (highest_ - behind) & ring_mask_; }
  bool bit(std::size_t position) const { return (bits_[position / 64] >> (position % 64)) & 1U; }
  void set_bit(std::size_t position) {
    bits_[position / 64] |= std::uint64_t{1} << (position % 64);
  }
  void clear_bit(std::size_t position) {
    bits_[position / 64] &= ~(std::uint64_t{1} << (position % 64));
  }
  // Moves the highest index `count` ahead, forgetting what the ring held for the new indices.
  void advance(std::size_t count);

  std::uint64_t highest_ = 0;
  std::size_t size_;
  std::size_t ring_mask_;
  std::vector<std::uint64_t> bits_;
};

class RtcpReplayWindow {
 public:
  static constexpr std::uint32_t kSize = 128;
  static constexpr std::uint32_t kMaxIndex = 0x7fffffff;

  ReplayCheck check(std::uint32_t index) const;
  void add(std::uint32_t index);
  // The next outbound SRTCP index, or nullopt once the 31-bit space is used up.
  std::optional<std::uint32_t> next_outbound();

 private:
  bool bit(std::uint32_t k) const { return (bits_[k / 64] >> (k % 64)) & 1U; }

  std::uint32_t window_start_ = 0;
  std::uint64_t bits_[2] = {0, 0};
};

}  // namespace ivs::engine::srtp_detail
