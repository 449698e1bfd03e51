#include "proto/socket_address.hpp"

#include <charconv>
#include <cstdio>

namespace ivs {
namespace {

std::optional<std::array<std::uint8_t, 4>> parse_ipv4(std::string_view text) {
  std::array<std::uint8_t, 4> octets{};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 4; ++i) {
    unsigned value = 0;
    auto [next, ec] = std::from_chars(p, end, value);
    if (ec != std::errc{} || next == p || value > 255 || next - p > 3) {
      return std::nullopt;
    }
    octets[i] = static_cast<std::uint8_t>(value);
    p = next;
    if (i < 3) {
      if (p == end || *p != '.') {
        return std::nullopt;
      }
      ++p;
    }
  }
  if (p != end) {
    return std::nullopt;
  }
  return octets;
}

// RFC 4291 §2.2 text form, including "::" compression and a trailing dotted IPv4 part.
std::optional<std::array<std::uint8_t, 16>> parse_ipv6(std::string_view text) {
  std::array<std::uint16_t, 8> head{};
  std::array<std::uint16_t, 8> tail{};
  int head_count = 0;
  int tail_count = 0;
  bool seen_gap = false;
  std::size_t pos = 0;
  if (text.starts_with("::")) {
    seen_gap = true;
    pos = 2;
  }
  while (pos < text.size()) {
    std::size_t colon = text.find(':', pos);
    std::string_view group =
        text.substr(pos, colon == std::string_view::npos ? text.npos : colon - pos);
    auto& groups = seen_gap ? tail : head;
    int& count = seen_gap ? tail_count : head_count;
    if (group.find('.') != std::string_view::npos) {
      auto v4 = parse_ipv4(group);
      if (!v4 || colon != std::string_view::npos || head_count + tail_count > 6) {
        return std::nullopt;
      }
      groups[count++] = static_cast<std::uint16_t>(((*v4)[0] << 8) | (*v4)[1]);
      groups[count++] = static_cast<std::uint16_t>(((*v4)[2] << 8) | (*v4)[3]);
      break;
    }
    unsigned value = 0;
    auto [next, ec] = std::from_chars(group.data(), group.data() + group.size(), value, 16);
    if (group.empty() || group.size() > 4 || ec != std::errc{} ||
        next != group.data() + group.size() || head_count + tail_count >= 8) {
      return std::nullopt;
    }
    groups[count++] = static_cast<std::uint16_t>(value);
    if (colon == std::string_view::npos) {
      break;
    }
    pos = colon + 1;
    if (pos < text.size() && text[pos] == ':') {
      if (seen_gap) {
        return std::nullopt;
      }
      seen_gap = true;
      ++pos;
    } else if (pos == text.size()) {
      return std::nullopt;
    }
  }
  if ((!seen_gap && head_count != 8) || (seen_gap && head_count + tail_count > 7)) {
    return std::nullopt;
  }
  std::array<std::uint8_t, 16> octets{};
  for (int i = 0; i < head_count; ++i) {
    const std::size_t at = 2 * static_cast<std::size_t>(i);
    octets[at] = static_cast<std::uint8_t>(head[i] >> 8);
    octets[at + 1] = static_cast<std::uint8_t>(head[i]);
  }
  for (int i = 0; i < tail_count; ++i) {
    const int slot = 8 - tail_count + i;
    const std::size_t at = 2 * static_cast<std::size_t>(slot);
    octets[at] = static_cast<std::uint8_t>(tail[i] >> 8);
    octets[at + 1] = static_cast<std::uint8_t>(tail[i]);
  }
  return octets;
}

}  // namespace

SocketAddress SocketAddress::ipv4(std::array<std::uint8_t, 4> octets, std::uint16_t port) {
  SocketAddress address;
  address.family_ = Family::kIpv4;
  address.port_ = port;
  for (std::size_t i = 0; i < 4; ++i) {
    address.octets_[i] = octets[i];
  }
  return address;
}

SocketAddress SocketAddress::ipv6(std::array<std::uint8_t, 16> octets, std::uint16_t port) {
  SocketAddress address;
  address.family_ = Family::kIpv6;
  address.port_ = port;
  address.octets_ = octets;
  return address;
}

std::optional<SocketAddress> SocketAddress::from_ip(std::string_view ip, std::uint16_t port) {
  if (auto v4 = parse_ipv4(ip)) {
    return ipv4(*v4, port);
  }
  if (auto v6 = parse_ipv6(ip)) {
    return ipv6(*v6, port);
  }
  return std::nullopt;
}

std::optional<SocketAddress> SocketAddress::from_string(std::string_view text) {
  std::string_view ip;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    ip = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    ip = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (ip.find(':') != std::string_view::npos) {
      return std::nullopt;  // An IPv6 literal with a port must be bracketed (RFC 3986 §3.2.2).
    }
  }
  unsigned port = 0;
  auto [next, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || next != port_text.data() + port_text.size() || port > 65535) {
    return std::nullopt;
  }
  return from_ip(ip, static_cast<std::uint16_t>(port));
}

std::string SocketAddress::ip_string() const {
  char buffer[64];
  if (is_ipv4()) {
    std::snprintf(buffer, sizeof buffer, "%u.%u.%u.%u", octets_[0], octets_[1], octets_[2],
                  octets_[3]);
    return buffer;
  }
  // Compress the longest run of zero groups (RFC 5952 §4.2).
  std::array<unsigned, 8> groups{};
  for (int i = 0; i < 8; ++i) {
    const std::size_t at = 2 * static_cast<std::size_t>(i);
    groups[i] = (unsigned{octets_[at]} << 8) | octets_[at + 1];
  }
  int best_start = -1;
  int best_length = 1;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && groups[j] == 0) {
      ++j;
    }
    if (j - i > best_length) {
      best_start = i;
      best_length = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_length - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') {
      out += ':';
    }
    std::snprintf(buffer, sizeof buffer, "%x", groups[i]);
    out += buffer;
  }
  return out;
}

std::string SocketAddress::to_string() const {
  if (is_ipv4()) {
    return ip_string() + ":" + std::to_string(port_);
  }
  return "[" + ip_string() + "]:" + std::to_string(port_);
}

std::size_t SocketAddressHash::operator()(const SocketAddress& address) const {
  std::size_t hash = 1469598103934665603ULL;  // FNV-1a
  for (std::size_t i = 0; i < address.ip_size(); ++i) {
    hash = (hash ^ address.ip_bytes()[i]) * 1099511628211ULL;
  }
  hash = (hash ^ address.port()) * 1099511628211ULL;
  return hash;
}

}  // namespace ivs
