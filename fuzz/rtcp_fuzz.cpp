// Fuzzes the RTCP compound walker and every typed parser. Where a compound parses, serializing
// it and parsing the result must succeed and serialize to the same bytes again (the first
// serialization may normalise padding, chunk encodings and null octets; after that it is a fixed
// point). Each packet the walker yields is also fed to its typed parser on its own.
#include <cstdint>
#include <cstdlib>

#include "proto/rtcp_compound.hpp"

namespace {

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ivs::proto;
  const ivs::ByteSpan input(data, size);

  RtcpCompoundWalker walker(input);
  while (auto view = walker.next()) {
    if (!*view) {
      break;
    }
    (void)parse_rtcp_packet(**view);
  }

  auto packets = parse_rtcp_compound(input);
  if (!packets) {
    return 0;
  }
  const ivs::Bytes first = serialize_rtcp_compound(*packets);
  auto reparsed = parse_rtcp_compound(first);
  check(reparsed.ok());
  check(reparsed->size() == packets->size());
  const ivs::Bytes second = serialize_rtcp_compound(*reparsed);
  check(first == second);
  auto third = parse_rtcp_compound(second);
  check(third.ok() && *third == *reparsed);
  return 0;
}
