#include "proto/sdp_text.hpp"

#include <cctype>

namespace ivs::proto::sdp_text {

std::vector<std::string_view> split_spaces(std::string_view text) {
  std::vector<std::string_view> tokens;
  std::size_t position = 0;
  while (position < text.size()) {
    while (position < text.size() && text[position] == ' ') {
      ++position;
    }
    std::size_t end = position;
    while (end < text.size() && text[end] != ' ') {
      ++end;
    }
    if (end > position) {
      tokens.push_back(text.substr(position, end - position));
    }
    position = end;
  }
  return tokens;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      pieces.push_back(text.substr(start));
      return pieces;
    }
    pieces.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t max) {
  if (text.empty() || text.size() > 20) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (digit > max || value > (max - digit) / 10) {
      return std::nullopt;
    }
    value = value * 10 + digit;
  }
  return value;
}

bool is_token(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) {
      return false;
    }
  }
  return true;
}

std::string quote(std::string_view text) {
  std::string quoted = "'";
  for (char c : text.substr(0, 40)) {
    const auto byte = static_cast<unsigned char>(c);
    quoted += (byte < 0x20 || byte >= 0x7f) ? '?' : c;
  }
  if (text.size() > 40) {
    quoted += "...";
  }
  quoted += "'";
  return quoted;
}

}  // namespace ivs::proto::sdp_text
