#include "proto/rtcp_compound.hpp"

namespace ivs::proto {
namespace {

template <class T>
Result<RtcpPacket> typed(ByteSpan packet) {
  auto parsed = T::parse(packet);
  if (!parsed) {
    return parsed.error();
  }
  return RtcpPacket{std::move(*parsed)};
}

RtcpPacket unknown(const RtcpPacketView& view) {
  return RtcpUnknown{view.packet_type, view.count, Bytes(view.body.begin(), view.body.end())};
}

}  // namespace

void RtcpUnknown::append_to(Bytes& out) const {
  const std::size_t start = begin_rtcp_packet(out);
  append_bytes(out, body);
  finish_rtcp_packet(out, start, count, packet_type);
}

std::optional<Result<RtcpPacketView>> RtcpCompoundWalker::next() {
  if (failed_ || rest_.empty()) {
    return std::nullopt;
  }
  auto view = parse_rtcp_packet_view(rest_);
  if (!view) {
    failed_ = true;
    return view;
  }
  rest_ = rest_.subspan(view->packet.size());
  return view;
}

Result<RtcpPacket> parse_rtcp_packet(const RtcpPacketView& view) {
  switch (view.packet_type) {
    case rtcp_type::kSenderReport:
      return typed<RtcpSenderReport>(view.packet);
    case rtcp_type::kReceiverReport:
      return typed<RtcpReceiverReport>(view.packet);
    case rtcp_type::kSourceDescription:
      return typed<RtcpSdes>(view.packet);
    case rtcp_type::kBye:
      return typed<RtcpBye>(view.packet);
    case rtcp_type::kTransportFeedback:
      if (view.count == rtcp_fmt::kNack) {
        return typed<RtcpNack>(view.packet);
      }
      if (view.count == rtcp_fmt::kTransportWideCc) {
        return typed<RtcpTransportFeedback>(view.packet);
      }
      break;
    case rtcp_type::kPayloadFeedback:
      if (view.count == rtcp_fmt::kPli) {
        return typed<RtcpPli>(view.packet);
      }
      if (view.count == rtcp_fmt::kFir) {
        return typed<RtcpFir>(view.packet);
      }
      if (view.count == rtcp_fmt::kApplicationLayer && RtcpRemb::is_remb(view.packet)) {
        return typed<RtcpRemb>(view.packet);
      }
      break;
    default:
      break;
  }
  return unknown(view);
}

Result<std::vector<RtcpPacket>> parse_rtcp_compound(ByteSpan datagram) {
  if (datagram.empty()) {
    return rtcp_error("compound", "empty datagram");
  }
  std::vector<RtcpPacket> packets;
  RtcpCompoundWalker walker(datagram);
  while (auto view = walker.next()) {
    if (!*view) {
      return view->error();
    }
    auto packet = parse_rtcp_packet(**view);
    if (!packet) {
      return packet.error();
    }
    packets.push_back(std::move(*packet));
  }
  return packets;
}

void append_rtcp_packet(Bytes& out, const RtcpPacket& packet) {
  std::visit([&out](const auto& typed_packet) { typed_packet.append_to(out); }, packet);
}

Bytes serialize_rtcp_compound(std::span<const RtcpPacket> packets) {
  Bytes out;
  for (const auto& packet : packets) {
    append_rtcp_packet(out, packet);
  }
  return out;
}

}  // namespace ivs::proto
