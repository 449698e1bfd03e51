// Test helper: bytes from a hex literal, as RFC vectors and captures are written.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "proto/bytes.hpp"

namespace ivs::test {

// Bytes from hex text; fails the current test when the text is not even-length hex.
inline Bytes hex_bytes(std::string_view text) {
  auto bytes = from_hex(text);
  EXPECT_TRUE(bytes.has_value()) << "not hex: " << text;
  return bytes.value_or(Bytes{});
}

}  // namespace ivs::test
