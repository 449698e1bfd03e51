// Small ASCII text helpers for the header and attribute grammars the codecs and the control
// plane read (SDP RFC 8866 §9, HTTP RFC 9110 §5.6: tokens, optional whitespace, case-insensitive
// names). One copy, so every parser trims and compares the same way.
#pragma once

#include <string>
#include <string_view>

namespace ivs::proto::text {

// Removes leading and trailing spaces and tabs (HTTP's OWS, SDP's padding).
std::string_view trim(std::string_view text);
// ASCII case-insensitive equality (header names, auth schemes, SDP tokens).
bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view text);
// RFC 3986 §2.1 percent-decoding of one URL component ("arn%3Aaws%2Fx" -> "arn:aws/x"). An
// invalid escape ("100%", "%zz") is kept literally, and '+' stays '+' (only form encoding gives
// it a meaning; SigV4 and path segments do not).
std::string percent_decode(std::string_view text);
// The first line of `body` (an HTTP error body), cut at `limit` characters with "..." so a
// failure reason stays one bounded log line.
std::string first_line(std::string_view body, std::size_t limit = 200);

}  // namespace ivs::proto::text
