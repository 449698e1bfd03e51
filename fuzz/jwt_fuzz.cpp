// Fuzzes the JWT paths that see untrusted input: the stage role verifies bearer tokens from any
// WHIP client, and the media server decodes its tokens' claims without verifying. Neither may
// crash, and base64url must round-trip every byte string.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "app/control/jwt.hpp"

namespace {

const ivs::app::jwt::Es384Key& key() {
  static const auto instance = std::move(ivs::app::jwt::Es384Key::generate()).value();
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ivs::app::jwt;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)verify(key(), text, 1'800'000'000);
  (void)decode_claims_unverified(text);
  const auto decoded = base64url_decode(base64url_encode({data, size}));
  if (!decoded.ok() || decoded.value() != ivs::Bytes(data, data + size))
    std::abort();
  (void)base64url_decode(text);
  return 0;
}
