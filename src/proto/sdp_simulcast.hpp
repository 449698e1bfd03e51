// a=rid (RFC 8851 §10) and a=simulcast (RFC 8853 §5.1).
//
//   a=rid:<rid-id> send|recv [pt=<fmt>,<fmt>;<restriction>=<value>;...]
//   a=simulcast:send 0;1;~2 recv 3        (';' separates streams, ',' alternatives, '~' paused)
//
// OBS 32.1+ offers simulcast layers as a=rid + a=simulcast:send and fails unless the answer
// accepts every layer with a=rid ... recv and a=simulcast:recv (DESIGN.md §3).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/result.hpp"

namespace ivs::proto {

enum class RidDirection : std::uint8_t { kSend, kRecv };

struct SdpRid {
  std::string id;
  RidDirection direction = RidDirection::kSend;
  std::vector<std::uint8_t> payload_types;  // from "pt=", empty when absent
  std::string restrictions;                 // everything after the direction, verbatim

  static Result<SdpRid> parse(std::string_view value);
  std::string to_string() const;
  friend bool operator==(const SdpRid&, const SdpRid&) = default;
};

struct SimulcastRid {
  std::string id;
  bool paused = false;
  friend bool operator==(const SimulcastRid&, const SimulcastRid&) = default;
};

// Each stream is a list of alternatives; almost always exactly one rid.
using SimulcastStreams = std::vector<std::vector<SimulcastRid>>;

struct SdpSimulcast {
  SimulcastStreams send;
  SimulcastStreams recv;

  static Result<SdpSimulcast> parse(std::string_view value);
  std::string to_string() const;
  friend bool operator==(const SdpSimulcast&, const SdpSimulcast&) = default;
};

}  // namespace ivs::proto
