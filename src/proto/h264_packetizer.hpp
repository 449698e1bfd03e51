// H.264 RTP packetizer (RFC 6184 §5.7.1 STAP-A, §5.8 FU-A, packetization-mode 1) for the test
// publisher and tests: the relay itself forwards payloads untouched.
//
// Policy (the same as libwebrtc's): consecutive NAL units that fit together into one payload are
// aggregated into a STAP-A (so SPS+PPS+small units share a packet), a NAL unit larger than the
// payload limit is split into FU-A fragments of near-equal size, and anything else goes out as a
// single NAL unit packet.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "proto/bytes.hpp"

namespace ivs::proto {

// A STAP-A payload holding these NAL units (each non-empty, at most 65535 bytes). Its F bit is
// the OR and its NRI the maximum of the units' (RFC 6184 §5.7.1).
Bytes build_stap_a(std::span<const ByteSpan> nal_units);

// FU-A payloads of at most max_payload bytes (max_payload >= 3) carrying one NAL unit of at least
// two bytes; empty when the arguments do not allow it.
std::vector<Bytes> fragment_fu_a(ByteSpan nal_unit, std::size_t max_payload);

// The RTP payloads for one access unit, in order; the caller sets the marker bit on the last.
// Empty NAL units are skipped.
std::vector<Bytes> packetize_h264(std::span<const ByteSpan> nal_units, std::size_t max_payload);

}  // namespace ivs::proto
