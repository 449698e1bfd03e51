// Fuzzes the STUN codec: parse arbitrary bytes, touch every accessor, and check that a message
// rebuilt from the parsed attributes parses again to the same attributes (round trip). Also
// runs MESSAGE-INTEGRITY verification, which walks the integrity byte range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "engine/stun_integrity.hpp"
#include "proto/packet_demux.hpp"
#include "proto/stun_message.hpp"

using namespace ivs;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan bytes(data, size);
  (void)proto::classify_packet(bytes);
  (void)proto::looks_like_stun(bytes);
  auto message = proto::StunMessage::parse(bytes);
  if (!message) {
    return 0;
  }
  (void)message->username();
  (void)message->software();
  (void)message->priority();
  (void)message->ice_controlling();
  (void)message->ice_controlled();
  (void)message->xor_mapped_address();
  (void)message->mapped_address();
  (void)message->error_code();
  (void)message->fingerprint_matches();
  (void)message->unknown_comprehension_required();
  (void)message->message_integrity_sha256_input();
  engine::StunIntegrity integrity;
  (void)integrity.verify(*message, as_bytes("key"));

  proto::StunBuilder builder(message->method(), message->message_class(),
                             message->transaction_id());
  for (const auto& attribute : message->attributes()) {
    if (attribute.type == proto::stun_attribute::kMessageIntegrity ||
        attribute.type == proto::stun_attribute::kFingerprint ||
        attribute.type == proto::stun_attribute::kMessageIntegritySha256) {
      break;
    }
    builder.add(attribute.type, attribute.value);
  }
  auto again = proto::StunMessage::parse(builder.bytes());
  if (!again || again->method() != message->method() ||
      again->message_class() != message->message_class()) {
    std::abort();
  }
  std::size_t index = 0;
  for (const auto& attribute : message->attributes()) {
    if (attribute.type == proto::stun_attribute::kMessageIntegrity ||
        attribute.type == proto::stun_attribute::kFingerprint ||
        attribute.type == proto::stun_attribute::kMessageIntegritySha256) {
      break;
    }
    const auto& copy = again->attributes()[index++];
    if (copy.type != attribute.type || copy.value.size() != attribute.value.size() ||
        !std::equal(copy.value.begin(), copy.value.end(), attribute.value.begin())) {
      std::abort();
    }
  }
  return 0;
}
