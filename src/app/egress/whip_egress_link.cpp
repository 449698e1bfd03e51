#include "app/egress/whip_egress_link.hpp"

#include "proto/text.hpp"

#include <algorithm>
#include <cctype>

namespace ivs::app {
namespace {

using proto::text::trim;

std::string unquote(std::string_view value) {
  value = trim(value);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  return std::string(value);
}

// Splits at `separator` outside of <...> and "..." so URIs and quoted values may contain it.
std::vector<std::string_view> split_outside(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  bool in_angle = false;
  bool in_quote = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"' && !in_angle) {
      in_quote = !in_quote;
    } else if (c == '<' && !in_quote) {
      in_angle = true;
    } else if (c == '>' && !in_quote) {
      in_angle = false;
    } else if (c == separator && !in_angle && !in_quote) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(text.substr(start));
  return parts;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) {
    return std::nullopt;
  }
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// RFC 7064/7065: stun:host[:port], turn:host[:port][?transport=udp].
std::optional<IceServerLink> parse_ice_uri(std::string_view uri) {
  const auto colon = uri.find(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  IceServerLink link;
  link.scheme = proto::text::to_lower(uri.substr(0, colon));
  if (link.scheme != "stun" && link.scheme != "stuns" && link.scheme != "turn" &&
      link.scheme != "turns") {
    return std::nullopt;
  }
  std::string_view rest = uri.substr(colon + 1);
  rest = rest.substr(0, rest.find('?'));
  if (rest.empty()) {
    return std::nullopt;
  }
  if (link.scheme == "stuns" || link.scheme == "turns") {
    link.port = 5349;
  }
  if (rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos || close == 1) {
      return std::nullopt;
    }
    link.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return std::nullopt;
      }
      auto port = parse_port(rest.substr(1));
      if (!port) {
        return std::nullopt;
      }
      link.port = *port;
    }
    return link;
  }
  const auto port_colon = rest.rfind(':');
  if (port_colon != std::string_view::npos) {
    auto port = parse_port(rest.substr(port_colon + 1));
    if (!port || port_colon == 0) {
      return std::nullopt;
    }
    link.port = *port;
    rest = rest.substr(0, port_colon);
  }
  if (rest.find_first_of("/@ ") != std::string_view::npos) {
    return std::nullopt;
  }
  link.host = std::string(rest);
  return link;
}

std::optional<IceServerLink> parse_link(std::string_view entry) {
  entry = trim(entry);
  if (entry.empty() || entry.front() != '<') {
    return std::nullopt;
  }
  const auto close = entry.find('>');
  if (close == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view uri = trim(entry.substr(1, close - 1));
  bool ice_server = false;
  std::string username;
  std::string credential;
  for (std::string_view param : split_outside(entry.substr(close + 1), ';')) {
    param = trim(param);
    const auto equals = param.find('=');
    if (equals == std::string_view::npos) {
      continue;
    }
    const std::string name = proto::text::to_lower(trim(param.substr(0, equals)));
    const std::string value = unquote(param.substr(equals + 1));
    if (name == "rel") {
      // rel may list several space-separated relation types.
      const std::string relations = " " + proto::text::to_lower(value) + " ";
      ice_server = relations.find(" ice-server ") != std::string::npos;
    } else if (name == "username") {
      username = value;
    } else if (name == "credential") {
      credential = value;
    }
  }
  if (!ice_server) {
    return std::nullopt;
  }
  auto link = parse_ice_uri(uri);
  if (link) {
    link->username = std::move(username);
    link->credential = std::move(credential);
  }
  return link;
}

}  // namespace

std::vector<IceServerLink> parse_ice_server_links(std::string_view header_value) {
  std::vector<IceServerLink> links;
  for (std::string_view entry : split_outside(header_value, ',')) {
    if (auto link = parse_link(entry)) {
      links.push_back(std::move(*link));
    }
  }
  return links;
}

std::optional<IceServerLink> first_stun_server(const std::vector<std::string>& link_headers) {
  for (const auto& header : link_headers) {
    for (auto& link : parse_ice_server_links(header)) {
      if (link.scheme == "stun") {
        return link;
      }
    }
  }
  return std::nullopt;
}

std::string resolve_url(std::string_view base, std::string_view reference) {
  const auto scheme_end = reference.find("://");
  if (scheme_end != std::string_view::npos &&
      reference.find_first_of("/?#") > scheme_end) {  // "http://..." (absolute)
    return std::string(reference);
  }
  const auto base_scheme = base.find("://");
  if (base_scheme == std::string_view::npos) {
    return std::string(reference);
  }
  if (reference.substr(0, 2) == "//") {
    return std::string(base.substr(0, base_scheme + 1)) + std::string(reference);
  }
  const auto path_start = base.find('/', base_scheme + 3);
  const std::string_view origin =
      path_start == std::string_view::npos ? base : base.substr(0, path_start);
  if (!reference.empty() && reference.front() == '/') {
    return std::string(origin) + std::string(reference);
  }
  // Relative path: replace the last segment of the base path (query and fragment dropped).
  std::string_view path =
      path_start == std::string_view::npos ? std::string_view("/") : base.substr(path_start);
  path = path.substr(0, path.find_first_of("?#"));
  const auto last_slash = path.rfind('/');
  return std::string(origin) + std::string(path.substr(0, last_slash + 1)) + std::string(reference);
}

}  // namespace ivs::app
