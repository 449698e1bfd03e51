// Randomness as an input (STYLE.md §3): transaction ids, ICE tie-breakers, ufrag/pwd, SSRCs and
// backoff jitter come from an injected RandomSource, so seeded tests reproduce bit for bit.
// Key material never comes from here: DTLS keys stay with OpenSSL's own generator.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace ivs::engine {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual std::uint64_t next_u64() = 0;

  std::uint32_t next_u32() { return static_cast<std::uint32_t>(next_u64() >> 32); }
  // Uniform in [0, bound); bound must be > 0.
  std::uint64_t uniform(std::uint64_t bound);
  // Uniform in [0.0, 1.0).
  double unit_interval();
  void fill(std::span<std::uint8_t> out);
  // `length` characters from the ICE character set (RFC 8445 §5.3: ALPHA / DIGIT / "+" / "/").
  std::string ice_chars(std::size_t length);
};

// Deterministic xoshiro256** generator for tests and simulations.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(std::uint64_t seed);
  std::uint64_t next_u64() override;

 private:
  std::uint64_t state_[4];
};

// OpenSSL RAND_bytes; what the product uses.
class SecureRandom final : public RandomSource {
 public:
  std::uint64_t next_u64() override;
};

}  // namespace ivs::engine
