// Fuzz target: the SDP a=fingerprint value parser (DtlsFingerprint::parse). Whatever parses must
// serialize and parse back to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/dtls_certificate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ivs::engine::DtlsFingerprint::parse(text);
  if (parsed) {
    auto again = ivs::engine::DtlsFingerprint::parse(parsed->to_sdp());
    if (!again || !(*again == *parsed)) {
      std::abort();
    }
  }
  return 0;
}
