#include "proto/ip_network.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <string>

namespace ivs {
namespace {

constexpr std::array<std::uint8_t, 12> kIpv4MappedPrefix = {0, 0, 0, 0, 0,    0,
                                                            0, 0, 0, 0, 0xff, 0xff};

// The IPv4 address inside an IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2), if it is one.
std::optional<SocketAddress> unmap_ipv4(const SocketAddress& address) {
  if (address.is_ipv4()) {
    return address;
  }
  const std::uint8_t* bytes = address.ip_bytes();
  for (std::size_t i = 0; i < kIpv4MappedPrefix.size(); ++i) {
    if (bytes[i] != kIpv4MappedPrefix[i]) {
      return std::nullopt;
    }
  }
  return SocketAddress::ipv4({bytes[12], bytes[13], bytes[14], bytes[15]}, address.port());
}

// Whether the first `bits` bits of `a` and `b` (both `size` bytes long) are equal.
bool same_prefix(const std::uint8_t* a, const std::uint8_t* b, unsigned bits) {
  const unsigned whole_bytes = bits / 8;
  for (unsigned i = 0; i < whole_bytes; ++i) {
    if (a[i] != b[i]) {
      return false;
    }
  }
  const unsigned rest = bits % 8;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[whole_bytes] & mask) == (b[whole_bytes] & mask);
}

// Whether every bit after the first `bits` of the `size`-byte address is zero.
bool host_bits_zero(const std::uint8_t* bytes, std::size_t size, unsigned bits) {
  for (std::size_t bit = bits; bit < size * 8; ++bit) {
    if ((bytes[bit / 8] >> (7 - bit % 8)) & 1) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool IpNetwork::contains(const SocketAddress& address) const {
  std::optional<SocketAddress> candidate = address;
  if (base.is_ipv4()) {
    candidate = unmap_ipv4(address);
  }
  if (!candidate || candidate->family() != base.family()) {
    return false;
  }
  return same_prefix(candidate->ip_bytes(), base.ip_bytes(), prefix_length);
}

std::string IpNetwork::to_string() const {
  return base.ip_string() + "/" + std::to_string(prefix_length);
}

Result<IpNetwork> parse_ip_network(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::string_view ip = text.substr(0, slash);
  std::optional<SocketAddress> address = SocketAddress::from_ip(ip, 0);
  if (!address) {
    return make_error("\"" + std::string(text) + "\" is not an IP address or CIDR network");
  }
  const unsigned max_length = static_cast<unsigned>(address->ip_size() * 8);
  unsigned length = max_length;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
        length > max_length) {
      return make_error("\"" + std::string(text) + "\": the prefix length must be 0-" +
                        std::to_string(max_length));
    }
  }
  if (!host_bits_zero(address->ip_bytes(), address->ip_size(), length)) {
    return make_error("\"" + std::string(text) + "\" has host bits set after the /" +
                      std::to_string(length) + " prefix; write the network address");
  }
  return IpNetwork{*address, length};
}

Result<std::vector<IpNetwork>> parse_ip_network_list(std::string_view text) {
  std::vector<IpNetwork> networks;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t start = text.find_first_not_of(", \t\r\n", pos);
    if (start == std::string_view::npos) {
      break;
    }
    std::size_t end = text.find_first_of(", \t\r\n", start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    Result<IpNetwork> network = parse_ip_network(text.substr(start, end - start));
    if (!network) {
      return network.error();
    }
    networks.push_back(*network);
    pos = end;
  }
  if (networks.empty()) {
    return make_error("the list names no network");
  }
  return networks;
}

bool any_contains(const std::vector<IpNetwork>& networks, const SocketAddress& address) {
  for (const IpNetwork& network : networks) {
    if (network.contains(address)) {
      return true;
    }
  }
  return false;
}

}  // namespace ivs
