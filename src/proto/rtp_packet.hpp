// RTP fixed header (RFC 3550 §5.1, §5.3.1) with CSRCs, padding and RFC 8285 header extensions
// (one-byte form, profile 0xBEDE; two-byte form, profile 0x100X), parsed as a non-owning view.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//   |                           timestamp                           |
//   |           synchronization source (SSRC) identifier            |
//   |            contributing source (CSRC) identifiers (CC × 32)   |
//   |   profile (0xBEDE / 0x100X)   |   extension length (words)    |
//   |                 extension elements, zero padded               |
//   |                 payload ...   | padding ... | padding count   |
//
// Why a view of offsets: the relay parses each ingest packet once and then copies it into up to
// 1000 egress buffers, rewriting each copy in place (rtp_rewrite.hpp). The view therefore
// records offsets relative to the packet start, not pointers, so the same RtpView describes every
// byte-identical copy. Parsing allocates nothing: extension elements are validated once here and
// then walked lazily by RtpExtensionIterator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "proto/bytes.hpp"
#include "proto/result.hpp"

namespace ivs::proto {

inline constexpr std::size_t kRtpHeaderSize = 12;
inline constexpr std::uint16_t kOneByteExtensionProfile = 0xBEDE;
// The two-byte form uses 0x100 in the top 12 bits; the low 4 bits are application bits.
inline constexpr std::uint16_t kTwoByteExtensionProfile = 0x1000;

enum class RtpExtensionForm : std::uint8_t {
  kNone,     // X bit clear
  kOneByte,  // RFC 8285 §4.2
  kTwoByte,  // RFC 8285 §4.3
  kOther,    // some other RFC 3550 §5.3.1 profile; kept as opaque bytes
};

// One RFC 8285 extension element. Offsets are relative to the packet start.
struct RtpExtensionElement {
  std::uint8_t id = 0;
  std::size_t header_offset = 0;  // the element's first header byte
  std::size_t data_offset = 0;    // its first data byte
  std::size_t size = 0;           // data bytes (1..16 one-byte form, 0..255 two-byte form)
};

// Walks the elements of an already validated extension block. Padding bytes are skipped; in the
// one-byte form, id 15 ends the walk (RFC 8285 §4.2).
class RtpExtensionIterator {
 public:
  RtpExtensionIterator(const std::uint8_t* packet, std::size_t begin, std::size_t end,
                       RtpExtensionForm form)
      : packet_(packet), position_(begin), end_(end), form_(form) {}

  // The next element, or nullopt at the end of the block.
  std::optional<RtpExtensionElement> next();

 private:
  const std::uint8_t* packet_;
  std::size_t position_;
  std::size_t end_;
  RtpExtensionForm form_;
};

struct RtpView {
  ByteSpan packet;  // the parsed bytes; all offsets below are relative to packet.data()

  bool marker = false;
  std::uint8_t payload_type = 0;
  std::uint16_t sequence_number = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  std::uint8_t csrc_count = 0;

  RtpExtensionForm extension_form = RtpExtensionForm::kNone;
  std::uint16_t extension_profile = 0;  // the 16-bit "defined by profile" field
  std::size_t extension_offset = 0;     // first byte after the 4-byte extension header
  std::size_t extension_size = 0;       // bytes of extension data (a multiple of 4)

  std::size_t payload_offset = 0;
  std::size_t payload_size = 0;
  std::size_t padding_size = 0;  // including the final count byte; 0 when P is clear

  std::size_t header_size() const { return payload_offset; }
  // The index-th CSRC; index must be below csrc_count.
  std::uint32_t csrc(std::size_t index) const;
  ByteSpan payload() const { return packet.subspan(payload_offset, payload_size); }
  ByteSpan extension_data() const { return packet.subspan(extension_offset, extension_size); }
  bool has_rfc8285_extensions() const {
    return extension_form == RtpExtensionForm::kOneByte ||
           extension_form == RtpExtensionForm::kTwoByte;
  }
  RtpExtensionIterator extensions() const {
    return {packet.data(), extension_offset, extension_offset + extension_size, extension_form};
  }
  // The first element with this id, or nullopt.
  std::optional<RtpExtensionElement> find_extension(std::uint8_t id) const;
  // The data of the first element with this id, or nullopt.
  std::optional<ByteSpan> extension(std::uint8_t id) const;
};

// Parses and validates an RTP packet: version 2, CSRCs, extension block and every RFC 8285
// element inside it, and padding all within the bytes. Never allocates on success.
Result<RtpView> parse_rtp(ByteSpan packet);

// RFC 5761 §4 demultiplexing: RTCP packet types 192..223 occupy the RTP marker+PT byte range
// 64..95 (after masking the marker). Cheap first-byte checks for a bundled, rtcp-muxed port.
inline bool looks_like_rtp_or_rtcp(ByteSpan packet) {
  return packet.size() >= 2 && (packet[0] >> 6) == 2;
}
inline bool looks_like_rtcp(ByteSpan packet) {
  return looks_like_rtp_or_rtcp(packet) && packet[1] >= 192 && packet[1] <= 223;
}

}  // namespace ivs::proto
