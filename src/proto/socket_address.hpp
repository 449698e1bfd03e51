// An IPv4 or IPv6 transport address as a plain value (no sockets), used by STUN
// XOR-MAPPED-ADDRESS, ICE candidates and the engines' packet inputs and outputs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ivs {

class SocketAddress {
 public:
  enum class Family : std::uint8_t { kIpv4, kIpv6 };

  SocketAddress() = default;
  static SocketAddress ipv4(std::array<std::uint8_t, 4> octets, std::uint16_t port);
  static SocketAddress ipv6(std::array<std::uint8_t, 16> octets, std::uint16_t port);
  // Parses "1.2.3.4" or "::1" (no port, no brackets); nullopt when it is not an IP literal.
  static std::optional<SocketAddress> from_ip(std::string_view ip, std::uint16_t port);
  // Parses "1.2.3.4:5000" or "[::1]:5000".
  static std::optional<SocketAddress> from_string(std::string_view ip_and_port);

  Family family() const { return family_; }
  bool is_ipv4() const { return family_ == Family::kIpv4; }
  std::uint16_t port() const { return port_; }
  void set_port(std::uint16_t port) { port_ = port; }
  // 4 bytes for IPv4, 16 for IPv6.
  const std::uint8_t* ip_bytes() const { return octets_.data(); }
  std::size_t ip_size() const { return is_ipv4() ? 4 : 16; }

  std::string ip_string() const;  // "1.2.3.4" or "::1"
  std::string to_string() const;  // "1.2.3.4:5000" or "[::1]:5000"

  friend bool operator==(const SocketAddress& a, const SocketAddress& b) {
    return a.family_ == b.family_ && a.port_ == b.port_ && a.octets_ == b.octets_;
  }

 private:
  Family family_ = Family::kIpv4;
  std::uint16_t port_ = 0;
  std::array<std::uint8_t, 16> octets_{};
};

struct SocketAddressHash {
  std::size_t operator()(const SocketAddress& address) const;
};

}  // namespace ivs
