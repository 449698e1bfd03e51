#include "engine/ice_candidate.hpp"

#include <cctype>
#include <charconv>
#include <vector>

namespace ivs::engine {
namespace {

std::vector<std::string_view> split_spaces(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find(' ', start);
    const auto word = text.substr(start, end == std::string_view::npos ? text.npos : end - start);
    if (!word.empty()) {
      words.push_back(word);
    }
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 1;
  }
  return words;
}

template <class T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::optional<IceCandidateType> parse_type(std::string_view text) {
  if (text == "host") {
    return IceCandidateType::kHost;
  }
  if (text == "srflx") {
    return IceCandidateType::kServerReflexive;
  }
  if (text == "prflx") {
    return IceCandidateType::kPeerReflexive;
  }
  if (text == "relay") {
    return IceCandidateType::kRelay;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(IceCandidateType type) {
  switch (type) {
    case IceCandidateType::kHost:
      return "host";
    case IceCandidateType::kServerReflexive:
      return "srflx";
    case IceCandidateType::kPeerReflexive:
      return "prflx";
    case IceCandidateType::kRelay:
      return "relay";
  }
  return "host";
}

std::string to_candidate_attribute(const IceCandidate& candidate) {
  std::string out =
      "candidate:" + candidate.foundation + " " + std::to_string(candidate.component) + " udp " +
      std::to_string(candidate.priority) + " " + candidate.address.ip_string() + " " +
      std::to_string(candidate.address.port()) + " typ " + std::string(to_string(candidate.type));
  if (candidate.type != IceCandidateType::kHost) {
    out +=
        " raddr " + candidate.base.ip_string() + " rport " + std::to_string(candidate.base.port());
  }
  return out;
}

std::optional<IceCandidate> parse_candidate_attribute(std::string_view text) {
  if (text.starts_with("a=")) {
    text.remove_prefix(2);
  }
  if (text.starts_with("candidate:")) {
    text.remove_prefix(10);
  }
  const auto words = split_spaces(text);
  if (words.size() < 8 || words[6] != "typ" || !equals_ignoring_case(words[2], "udp")) {
    return std::nullopt;
  }
  const auto component = parse_number<std::uint16_t>(words[1]);
  const auto priority = parse_number<std::uint32_t>(words[3]);
  const auto port = parse_number<std::uint16_t>(words[5]);
  const auto type = parse_type(words[7]);
  if (!component || !priority || !port || !type) {
    return std::nullopt;
  }
  const auto address = SocketAddress::from_ip(words[4], *port);
  if (!address) {
    return std::nullopt;
  }
  IceCandidate candidate;
  candidate.foundation = std::string(words[0]);
  candidate.component = *component;
  candidate.priority = *priority;
  candidate.type = *type;
  candidate.address = *address;
  candidate.base = *address;
  for (std::size_t i = 8; i + 1 < words.size(); i += 2) {
    if (words[i] == "raddr") {
      if (auto related = SocketAddress::from_ip(words[i + 1], 0)) {
        candidate.base = SocketAddress(*related);
      }
    } else if (words[i] == "rport") {
      if (auto related_port = parse_number<std::uint16_t>(words[i + 1])) {
        candidate.base.set_port(*related_port);
      }
    }
  }
  return candidate;
}

}  // namespace ivs::engine
