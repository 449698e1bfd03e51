// STUN message codec (RFC 8489 §5, §14, §15) with the ICE attributes (RFC 8445 §16.1).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |0 0|     STUN Message Type     |         Message Length        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                   Magic Cookie (0x2112A442)                   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                  Transaction ID (96 bits)                     |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | attributes: type (16) | length (16) | value, padded to 4 bytes |
//
// Why the design is as it is:
// - StunMessage is a *view*: parse() borrows the datagram and records where each attribute sits,
//   in a fixed-size array, so the ICE responders parse every request without allocating.
// - proto is std-only, so HMAC (MESSAGE-INTEGRITY) is computed in engine/stun_integrity. The
//   codec exposes exactly the byte range the HMAC covers (RFC 8489 §14.5: the message up to the
//   attribute, with the header's length field counting up to and including MESSAGE-INTEGRITY)
//   and the builder reserves the 20-byte slot that the engine fills. FINGERPRINT (a CRC-32, §14.7)
//   is std-only and is done here.
// - Attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are
//   ignored (§14.5), anything after FINGERPRINT is an error (§14.7).
// - Unknown attributes are kept (type and raw value) so a responder can report the
//   comprehension-required ones (420) and a re-serialization can copy them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/result.hpp"
#include "proto/socket_address.hpp"

namespace ivs::proto {

inline constexpr std::uint32_t kStunMagicCookie = 0x2112A442;
inline constexpr std::size_t kStunHeaderSize = 20;
inline constexpr std::size_t kStunMessageIntegritySize = 20;
inline constexpr std::uint16_t kStunBindingMethod = 0x001;

using StunTransactionId = std::array<std::uint8_t, 12>;

enum class StunClass : std::uint8_t {
  kRequest = 0,
  kIndication = 1,
  kSuccessResponse = 2,
  kErrorResponse = 3,
};

// Attribute types (IANA "STUN Attributes" registry; checked against RFC 8489 §18.3 and
// RFC 8445 §16.1).
namespace stun_attribute {
inline constexpr std::uint16_t kMappedAddress = 0x0001;
inline constexpr std::uint16_t kUsername = 0x0006;
inline constexpr std::uint16_t kMessageIntegrity = 0x0008;
inline constexpr std::uint16_t kErrorCode = 0x0009;
inline constexpr std::uint16_t kUnknownAttributes = 0x000A;
inline constexpr std::uint16_t kRealm = 0x0014;
inline constexpr std::uint16_t kNonce = 0x0015;
inline constexpr std::uint16_t kMessageIntegritySha256 = 0x001C;
inline constexpr std::uint16_t kXorMappedAddress = 0x0020;
inline constexpr std::uint16_t kPriority = 0x0024;
inline constexpr std::uint16_t kUseCandidate = 0x0025;
inline constexpr std::uint16_t kSoftware = 0x8022;
inline constexpr std::uint16_t kFingerprint = 0x8028;
inline constexpr std::uint16_t kIceControlled = 0x8029;
inline constexpr std::uint16_t kIceControlling = 0x802A;
}  // namespace stun_attribute

// Error codes used by ICE (RFC 8489 §14.8, RFC 8445 §16.1).
namespace stun_error {
inline constexpr int kBadRequest = 400;
inline constexpr int kUnauthenticated = 401;
inline constexpr int kUnknownAttribute = 420;
inline constexpr int kRoleConflict = 487;
inline constexpr int kServerError = 500;
}  // namespace stun_error

// One attribute as it sits in the parsed message: `offset` is where its 4-byte header starts.
struct StunAttributeView {
  std::uint16_t type = 0;
  std::uint16_t offset = 0;
  ByteSpan value;
};

struct StunErrorCode {
  int code = 0;
  std::string_view reason;
};

// What HMAC must cover (RFC 8489 §14.5): `covered` is the message from its first byte up to the
// integrity attribute's header, except that bytes 2..3 (the length field) must be replaced by
// `adjusted_length`. Hash covered[0..2), the two adjusted-length bytes, then covered[4..).
struct StunIntegrityInput {
  ByteSpan covered;
  std::uint16_t adjusted_length = 0;
};

// True when the first byte and size could start a STUN message (RFC 7983 range 0..3, the two
// top bits zero, the magic cookie in place). A quick check before a full parse.
bool looks_like_stun(ByteSpan bytes);

class StunMessage {
 public:
  static constexpr std::size_t kMaxAttributes = 32;

  // Parses a whole datagram. The returned view borrows `bytes`: keep them alive while using it.
  static Result<StunMessage> parse(ByteSpan bytes);

  std::uint16_t method() const { return method_; }
  StunClass message_class() const { return class_; }
  const StunTransactionId& transaction_id() const { return transaction_id_; }
  ByteSpan bytes() const { return bytes_; }
  std::span<const StunAttributeView> attributes() const { return {attributes_.data(), count_}; }

  const StunAttributeView* find(std::uint16_t type) const;
  bool has(std::uint16_t type) const { return find(type) != nullptr; }

  std::optional<std::string_view> username() const { return text(stun_attribute::kUsername); }
  std::optional<std::string_view> software() const { return text(stun_attribute::kSoftware); }
  std::optional<std::uint32_t> priority() const;
  bool use_candidate() const { return has(stun_attribute::kUseCandidate); }
  std::optional<std::uint64_t> ice_controlling() const;
  std::optional<std::uint64_t> ice_controlled() const;
  std::optional<SocketAddress> xor_mapped_address() const;
  std::optional<SocketAddress> mapped_address() const;
  std::optional<StunErrorCode> error_code() const;

  // MESSAGE-INTEGRITY (HMAC-SHA1, 20 bytes) and the input it was computed over.
  std::optional<ByteSpan> message_integrity() const;
  std::optional<StunIntegrityInput> message_integrity_input() const;
  // MESSAGE-INTEGRITY-SHA256 (parsed, not produced by us).
  std::optional<ByteSpan> message_integrity_sha256() const;
  std::optional<StunIntegrityInput> message_integrity_sha256_input() const;

  bool has_fingerprint() const { return fingerprint_index_ >= 0; }
  // True when FINGERPRINT is present and its CRC matches.
  bool fingerprint_matches() const;

  // Comprehension-required attribute types (< 0x8000) this codec does not know, for a 420.
  std::vector<std::uint16_t> unknown_comprehension_required() const;

 private:
  std::optional<std::string_view> text(std::uint16_t type) const;
  std::optional<std::uint64_t> u64_attribute(std::uint16_t type) const;
  std::optional<StunIntegrityInput> integrity_input(int index) const;
  Status add_attribute(std::uint16_t type, std::size_t offset, ByteSpan value);

  ByteSpan bytes_;
  std::uint16_t method_ = 0;
  StunClass class_ = StunClass::kRequest;
  StunTransactionId transaction_id_{};
  std::array<StunAttributeView, kMaxAttributes> attributes_{};
  std::size_t count_ = 0;
  int integrity_index_ = -1;
  int integrity_sha256_index_ = -1;
  int fingerprint_index_ = -1;
};

// Builds a STUN message attribute by attribute. The header's length field is kept current after
// every addition, so the bytes are a valid message at every step. Padding bytes default to zero;
// `padding_byte` exists so tests can reproduce vectors that pad with other values (RFC 5769 uses
// spaces), since receivers must ignore padding content.
class StunBuilder {
 public:
  StunBuilder(std::uint16_t method, StunClass message_class, const StunTransactionId& id,
              std::uint8_t padding_byte = 0);

  void add(std::uint16_t type, ByteSpan value);
  void add_text(std::uint16_t type, std::string_view text) { add(type, as_bytes(text)); }
  void add_username(std::string_view username) { add_text(stun_attribute::kUsername, username); }
  void add_software(std::string_view software) { add_text(stun_attribute::kSoftware, software); }
  void add_priority(std::uint32_t priority);
  void add_use_candidate() { add(stun_attribute::kUseCandidate, {}); }
  void add_ice_controlling(std::uint64_t tie_breaker);
  void add_ice_controlled(std::uint64_t tie_breaker);
  void add_xor_mapped_address(const SocketAddress& address);
  void add_mapped_address(const SocketAddress& address);
  void add_error_code(int code, std::string_view reason);
  void add_unknown_attributes(std::span<const std::uint16_t> types);

  // Appends MESSAGE-INTEGRITY with a zeroed value and returns the offset of that value. The HMAC
  // then covers bytes()[0 .. offset - 4) exactly as they are (the length field already counts
  // the attribute), and its 20-byte result is written at the offset. engine/stun_integrity does
  // both steps; only FINGERPRINT may follow.
  std::size_t reserve_message_integrity();
  // Appends FINGERPRINT (CRC-32 of everything before it, XOR 0x5354554e).
  void add_fingerprint();

  const Bytes& bytes() const { return bytes_; }
  MutableByteSpan mutable_bytes() { return bytes_; }
  Bytes take() && { return std::move(bytes_); }

 private:
  void append_header(std::uint16_t type, std::size_t length);
  void update_length();

  Bytes bytes_;
  StunTransactionId transaction_id_;
  std::uint8_t padding_byte_ = 0;
};

// The 16-bit message type field (RFC 8489 §5: class bits interleaved with the method bits).
std::uint16_t stun_message_type(std::uint16_t method, StunClass message_class);

// CRC-32 (ISO-HDLC, the one used by zlib and Ethernet) and the STUN FINGERPRINT value over it.
std::uint32_t crc32(ByteSpan bytes);
inline constexpr std::uint32_t kStunFingerprintXor = 0x5354554e;

}  // namespace ivs::proto
