#include "io/udp_send_slot_pool.hpp"

#include <algorithm>
#include <bit>
#include <type_traits>

namespace ivs::io {

namespace {

constexpr std::size_t kBitsPerWord = 64;

}  // namespace

UdpSendSlotPool::UdpSendSlotPool(std::size_t capacity, std::size_t slot_bytes)
    : capacity_(std::clamp<std::size_t>(capacity, 1, kNone - 1)),
      slot_bytes_(slot_bytes),
      release_window_(release_window_for(capacity_)),
      slots_(capacity_ * sizeof(Slot)),
      payloads_(capacity_ * slot_bytes),
      free_bits_((capacity_ + kBitsPerWord - 1) / kBitsPerWord, ~std::uint64_t{0}) {
  static_assert(std::is_trivially_copyable_v<Slot> && std::is_trivially_destructible_v<Slot>);
  // The bits past the last slot are never free.
  if (const std::size_t tail = capacity_ % kBitsPerWord; tail != 0) {
    free_bits_.back() = (std::uint64_t{1} << tail) - 1;
  }
}

std::size_t UdpSendSlotPool::release_window_for(std::size_t capacity) {
  return std::clamp<std::size_t>(capacity / 16, 64, 4096);
}

std::uint32_t UdpSendSlotPool::acquire() {
  for (std::size_t word = first_free_word_; word < free_bits_.size(); ++word) {
    if (free_bits_[word] == 0) {
      continue;
    }
    first_free_word_ = word;
    const auto bit = static_cast<std::size_t>(std::countr_zero(free_bits_[word]));
    free_bits_[word] &= free_bits_[word] - 1;
    const std::size_t index = word * kBitsPerWord + bit;
    ++in_use_;
    touched_ = std::max(touched_, index + 1);
    window_depth_ = std::max(window_depth_, index + 1);
    return static_cast<std::uint32_t>(index);
  }
  first_free_word_ = free_bits_.size();
  return kNone;
}

void UdpSendSlotPool::release(std::uint32_t index) {
  const std::size_t word = index / kBitsPerWord;
  free_bits_[word] |= std::uint64_t{1} << (index % kBitsPerWord);
  first_free_word_ = std::min(first_free_word_, word);
  --in_use_;
  if (++window_releases_ >= release_window_) {
    give_back_unused_pages();
  }
}

// Every slot at or beyond the deepest one in use is free, so its pages can go; the window's
// depth keeps the pages that steady traffic reuses, so a busy pool gives back only what a burst
// left behind, at most once per window.
void UdpSendSlotPool::give_back_unused_pages() {
  const std::size_t keep = std::max(window_depth_, highest_in_use_plus_one());
  if (touched_ > keep + kReleaseSlack) {
    slots_.release_from(keep * sizeof(Slot));
    payloads_.release_from(keep * slot_bytes_);
    touched_ = keep;
  }
  window_releases_ = 0;
  window_depth_ = 0;
}

std::size_t UdpSendSlotPool::highest_in_use_plus_one() const {
  // Only the words up to the touched depth can hold slots in use.
  for (std::size_t word = (touched_ + kBitsPerWord - 1) / kBitsPerWord; word > 0; --word) {
    std::uint64_t used = ~free_bits_[word - 1];
    if (word == free_bits_.size() && capacity_ % kBitsPerWord != 0) {
      used &= (std::uint64_t{1} << (capacity_ % kBitsPerWord)) - 1;
    }
    if (used != 0) {
      return (word - 1) * kBitsPerWord + kBitsPerWord - std::countl_zero(used);
    }
  }
  return 0;
}

}  // namespace ivs::io
