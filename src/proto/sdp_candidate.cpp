#include "proto/sdp_candidate.hpp"

#include "proto/sdp_text.hpp"

namespace ivs::proto {

using sdp_text::parse_uint;
using sdp_text::quote;

namespace {

// ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.1); foundation is 1*32 of them.
bool is_foundation(std::string_view text) {
  if (text.empty() || text.size() > 32) {
    return false;
  }
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    if (!ok) {
      return false;
    }
  }
  return true;
}

Error candidate_error(std::string_view what, std::string_view token) {
  return make_error("candidate: bad " + std::string(what) + " " + quote(token));
}

// Reads the optional "raddr/rport" and extension pairs after "typ <type>".
Status parse_tail(const std::vector<std::string_view>& tokens, SdpCandidate& candidate) {
  for (std::size_t i = 8; i < tokens.size(); i += 2) {
    if (i + 1 >= tokens.size()) {
      return candidate_error("extension without value", tokens[i]);
    }
    const std::string_view name = tokens[i];
    const std::string_view value = tokens[i + 1];
    if (name == "raddr") {
      candidate.related_address = std::string(value);
    } else if (name == "rport") {
      auto port = parse_uint(value, 65535);
      if (!port) {
        return candidate_error("rport", value);
      }
      candidate.related_port = static_cast<std::uint16_t>(*port);
    } else if (name == "tcptype") {
      candidate.tcp_type = std::string(value);
    } else if (name == "generation") {
      auto generation = parse_uint(value, 0xffffffff);
      if (!generation) {
        return candidate_error("generation", value);
      }
      candidate.generation = static_cast<std::uint32_t>(*generation);
    } else {
      candidate.extensions.emplace_back(std::string(name), std::string(value));
    }
  }
  return Ok{};
}

}  // namespace

Result<SdpCandidate> SdpCandidate::parse(std::string_view value) {
  if (value.substr(0, 10) == "candidate:") {
    value.remove_prefix(10);
  }
  const auto tokens = sdp_text::split_spaces(value);
  if (tokens.size() < 8) {
    return make_error("candidate: expected at least 8 fields, got " +
                      std::to_string(tokens.size()) + " in " + quote(value));
  }
  SdpCandidate candidate;
  if (!is_foundation(tokens[0])) {
    return candidate_error("foundation", tokens[0]);
  }
  candidate.foundation = std::string(tokens[0]);
  auto component = parse_uint(tokens[1], 256);
  if (!component || *component == 0) {
    return candidate_error("component", tokens[1]);
  }
  candidate.component = static_cast<std::uint16_t>(*component);
  if (!sdp_text::is_token(tokens[2])) {
    return candidate_error("transport", tokens[2]);
  }
  candidate.transport = std::string(tokens[2]);
  auto priority = parse_uint(tokens[3], 0xffffffff);
  if (!priority) {
    return candidate_error("priority", tokens[3]);
  }
  candidate.priority = static_cast<std::uint32_t>(*priority);
  candidate.address = std::string(tokens[4]);
  auto port = parse_uint(tokens[5], 65535);
  if (!port) {
    return candidate_error("port", tokens[5]);
  }
  candidate.port = static_cast<std::uint16_t>(*port);
  if (tokens[6] != "typ") {
    return candidate_error("field (expected 'typ')", tokens[6]);
  }
  candidate.type = std::string(tokens[7]);
  if (Status tail = parse_tail(tokens, candidate); !tail) {
    return tail.error();
  }
  return candidate;
}

std::string SdpCandidate::to_string() const {
  std::string text = foundation + " " + std::to_string(component) + " " + transport + " " +
                     std::to_string(priority) + " " + address + " " + std::to_string(port) +
                     " typ " + type;
  if (related_address) {
    text += " raddr " + *related_address;
  }
  if (related_port) {
    text += " rport " + std::to_string(*related_port);
  }
  if (tcp_type) {
    text += " tcptype " + *tcp_type;
  }
  if (generation) {
    text += " generation " + std::to_string(*generation);
  }
  for (const auto& [name, value] : extensions) {
    text.append(" ").append(name).append(" ").append(value);
  }
  return text;
}

bool SdpCandidate::is_udp() const {
  return sdp_text::iequals(transport, "udp");
}

bool SdpCandidate::is_tcp() const {
  return sdp_text::iequals(transport, "tcp");
}

}  // namespace ivs::proto
