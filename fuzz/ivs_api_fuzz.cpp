// Fuzzes the parsers of STAGE_SOURCE=ivs that read what the network sends: IVS's ListStages and
// CreateParticipantToken answers and error bodies, the HTTP Date header, and the SigV4
// Authorization header the ivs-fake role parses. None may crash, throw or hang; a parsed page
// holds no stage without an ARN, a parsed token is never empty.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "app/aws/ivs_api.hpp"
#include "app/aws/sigv4_verify.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ivs::app::aws;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto page = parse_list_stages(text); page.ok()) {
    for (const auto& stage : page->stages) {
      if (stage.arn.empty()) {
        std::abort();
      }
    }
  }
  if (auto token = parse_participant_token(text); token.ok() && token->token.empty()) {
    std::abort();
  }
  (void)parse_aws_error(403, text.substr(0, size / 2), text);
  (void)parse_http_date(text);
  (void)parse_authorization(text);
  (void)parse_stage_tag(text);
  (void)percent_decode(text);
  return 0;
}
