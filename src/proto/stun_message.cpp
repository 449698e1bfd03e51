// STUN message parsing (RFC 8489 §5, §14). See stun_message.hpp for the design.
#include "proto/stun_message.hpp"

#include <algorithm>
#include <string>

namespace ivs::proto {
namespace {

std::size_t padded(std::size_t length) {
  return (length + 3) & ~std::size_t{3};
}

// Decodes the 14-bit message type into method and class (RFC 8489 §5, Figure 3).
void split_message_type(std::uint16_t type, std::uint16_t& method, StunClass& message_class) {
  method =
      static_cast<std::uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
  const int class_bits = ((type >> 4) & 0x1) | ((type >> 7) & 0x2);
  message_class = static_cast<StunClass>(class_bits);
}

// Checks the value lengths of the attributes we interpret, so accessors can trust them.
Status check_known_length(std::uint16_t type, std::size_t length) {
  auto exact = [&](std::size_t expected) -> Status {
    if (length == expected) {
      return Ok{};
    }
    return make_error("STUN: attribute 0x" +
                      to_hex(std::array<std::uint8_t, 2>{static_cast<std::uint8_t>(type >> 8),
                                                         static_cast<std::uint8_t>(type)}) +
                      " has length " + std::to_string(length) + ", expected " +
                      std::to_string(expected));
  };
  switch (type) {
    case stun_attribute::kPriority:
    case stun_attribute::kFingerprint:
      return exact(4);
    case stun_attribute::kUseCandidate:
      return exact(0);
    case stun_attribute::kIceControlled:
    case stun_attribute::kIceControlling:
      return exact(8);
    case stun_attribute::kMessageIntegrity:
      return exact(kStunMessageIntegritySize);
    case stun_attribute::kMessageIntegritySha256:
      if (length < 16 || length > 32 || length % 4 != 0) {
        return make_error("STUN: MESSAGE-INTEGRITY-SHA256 length " + std::to_string(length));
      }
      return Ok{};
    case stun_attribute::kXorMappedAddress:
    case stun_attribute::kMappedAddress:
      if (length != 8 && length != 20) {
        return make_error("STUN: address attribute length " + std::to_string(length));
      }
      return Ok{};
    case stun_attribute::kErrorCode:
      if (length < 4 || length > 763 + 4) {
        return make_error("STUN: ERROR-CODE length " + std::to_string(length));
      }
      return Ok{};
    case stun_attribute::kUsername:
      if (length > 513) {
        return make_error("STUN: USERNAME longer than 513 bytes");
      }
      return Ok{};
    default:
      return Ok{};
  }
}

// Decodes MAPPED-ADDRESS / XOR-MAPPED-ADDRESS values (RFC 8489 §14.1, §14.2). `mask` is the
// cookie followed by the transaction id for the XOR variant, all zeros otherwise.
std::optional<SocketAddress> decode_address(ByteSpan value,
                                            const std::array<std::uint8_t, 16>& mask) {
  const std::uint8_t family = value[1];
  const auto port = static_cast<std::uint16_t>(read_u16(value.data() + 2) ^ read_u16(mask.data()));
  if (family == 0x01 && value.size() == 8) {
    std::array<std::uint8_t, 4> ip{};
    for (std::size_t i = 0; i < 4; ++i) {
      ip[i] = value[4 + i] ^ mask[i];
    }
    return SocketAddress::ipv4(ip, port);
  }
  if (family == 0x02 && value.size() == 20) {
    std::array<std::uint8_t, 16> ip{};
    for (std::size_t i = 0; i < 16; ++i) {
      ip[i] = value[4 + i] ^ mask[i];
    }
    return SocketAddress::ipv6(ip, port);
  }
  return std::nullopt;
}

bool is_known_attribute(std::uint16_t type) {
  using namespace stun_attribute;
  for (std::uint16_t known :
       {kMappedAddress, kUsername, kMessageIntegrity, kErrorCode, kUnknownAttributes, kRealm,
        kNonce, kMessageIntegritySha256, kXorMappedAddress, kPriority, kUseCandidate}) {
    if (type == known) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool looks_like_stun(ByteSpan bytes) {
  return bytes.size() >= kStunHeaderSize && (bytes[0] & 0xC0) == 0 &&
         read_u32(bytes.data() + 4) == kStunMagicCookie && (read_u16(bytes.data() + 2) & 3) == 0;
}

Result<StunMessage> StunMessage::parse(ByteSpan bytes) {
  if (bytes.size() < kStunHeaderSize) {
    return make_error("STUN: " + std::to_string(bytes.size()) + " bytes is shorter than a header");
  }
  if ((bytes[0] & 0xC0) != 0) {
    return make_error("STUN: the two most significant bits are not zero");
  }
  if (read_u32(bytes.data() + 4) != kStunMagicCookie) {
    return make_error("STUN: bad magic cookie");
  }
  const std::size_t length = read_u16(bytes.data() + 2);
  if (length % 4 != 0) {
    return make_error("STUN: message length " + std::to_string(length) + " not a multiple of 4");
  }
  if (kStunHeaderSize + length != bytes.size()) {
    return make_error("STUN: message length " + std::to_string(length) + " but " +
                      std::to_string(bytes.size() - kStunHeaderSize) + " bytes follow the header");
  }
  StunMessage message;
  message.bytes_ = bytes;
  split_message_type(read_u16(bytes.data()), message.method_, message.class_);
  std::copy_n(bytes.begin() + 8, 12, message.transaction_id_.begin());

  std::size_t offset = kStunHeaderSize;
  while (offset < bytes.size()) {
    if (bytes.size() - offset < 4) {
      return make_error("STUN: truncated attribute header");
    }
    const std::uint16_t type = read_u16(bytes.data() + offset);
    const std::size_t value_length = read_u16(bytes.data() + offset + 2);
    if (padded(value_length) > bytes.size() - offset - 4) {
      return make_error("STUN: attribute length " + std::to_string(value_length) +
                        " past end of message");
    }
    auto added = message.add_attribute(type, offset, bytes.subspan(offset + 4, value_length));
    if (!added) {
      return added.error();
    }
    offset += 4 + padded(value_length);
  }
  return message;
}

Status StunMessage::add_attribute(std::uint16_t type, std::size_t offset, ByteSpan value) {
  if (fingerprint_index_ >= 0) {
    return make_error("STUN: attribute after FINGERPRINT");
  }
  auto length_ok = check_known_length(type, value.size());
  if (!length_ok) {
    return length_ok;
  }
  // After MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count (§14.5).
  if (integrity_index_ >= 0 && type != stun_attribute::kFingerprint &&
      type != stun_attribute::kMessageIntegritySha256) {
    return Ok{};
  }
  if (count_ == kMaxAttributes) {
    return make_error("STUN: more than " + std::to_string(kMaxAttributes) + " attributes");
  }
  const int index = static_cast<int>(count_);
  if (type == stun_attribute::kMessageIntegrity) {
    integrity_index_ = index;
  } else if (type == stun_attribute::kMessageIntegritySha256) {
    integrity_sha256_index_ = index;
  } else if (type == stun_attribute::kFingerprint) {
    fingerprint_index_ = index;
  }
  attributes_[count_++] = StunAttributeView{type, static_cast<std::uint16_t>(offset), value};
  return Ok{};
}

const StunAttributeView* StunMessage::find(std::uint16_t type) const {
  for (std::size_t i = 0; i < count_; ++i) {
    if (attributes_[i].type == type) {
      return &attributes_[i];
    }
  }
  return nullptr;
}

std::optional<std::string_view> StunMessage::text(std::uint16_t type) const {
  const auto* attribute = find(type);
  if (attribute == nullptr) {
    return std::nullopt;
  }
  return as_text(attribute->value);
}

std::optional<std::uint32_t> StunMessage::priority() const {
  const auto* attribute = find(stun_attribute::kPriority);
  if (attribute == nullptr) {
    return std::nullopt;
  }
  return read_u32(attribute->value.data());
}

std::optional<std::uint64_t> StunMessage::u64_attribute(std::uint16_t type) const {
  const auto* attribute = find(type);
  if (attribute == nullptr) {
    return std::nullopt;
  }
  return read_u64(attribute->value.data());
}

std::optional<std::uint64_t> StunMessage::ice_controlling() const {
  return u64_attribute(stun_attribute::kIceControlling);
}

std::optional<std::uint64_t> StunMessage::ice_controlled() const {
  return u64_attribute(stun_attribute::kIceControlled);
}

std::optional<SocketAddress> StunMessage::xor_mapped_address() const {
  const auto* attribute = find(stun_attribute::kXorMappedAddress);
  if (attribute == nullptr) {
    return std::nullopt;
  }
  std::array<std::uint8_t, 16> mask{};
  write_u32(mask.data(), kStunMagicCookie);
  std::copy(transaction_id_.begin(), transaction_id_.end(), mask.begin() + 4);
  return decode_address(attribute->value, mask);
}

std::optional<SocketAddress> StunMessage::mapped_address() const {
  const auto* attribute = find(stun_attribute::kMappedAddress);
  if (attribute == nullptr) {
    return std::nullopt;
  }
  return decode_address(attribute->value, std::array<std::uint8_t, 16>{});
}

std::optional<StunErrorCode> StunMessage::error_code() const {
  const auto* attribute = find(stun_attribute::kErrorCode);
  if (attribute == nullptr) {
    return std::nullopt;
  }
  const auto& value = attribute->value;
  const int code = (value[2] & 0x7) * 100 + value[3];
  return StunErrorCode{code, as_text(value.subspan(4))};
}

std::optional<ByteSpan> StunMessage::message_integrity() const {
  if (integrity_index_ < 0) {
    return std::nullopt;
  }
  return attributes_[static_cast<std::size_t>(integrity_index_)].value;
}

std::optional<ByteSpan> StunMessage::message_integrity_sha256() const {
  if (integrity_sha256_index_ < 0) {
    return std::nullopt;
  }
  return attributes_[static_cast<std::size_t>(integrity_sha256_index_)].value;
}

std::optional<StunIntegrityInput> StunMessage::integrity_input(int index) const {
  if (index < 0) {
    return std::nullopt;
  }
  const auto& attribute = attributes_[static_cast<std::size_t>(index)];
  const std::size_t end = std::size_t{attribute.offset} + 4 + padded(attribute.value.size());
  return StunIntegrityInput{bytes_.first(attribute.offset),
                            static_cast<std::uint16_t>(end - kStunHeaderSize)};
}

std::optional<StunIntegrityInput> StunMessage::message_integrity_input() const {
  return integrity_input(integrity_index_);
}

std::optional<StunIntegrityInput> StunMessage::message_integrity_sha256_input() const {
  return integrity_input(integrity_sha256_index_);
}

bool StunMessage::fingerprint_matches() const {
  if (fingerprint_index_ < 0) {
    return false;
  }
  const auto& attribute = attributes_[static_cast<std::size_t>(fingerprint_index_)];
  const std::uint32_t expected = crc32(bytes_.first(attribute.offset)) ^ kStunFingerprintXor;
  return read_u32(attribute.value.data()) == expected;
}

std::vector<std::uint16_t> StunMessage::unknown_comprehension_required() const {
  std::vector<std::uint16_t> unknown;
  for (const auto& attribute : attributes()) {
    if (attribute.type < 0x8000 && !is_known_attribute(attribute.type)) {
      unknown.push_back(attribute.type);
    }
  }
  return unknown;
}

}  // namespace ivs::proto
