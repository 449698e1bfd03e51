// Fuzzes the CIDR allow-list parser (WHIP_INGEST_ALLOWED_CIDRS): arbitrary text either parses or
// is refused with a message; a parsed network's text form parses back to the same network and
// contains its own base address.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proto/ip_network.hpp"

using namespace ivs;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<std::vector<IpNetwork>> list = parse_ip_network_list(text);
  if (!list) {
    if (list.error().message.empty()) {
      std::abort();
    }
    return 0;
  }
  for (const IpNetwork& network : *list) {
    Result<IpNetwork> again = parse_ip_network(network.to_string());
    if (!again || !(again->base == network.base) || again->prefix_length != network.prefix_length ||
        !network.contains(network.base)) {
      std::abort();
    }
  }
  return 0;
}
