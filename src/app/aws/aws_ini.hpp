// The AWS shared configuration and credentials files (AWS SDKs and Tools Reference Guide,
// "Shared config and credentials files": "Format of the config file", "Format of the
// credentials file"): INI text such as
//
//   [default]                      # credentials file: section = profile name
//   aws_access_key_id = AKIA...
//   [profile build]                # config file: "profile " prefix, except for [default]
//   role_arn = arn:aws:iam::123456789012:role/x
//   s3 =                           # a sub-section: indented lines belong to "s3"
//     max_concurrent_requests = 20
//
// A parser like every other here (issue 14 keeps it ours): parse(bytes) -> Result, no
// exceptions, fuzzed (fuzz/aws_ini_fuzz.cpp). Rules, as the SDKs read these files:
//   - Lines whose first non-blank character is '#' or ';' are comments; so is the rest of a
//     line after " #" or " ;" (white space, then the comment character). Blank lines are ignored.
//   - Section names and keys are trimmed; keys compare case-sensitively, as in the SDKs.
//   - A later duplicate key wins; a repeated section header continues the same section.
//   - Indented "key = value" lines after "name =" (empty value) form a sub-section, kept as
//     "name.key" so nothing of it is mistaken for a top-level key.
//   - A key before the first section, a line with no '=', or an unterminated "[" header is an
//     error naming the line, never echoing a value (it could be a secret).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "proto/result.hpp"

namespace ivs::app::aws {

using IniSection = std::map<std::string, std::string, std::less<>>;
using IniFile = std::map<std::string, IniSection, std::less<>>;

// Files larger than this are refused: real ones are a few kilobytes.
inline constexpr std::size_t kMaxIniBytes = std::size_t{1024} * 1024;

Result<IniFile> parse_ini(std::string_view text);

}  // namespace ivs::app::aws
