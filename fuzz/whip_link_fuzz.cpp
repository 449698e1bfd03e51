// Fuzzes the WHIP Link header parser and Location resolution (app/egress/whip_egress_link.hpp):
// both read text a remote WHIP endpoint chose.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "app/egress/whip_egress_link.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto split = text.find('\n');
  const std::string_view first = text.substr(0, split);
  const std::string_view second =
      split == std::string_view::npos ? std::string_view() : text.substr(split + 1);
  for (const auto& link : ivs::app::parse_ice_server_links(text)) {
    if (link.host.empty() || link.port == 0) {
      __builtin_trap();
    }
  }
  (void)ivs::app::first_stun_server({std::string(first), std::string(second)});
  (void)ivs::app::resolve_url(first, second);
  return 0;
}
