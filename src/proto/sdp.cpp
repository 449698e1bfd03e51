// The line codec: text <-> SessionDescription / SdpFragment. Typed accessors live in
// sdp_media.cpp; attribute value grammars in sdp_attributes.cpp, sdp_candidate.cpp and
// sdp_simulcast.cpp.
#include "proto/sdp.hpp"

#include <algorithm>
#include <string_view>

#include "proto/sdp_text.hpp"

namespace ivs::proto {

using sdp_text::parse_uint;
using sdp_text::quote;
using sdp_text::split_spaces;

namespace {

// Checks the value of attributes we offer typed access to, so accessors never meet bad text.
Status validate_attribute(const SdpAttribute& attribute) {
  const std::string_view name = attribute.name;
  const std::string_view value =
      attribute.value ? std::string_view(*attribute.value) : std::string_view();
  auto check = [](const auto& result) -> Status {
    if (!result) {
      return result.error();
    }
    return Ok{};
  };
  if (name == "candidate") {
    return check(SdpCandidate::parse(value));
  }
  if (name == "fingerprint") {
    return check(SdpFingerprint::parse(value));
  }
  if (name == "extmap") {
    return check(SdpExtmap::parse(value));
  }
  if (name == "rtpmap") {
    return check(SdpRtpmap::parse(value));
  }
  if (name == "fmtp") {
    return check(SdpFmtp::parse(value));
  }
  if (name == "rtcp-fb") {
    return check(SdpRtcpFeedback::parse(value));
  }
  if (name == "ssrc") {
    return check(SdpSsrc::parse(value));
  }
  if (name == "ssrc-group") {
    return check(SdpSsrcGroup::parse(value));
  }
  if (name == "msid") {
    return check(SdpMsid::parse(value));
  }
  if (name == "group") {
    return check(SdpGroup::parse(value));
  }
  if (name == "msid-semantic") {
    return check(SdpMsidSemantic::parse(value));
  }
  if (name == "rid") {
    return check(SdpRid::parse(value));
  }
  if (name == "simulcast") {
    return check(SdpSimulcast::parse(value));
  }
  if (name == "setup" && !parse_setup(value)) {
    return make_error("setup: expected active, passive, actpass or holdconn, got " + quote(value));
  }
  if ((name == "mid" || name == "ice-ufrag" || name == "ice-pwd") && !sdp_text::is_token(value)) {
    return make_error(std::string(name) + ": expected a non-empty token, got " + quote(value));
  }
  return Ok{};
}

Result<SdpAttribute> parse_attribute(std::string_view value) {
  SdpAttribute attribute;
  const std::size_t colon = value.find(':');
  attribute.name = std::string(value.substr(0, colon));
  if (colon != std::string_view::npos) {
    attribute.value = std::string(value.substr(colon + 1));
  }
  if (!sdp_text::is_token(attribute.name)) {
    return make_error("attribute: bad name " + quote(attribute.name));
  }
  if (Status valid = validate_attribute(attribute); !valid) {
    return valid.error();
  }
  return attribute;
}

Result<SdpConnection> parse_connection(std::string_view value) {
  const auto tokens = split_spaces(value);
  if (tokens.size() != 3) {
    return make_error("c=: expected '<nettype> <addrtype> <address>', got " + quote(value));
  }
  return SdpConnection{std::string(tokens[0]), std::string(tokens[1]), std::string(tokens[2])};
}

Result<SdpBandwidth> parse_bandwidth(std::string_view value) {
  const std::size_t colon = value.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return make_error("b=: expected '<type>:<value>', got " + quote(value));
  }
  auto bandwidth = parse_uint(value.substr(colon + 1), 0xffffffffffffULL);
  if (!bandwidth) {
    return make_error("b=: bad value " + quote(value.substr(colon + 1)));
  }
  return SdpBandwidth{std::string(value.substr(0, colon)), *bandwidth};
}

Result<SdpMedia> parse_media_line(std::string_view value) {
  const auto tokens = split_spaces(value);
  if (tokens.size() < 4) {
    return make_error("m=: expected '<media> <port> <proto> <fmt> ...', got " + quote(value));
  }
  SdpMedia media;
  media.kind = std::string(tokens[0]);
  const std::string_view port_text = tokens[1];
  const std::size_t slash = port_text.find('/');
  auto port = parse_uint(port_text.substr(0, slash), 65535);
  if (!port) {
    return make_error("m=: bad port " + quote(port_text));
  }
  media.port = static_cast<std::uint16_t>(*port);
  if (slash != std::string_view::npos) {
    auto count = parse_uint(port_text.substr(slash + 1), 65535);
    if (!count) {
      return make_error("m=: bad port count " + quote(port_text));
    }
    media.port_count = static_cast<std::uint16_t>(*count);
  }
  media.protocol = std::string(tokens[2]);
  for (std::size_t i = 3; i < tokens.size(); ++i) {
    media.formats.emplace_back(tokens[i]);
  }
  return media;
}

Result<SdpOrigin> parse_origin(std::string_view value) {
  const auto tokens = split_spaces(value);
  if (tokens.size() != 6) {
    return make_error("o=: expected 6 fields, got " + std::to_string(tokens.size()));
  }
  return SdpOrigin{std::string(tokens[0]), std::string(tokens[1]), std::string(tokens[2]),
                   std::string(tokens[3]), std::string(tokens[4]), std::string(tokens[5])};
}

Result<SdpTiming> parse_timing(std::string_view value) {
  const auto tokens = split_spaces(value);
  if (tokens.size() != 2) {
    return make_error("t=: expected '<start> <stop>', got " + quote(value));
  }
  auto start = parse_uint(tokens[0], UINT64_MAX);
  auto stop = parse_uint(tokens[1], UINT64_MAX);
  if (!start || !stop) {
    return make_error("t=: bad time in " + quote(value));
  }
  return SdpTiming{*start, *stop};
}

// Walks the lines of a description or fragment and fills it in.
class SdpParser {
 public:
  SdpParser(const SdpLimits& limits, bool fragment) : limits_(limits), fragment_(fragment) {}

  Status run(std::string_view text) {
    if (text.size() > limits_.max_bytes) {
      return make_error("SDP: " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                        std::to_string(limits_.max_bytes));
    }
    std::size_t line_number = 0;
    while (!text.empty()) {
      const std::size_t newline = text.find('\n');
      std::string_view line = text.substr(0, newline);
      text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
      if (++line_number > limits_.max_lines) {
        return make_error("SDP: more than " + std::to_string(limits_.max_lines) + " lines");
      }
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      if (line.empty()) {
        continue;  // trailing blank lines are common and harmless
      }
      if (Status status = parse_line(line); !status) {
        return make_error("SDP line " + std::to_string(line_number) + ": " +
                          status.error().message);
      }
    }
    return finish();
  }

  SessionDescription& description() { return description_; }

 private:
  Status parse_line(std::string_view line) {
    if (line.size() < 2 || line[1] != '=') {
      return make_error("expected '<type>=<value>', got " + quote(line));
    }
    const char type = line[0];
    const std::string_view value = line.substr(2);
    if (!fragment_ && !seen_version_) {
      if (type != 'v') {
        return make_error("expected v=0 as the first line, got " + quote(line));
      }
      if (value != "0") {
        return make_error("unsupported version " + quote(value));
      }
      seen_version_ = true;
      return Ok{};
    }
    if (type == 'm') {
      return start_media(value);
    }
    return media_ ? parse_media_level(type, value) : parse_session_level(type, value);
  }

  Status start_media(std::string_view value) {
    if (description_.media.size() >= limits_.max_media) {
      return make_error("more than " + std::to_string(limits_.max_media) + " m= sections");
    }
    auto media = parse_media_line(value);
    if (!media) {
      return media.error();
    }
    description_.media.push_back(std::move(*media));
    media_ = &description_.media.back();
    return Ok{};
  }

  Status parse_session_level(char type, std::string_view value);
  Status parse_media_level(char type, std::string_view value);

  Status finish() {
    // Lines without typed access are written back in RFC 8866 order (i/u/e/p before t=,
    // r/z/k after it; i before k in a section). Putting them in that order now makes
    // parse -> serialize -> parse yield the same value even for input that had them elsewhere.
    auto early = [](const SdpLine& line) {
      return std::string_view("iuep").find(line.type) != std::string_view::npos;
    };
    std::stable_partition(description_.other_lines.begin(), description_.other_lines.end(), early);
    for (SdpMedia& media : description_.media) {
      std::stable_partition(media.other_lines.begin(), media.other_lines.end(),
                            [](const SdpLine& line) { return line.type == 'i'; });
    }
    if (fragment_) {
      return Ok{};
    }
    if (!seen_version_) {
      return make_error("SDP: empty (no v=0 line)");
    }
    if (!seen_origin_) {
      return make_error("SDP: missing o= line");
    }
    if (!seen_name_) {
      return make_error("SDP: missing s= line");
    }
    return Ok{};
  }

  const SdpLimits& limits_;
  bool fragment_;
  bool seen_version_ = false;
  bool seen_origin_ = false;
  bool seen_name_ = false;
  SessionDescription description_;
  SdpMedia* media_ = nullptr;
};

template <class T>
Status assign(Result<T> parsed, T& target) {
  if (!parsed) {
    return parsed.error();
  }
  target = std::move(*parsed);
  return Ok{};
}

template <class T>
Status append(Result<T> parsed, std::vector<T>& target) {
  if (!parsed) {
    return parsed.error();
  }
  target.push_back(std::move(*parsed));
  return Ok{};
}

Status SdpParser::parse_session_level(char type, std::string_view value) {
  switch (type) {
    case 'a': {
      SdpAttribute attribute;
      if (Status status = assign(parse_attribute(value), attribute); !status) {
        return status;
      }
      description_.attributes.mutable_list().push_back(std::move(attribute));
      return Ok{};
    }
    case 'o':
      if (fragment_ || seen_origin_) {
        return make_error("unexpected o= line");
      }
      seen_origin_ = true;
      return assign(parse_origin(value), description_.origin);
    case 's':
      if (fragment_ || seen_name_) {
        return make_error("unexpected s= line");
      }
      seen_name_ = true;
      description_.session_name = std::string(value);
      return Ok{};
    case 't':
      return append(parse_timing(value), description_.timings);
    case 'c': {
      SdpConnection connection;
      if (Status status = assign(parse_connection(value), connection); !status) {
        return status;
      }
      description_.connection = std::move(connection);
      return Ok{};
    }
    case 'b':
      return append(parse_bandwidth(value), description_.bandwidths);
    case 'i':
    case 'u':
    case 'e':
    case 'p':
    case 'r':
    case 'z':
    case 'k':
      description_.other_lines.push_back({type, std::string(value)});
      return Ok{};
    default:
      return make_error("unknown line type '" + std::string(1, type) + "' at session level");
  }
}

Status SdpParser::parse_media_level(char type, std::string_view value) {
  switch (type) {
    case 'a': {
      SdpAttribute attribute;
      if (Status status = assign(parse_attribute(value), attribute); !status) {
        return status;
      }
      media_->attributes.mutable_list().push_back(std::move(attribute));
      return Ok{};
    }
    case 'c':
      return append(parse_connection(value), media_->connections);
    case 'b':
      return append(parse_bandwidth(value), media_->bandwidths);
    case 'i':
    case 'k':
      media_->other_lines.push_back({type, std::string(value)});
      return Ok{};
    default:
      return make_error("unexpected line type '" + std::string(1, type) + "' in an m= section");
  }
}

void append_line(std::string& out, char type, std::string_view value) {
  out += type;
  out += '=';
  out += value;
  out += "\r\n";
}

void append_other_lines(std::string& out, const std::vector<SdpLine>& lines,
                        std::string_view types) {
  for (const SdpLine& line : lines) {
    if (types.find(line.type) != std::string_view::npos) {
      append_line(out, line.type, line.value);
    }
  }
}

std::string connection_text(const SdpConnection& connection) {
  return connection.net_type + " " + connection.address_type + " " + connection.address;
}

void append_attributes(std::string& out, const SdpAttributeList& attributes) {
  for (const SdpAttribute& attribute : attributes.list()) {
    append_line(out, 'a',
                attribute.value ? attribute.name + ":" + *attribute.value : attribute.name);
  }
}

void append_media(std::string& out, const SdpMedia& media) {
  std::string line = media.kind + " " + std::to_string(media.port);
  if (media.port_count) {
    line += "/" + std::to_string(*media.port_count);
  }
  line += " " + media.protocol;
  for (const std::string& format : media.formats) {
    line += " " + format;
  }
  append_line(out, 'm', line);
  append_other_lines(out, media.other_lines, "i");
  for (const SdpConnection& connection : media.connections) {
    append_line(out, 'c', connection_text(connection));
  }
  for (const SdpBandwidth& bandwidth : media.bandwidths) {
    append_line(out, 'b', bandwidth.type + ":" + std::to_string(bandwidth.value));
  }
  append_other_lines(out, media.other_lines, "k");
  append_attributes(out, media.attributes);
}

}  // namespace

Result<SessionDescription> parse_sdp(std::string_view text, const SdpLimits& limits) {
  SdpParser parser(limits, /*fragment=*/false);
  if (Status status = parser.run(text); !status) {
    return status.error();
  }
  return std::move(parser.description());
}

Result<SdpFragment> parse_sdp_fragment(std::string_view text, const SdpLimits& limits) {
  SdpParser parser(limits, /*fragment=*/true);
  if (Status status = parser.run(text); !status) {
    return status.error();
  }
  SessionDescription& parsed = parser.description();
  if (!parsed.other_lines.empty() || parsed.connection || !parsed.bandwidths.empty() ||
      !parsed.timings.empty()) {
    return make_error("SDP fragment: only a= lines and m= sections are allowed");
  }
  return SdpFragment{std::move(parsed.attributes), std::move(parsed.media)};
}

std::string serialize_sdp(const SessionDescription& description) {
  const SdpOrigin& origin = description.origin;
  std::string out;
  out.reserve(2048);
  append_line(out, 'v', std::to_string(description.version));
  append_line(out, 'o',
              origin.username + " " + origin.session_id + " " + origin.session_version + " " +
                  origin.net_type + " " + origin.address_type + " " + origin.address);
  append_line(out, 's', description.session_name);
  append_other_lines(out, description.other_lines, "iuep");
  if (description.connection) {
    append_line(out, 'c', connection_text(*description.connection));
  }
  for (const SdpBandwidth& bandwidth : description.bandwidths) {
    append_line(out, 'b', bandwidth.type + ":" + std::to_string(bandwidth.value));
  }
  for (const SdpTiming& timing : description.timings) {
    append_line(out, 't', std::to_string(timing.start) + " " + std::to_string(timing.stop));
  }
  append_other_lines(out, description.other_lines, "rzk");
  append_attributes(out, description.attributes);
  for (const SdpMedia& media : description.media) {
    append_media(out, media);
  }
  return out;
}

std::string serialize_sdp_fragment(const SdpFragment& fragment) {
  std::string out;
  append_attributes(out, fragment.attributes);
  for (const SdpMedia& media : fragment.media) {
    append_media(out, media);
  }
  return out;
}

}  // namespace ivs::proto
