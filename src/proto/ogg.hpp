// Ogg encapsulation (RFC 3533) and the Ogg Opus mapping (RFC 7845), read-only: enough to take
// the audio packets out of an `.ogg` file that ffmpeg's libopus encoder wrote, so the test
// publisher can send real Opus over RTP (RFC 7587: one Opus packet per RTP payload).
//
//   page: "OggS" | version=0 | header_type | granule(64 LE) | serial(32 LE) | sequence(32 LE)
//         | CRC-32(32 LE) | segment count | lacing values... | body
//
// A packet is the concatenation of lacing segments up to the first segment shorter than 255
// bytes, and may continue onto the next page (header_type bit 0x01). The CRC is the
// non-reflected CRC-32 with polynomial 0x04C11DB7 over the page with its CRC field zeroed
// (RFC 3533 §6); pages failing it are refused, since a truncated or edited file should fail
// loudly at load time rather than send garbage. Only the first logical stream (the first
// beginning-of-stream page's serial) is demultiplexed; pages of other streams are skipped.
//
// Opus (RFC 7845 §5): packet 1 is "OpusHead", packet 2 is "OpusTags", then audio packets. The
// duration of an audio packet comes from its TOC byte (RFC 6716 §3.1), which is what paces it.
#pragma once

#include <cstdint>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/result.hpp"

namespace ivs::proto {

struct OggPage {
  static constexpr std::uint8_t kContinued = 0x01;
  static constexpr std::uint8_t kBeginOfStream = 0x02;
  static constexpr std::uint8_t kEndOfStream = 0x04;

  std::uint8_t header_type = 0;
  std::uint64_t granule_position = 0;
  std::uint32_t serial = 0;
  std::uint32_t sequence = 0;
  std::vector<std::uint8_t> lacing;  // segment table, one entry per segment
  ByteSpan body;                     // points into the parsed input
  std::size_t size = 0;              // header + body bytes, to step to the next page

  // One page at the start of `bytes` (trailing bytes are left for the next call).
  static Result<OggPage> parse(ByteSpan bytes);
};

// RFC 3533 §6 page checksum (poly 0x04C11DB7, initial value 0, no reflection, no final xor).
std::uint32_t ogg_crc32(ByteSpan bytes);

struct OggPacket {
  Bytes data;
  // Granule position of the page on which this packet ends, when it is the last packet to end
  // there; otherwise the "no position" value ~0.
  std::uint64_t granule_position = ~std::uint64_t{0};
};

// Every packet of the first logical stream of an Ogg file, joined across pages. Errors name the
// page index and the check that failed. A final packet left unterminated (file truncated
// mid-packet) is dropped, as RFC 3533 readers do.
Result<std::vector<OggPacket>> parse_ogg_packets(ByteSpan file);

// RFC 7845 §5.1 identification header.
struct OpusHead {
  std::uint8_t version = 1;
  std::uint8_t channels = 0;
  std::uint16_t pre_skip = 0;
  std::uint32_t input_sample_rate = 0;
  std::int16_t output_gain = 0;
  std::uint8_t mapping_family = 0;

  static Result<OpusHead> parse(ByteSpan packet);
};

struct OggOpus {
  OpusHead head;
  std::vector<Bytes> packets;  // audio packets only (headers removed)
};

// An Ogg Opus file: OpusHead, OpusTags, then audio. Refuses files whose first stream is not
// Opus, and multichannel mapping families (WebRTC Opus is mono or stereo, family 0).
Result<OggOpus> parse_ogg_opus(ByteSpan file);

// Samples at 48 kHz carried by one Opus packet (RFC 6716 §3.1 TOC byte and frame count), or an
// error for an empty or malformed packet. 20 ms packets give 960.
Result<std::uint32_t> opus_packet_samples(ByteSpan packet);

}  // namespace ivs::proto
