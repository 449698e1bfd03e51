// Small text helpers shared by the SDP codec files (RFC 8866 §9 grammar is token and space
// based). Kept apart so each attribute parser stays short; not part of the public SDP surface.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/text.hpp"

namespace ivs::proto::sdp_text {

// Splits on single spaces; runs of spaces and leading/trailing spaces yield no empty tokens,
// because real peers (Chromium's "a=msid-semantic: WMS") pad with spaces the grammar forbids.
std::vector<std::string_view> split_spaces(std::string_view text);

// Splits on `separator`, keeping empty pieces (used for ';' and ',' lists).
std::vector<std::string_view> split(std::string_view text, char separator);

using text::iequals;
using text::to_lower;
using text::trim;

// Decimal digits only (no sign, no spaces), at most `max`; nullopt otherwise.
std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t max);

// RFC 8866 token: visible ASCII except a few separators. We accept any non-space visible char,
// which is what every peer emits and what the grammar's users need.
bool is_token(std::string_view text);

// Quotes at most 40 characters of untrusted input for an error message.
std::string quote(std::string_view text);

}  // namespace ivs::proto::sdp_text
