// Fuzzes the parsers of the AWS credentials chain, which read files and answers we do not
// control: the shared config/credentials INI files (a user's ~/.aws), the STS XML answer, the
// IMDS JSON answer and the ISO 8601 expiry. None may crash, throw or hang; a parsed INI file
// must hold no empty section name or key, and parsed credentials must have both keys.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "app/aws/aws_ini.hpp"
#include "app/aws/credentials.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ivs::app::aws;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto file = parse_ini(text); file.ok()) {
    for (const auto& [name, section] : *file) {
      if (name.empty()) {
        std::abort();
      }
      for (const auto& [key, value] : section) {
        if (key.empty()) {
          std::abort();
        }
      }
    }
  }
  if (auto sts = parse_sts_credentials(text, "arn:r");
      sts.ok() && (sts->keys.access_key_id.empty() || sts->keys.secret_access_key.empty())) {
    std::abort();
  }
  if (auto imds = parse_imds_credentials(text, "role");
      imds.ok() && (imds->keys.access_key_id.empty() || imds->keys.secret_access_key.empty())) {
    std::abort();
  }
  (void)parse_iso8601_utc(text);
  (void)xml_element(text, "Code");
  return 0;
}
