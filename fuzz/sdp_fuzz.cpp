// Fuzzes the SDP codec (proto/sdp.hpp) and the negotiations that read untrusted SDP
// (engine/sdp_negotiation.hpp). Properties checked:
//   - parse never crashes; when it succeeds, serialize -> parse succeeds and yields an equal
//     value, and serializing that again yields the same bytes;
//   - the same for the trickle sdpfrag form;
//   - ingest and WHEP negotiation and egress-answer checking never crash, and every answer we
//     produce parses again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/sdp_negotiation.hpp"
#include "proto/sdp.hpp"

namespace {

using namespace ivs;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

// Serialization turns LF into CRLF, so the re-parse needs room for that growth.
proto::SdpLimits reparse_limits() {
  proto::SdpLimits limits;
  limits.max_bytes *= 2;
  return limits;
}

engine::LocalTransport local_transport() {
  engine::LocalTransport local;
  local.ice = {"fuzU", "fuzzPasswordOf22Chars0"};
  local.fingerprint = proto::SdpFingerprint{"sha-256", Bytes(32, 0x42)};
  local.host_addresses = {*SocketAddress::from_string("127.0.0.1:5000")};
  return local;
}

void check_round_trip(const proto::SessionDescription& description) {
  const std::string text = proto::serialize_sdp(description);
  auto again = proto::parse_sdp(text, reparse_limits());
  check(again.ok());
  check(*again == description);
  check(proto::serialize_sdp(*again) == text);
}

void check_negotiations(const proto::SessionDescription& description) {
  const engine::LocalTransport local = local_transport();
  if (auto answer = engine::negotiate_ingest(description, local)) {
    check(proto::parse_sdp(answer->sdp).ok());
  }
  engine::OutgoingStreams streams;
  streams.video_ssrc = 1;
  streams.audio_ssrc = 2;
  streams.cname = "fuzz";
  if (auto answer = engine::negotiate_whep(description, local, streams)) {
    check(proto::parse_sdp(answer->sdp).ok());
  }
  engine::EgressOfferParams params;
  params.local = local;
  params.streams = streams;
  static const engine::EgressOffer offer = engine::make_egress_offer(params);
  const std::string answer_text = proto::serialize_sdp(description);
  (void)engine::accept_egress_answer(offer.description, answer_text);
  // An edge's pull (INGEST_PULL_URL) reads an origin's answer to its recvonly offer.
  static const engine::EgressOffer pull_offer = [&] {
    engine::EgressOfferParams pull = params;
    pull.receive_only = true;
    return engine::make_egress_offer(pull);
  }();
  (void)engine::accept_egress_answer(pull_offer.description, answer_text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto description = proto::parse_sdp(text)) {
    check_round_trip(*description);
    check_negotiations(*description);
  }
  if (auto fragment = proto::parse_sdp_fragment(text)) {
    const std::string serialized = proto::serialize_sdp_fragment(*fragment);
    auto again = proto::parse_sdp_fragment(serialized, reparse_limits());
    check(again.ok());
    check(*again == *fragment);
  }
  return 0;
}
