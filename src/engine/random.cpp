#include "engine/random.hpp"

#include <openssl/rand.h>

#include <cstring>

namespace ivs::engine {

std::uint64_t RandomSource::uniform(std::uint64_t bound) {
  // Rejection sampling removes the modulo bias.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  std::uint64_t value = next_u64();
  while (value >= limit) {
    value = next_u64();
  }
  return value % bound;
}

double RandomSource::unit_interval() {
  return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
}

void RandomSource::fill(std::span<std::uint8_t> out) {
  std::size_t offset = 0;
  while (offset < out.size()) {
    const std::uint64_t value = next_u64();
    const std::size_t chunk = std::min<std::size_t>(8, out.size() - offset);
    std::memcpy(out.data() + offset, &value, chunk);
    offset += chunk;
  }
}

std::string RandomSource::ice_chars(std::size_t length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out(length, '\0');
  for (char& c : out) {
    c = kAlphabet[uniform(64)];
  }
  return out;
}

namespace {
std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}
}  // namespace

SeededRandom::SeededRandom(std::uint64_t seed) {
  for (auto& word : state_) {
    word = splitmix64(seed);
  }
}

std::uint64_t SeededRandom::next_u64() {
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

std::uint64_t SecureRandom::next_u64() {
  std::uint64_t value = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value) != 1) {
    // OpenSSL's DRBG does not fail once seeded; if it ever does, aborting is safer than
    // handing out predictable ICE credentials.
    std::abort();
  }
  return value;
}

}  // namespace ivs::engine
