// STUN message serialization (RFC 8489 §5, §14) and the FINGERPRINT CRC-32 (§14.7).
#include <algorithm>
#include <array>

#include "proto/stun_message.hpp"

namespace ivs::proto {
namespace {

// The reflected CRC-32 table for polynomial 0x04C11DB7, built at compile time.
constexpr std::array<std::uint32_t, 256> make_crc32_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t value = i;
    for (int bit = 0; bit < 8; ++bit) {
      value = (value & 1) ? (value >> 1) ^ 0xEDB88320u : value >> 1;
    }
    table[i] = value;
  }
  return table;
}
constexpr std::array<std::uint32_t, 256> kCrc32Table = make_crc32_table();

}  // namespace

std::uint32_t crc32(ByteSpan bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const std::uint8_t byte : bytes) {
    crc = kCrc32Table[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFu;
}

std::uint16_t stun_message_type(std::uint16_t method, StunClass message_class) {
  const auto class_bits = static_cast<std::uint16_t>(message_class);
  return static_cast<std::uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) |
                                    ((method & 0x0F80) << 2) | ((class_bits & 0x1) << 4) |
                                    ((class_bits & 0x2) << 7));
}

StunBuilder::StunBuilder(std::uint16_t method, StunClass message_class, const StunTransactionId& id,
                         std::uint8_t padding_byte)
    : transaction_id_(id), padding_byte_(padding_byte) {
  bytes_.reserve(128);
  append_u16(bytes_, stun_message_type(method, message_class));
  append_u16(bytes_, 0);
  append_u32(bytes_, kStunMagicCookie);
  bytes_.insert(bytes_.end(), id.begin(), id.end());
}

void StunBuilder::append_header(std::uint16_t type, std::size_t length) {
  append_u16(bytes_, type);
  append_u16(bytes_, static_cast<std::uint16_t>(length));
}

void StunBuilder::update_length() {
  write_u16(bytes_.data() + 2, static_cast<std::uint16_t>(bytes_.size() - kStunHeaderSize));
}

void StunBuilder::add(std::uint16_t type, ByteSpan value) {
  append_header(type, value.size());
  append_bytes(bytes_, value);
  while (bytes_.size() % 4 != 0) {
    bytes_.push_back(padding_byte_);
  }
  update_length();
}

void StunBuilder::add_priority(std::uint32_t priority) {
  std::array<std::uint8_t, 4> value{};
  write_u32(value.data(), priority);
  add(stun_attribute::kPriority, value);
}

void StunBuilder::add_ice_controlling(std::uint64_t tie_breaker) {
  std::array<std::uint8_t, 8> value{};
  write_u64(value.data(), tie_breaker);
  add(stun_attribute::kIceControlling, value);
}

void StunBuilder::add_ice_controlled(std::uint64_t tie_breaker) {
  std::array<std::uint8_t, 8> value{};
  write_u64(value.data(), tie_breaker);
  add(stun_attribute::kIceControlled, value);
}

void StunBuilder::add_mapped_address(const SocketAddress& address) {
  std::array<std::uint8_t, 20> value{};
  value[1] = address.is_ipv4() ? 0x01 : 0x02;
  write_u16(value.data() + 2, address.port());
  std::copy_n(address.ip_bytes(), address.ip_size(), value.begin() + 4);
  add(stun_attribute::kMappedAddress, ByteSpan(value).first(4 + address.ip_size()));
}

void StunBuilder::add_xor_mapped_address(const SocketAddress& address) {
  std::array<std::uint8_t, 16> mask{};
  write_u32(mask.data(), kStunMagicCookie);
  std::copy(transaction_id_.begin(), transaction_id_.end(), mask.begin() + 4);
  std::array<std::uint8_t, 20> value{};
  value[1] = address.is_ipv4() ? 0x01 : 0x02;
  write_u16(value.data() + 2, static_cast<std::uint16_t>(address.port() ^ read_u16(mask.data())));
  for (std::size_t i = 0; i < address.ip_size(); ++i) {
    value[4 + i] = address.ip_bytes()[i] ^ mask[i];
  }
  add(stun_attribute::kXorMappedAddress, ByteSpan(value).first(4 + address.ip_size()));
}

void StunBuilder::add_error_code(int code, std::string_view reason) {
  Bytes value;
  value.reserve(4 + reason.size());
  append_u16(value, 0);
  append_u8(value, static_cast<std::uint8_t>((code / 100) & 0x7));
  append_u8(value, static_cast<std::uint8_t>(code % 100));
  append_bytes(value, as_bytes(reason));
  add(stun_attribute::kErrorCode, value);
}

void StunBuilder::add_unknown_attributes(std::span<const std::uint16_t> types) {
  Bytes value;
  for (const std::uint16_t type : types) {
    append_u16(value, type);
  }
  add(stun_attribute::kUnknownAttributes, value);
}

std::size_t StunBuilder::reserve_message_integrity() {
  append_header(stun_attribute::kMessageIntegrity, kStunMessageIntegritySize);
  const std::size_t value_offset = bytes_.size();
  bytes_.resize(bytes_.size() + kStunMessageIntegritySize, 0);
  update_length();
  return value_offset;
}

void StunBuilder::add_fingerprint() {
  // The length field must already count the FINGERPRINT attribute when the CRC is taken.
  const std::size_t offset = bytes_.size();
  append_header(stun_attribute::kFingerprint, 4);
  append_u32(bytes_, 0);
  update_length();
  const std::uint32_t value = crc32(ByteSpan(bytes_).first(offset)) ^ kStunFingerprintXor;
  write_u32(bytes_.data() + offset + 4, value);
}

}  // namespace ivs::proto
