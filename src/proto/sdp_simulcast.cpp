#include "proto/sdp_simulcast.hpp"

#include "proto/sdp_text.hpp"

namespace ivs::proto {

using sdp_text::quote;

namespace {

// rid-id = 1*(alpha-numeric / "-" / "_") (RFC 8851 §10).
bool is_rid_id(std::string_view text) {
  if (text.empty() || text.size() > 255) {
    return false;
  }
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

Status parse_rid_payload_types(std::string_view restrictions, SdpRid& rid) {
  for (std::string_view piece : sdp_text::split(restrictions, ';')) {
    if (piece.substr(0, 3) != "pt=") {
      continue;
    }
    for (std::string_view pt : sdp_text::split(piece.substr(3), ',')) {
      auto value = sdp_text::parse_uint(pt, 127);
      if (!value) {
        return make_error("rid: bad payload type " + quote(pt));
      }
      rid.payload_types.push_back(static_cast<std::uint8_t>(*value));
    }
  }
  return Ok{};
}

Result<SimulcastStreams> parse_streams(std::string_view list) {
  SimulcastStreams streams;
  for (std::string_view stream : sdp_text::split(list, ';')) {
    std::vector<SimulcastRid> alternatives;
    for (std::string_view id : sdp_text::split(stream, ',')) {
      SimulcastRid rid;
      if (!id.empty() && id.front() == '~') {
        rid.paused = true;
        id.remove_prefix(1);
      }
      if (!is_rid_id(id)) {
        return make_error("simulcast: bad rid " + quote(id));
      }
      rid.id = std::string(id);
      alternatives.push_back(std::move(rid));
    }
    streams.push_back(std::move(alternatives));
  }
  return streams;
}

std::string streams_to_string(const SimulcastStreams& streams) {
  std::string text;
  for (std::size_t s = 0; s < streams.size(); ++s) {
    if (s > 0) {
      text += ";";
    }
    for (std::size_t a = 0; a < streams[s].size(); ++a) {
      if (a > 0) {
        text += ",";
      }
      text += (streams[s][a].paused ? "~" : "") + streams[s][a].id;
    }
  }
  return text;
}

}  // namespace

Result<SdpRid> SdpRid::parse(std::string_view value) {
  const auto tokens = sdp_text::split_spaces(value);
  if (tokens.size() < 2 || tokens.size() > 3) {
    return make_error("rid: expected '<id> send|recv [<restrictions>]', got " + quote(value));
  }
  SdpRid rid;
  if (!is_rid_id(tokens[0])) {
    return make_error("rid: bad id " + quote(tokens[0]));
  }
  rid.id = std::string(tokens[0]);
  if (tokens[1] == "send") {
    rid.direction = RidDirection::kSend;
  } else if (tokens[1] == "recv") {
    rid.direction = RidDirection::kRecv;
  } else {
    return make_error("rid: bad direction " + quote(tokens[1]));
  }
  if (tokens.size() == 3) {
    rid.restrictions = std::string(tokens[2]);
    if (Status pts = parse_rid_payload_types(tokens[2], rid); !pts) {
      return pts.error();
    }
  }
  return rid;
}

std::string SdpRid::to_string() const {
  std::string text = id + (direction == RidDirection::kSend ? " send" : " recv");
  if (!restrictions.empty()) {
    text += " " + restrictions;
  }
  return text;
}

Result<SdpSimulcast> SdpSimulcast::parse(std::string_view value) {
  const auto tokens = sdp_text::split_spaces(value);
  if (tokens.size() != 2 && tokens.size() != 4) {
    return make_error("simulcast: expected 'send|recv <rids> [send|recv <rids>]', got " +
                      quote(value));
  }
  SdpSimulcast simulcast;
  bool seen_send = false;
  bool seen_recv = false;
  for (std::size_t i = 0; i < tokens.size(); i += 2) {
    auto streams = parse_streams(tokens[i + 1]);
    if (!streams) {
      return streams.error();
    }
    if (tokens[i] == "send" && !seen_send) {
      simulcast.send = std::move(*streams);
      seen_send = true;
    } else if (tokens[i] == "recv" && !seen_recv) {
      simulcast.recv = std::move(*streams);
      seen_recv = true;
    } else {
      return make_error("simulcast: bad direction " + quote(tokens[i]));
    }
  }
  return simulcast;
}

std::string SdpSimulcast::to_string() const {
  std::string text;
  if (!send.empty()) {
    text = "send " + streams_to_string(send);
  }
  if (!recv.empty()) {
    text += (text.empty() ? "recv " : " recv ") + streams_to_string(recv);
  }
  return text;
}

}  // namespace ivs::proto
