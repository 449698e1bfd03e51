// Fuzzes every parser of the control plane with the same bytes: the tolerant API response
// parsers (stage list, token, WebSocket message), the JWT claim reader and the `.env` parser.
// None may crash, throw or hang; results must satisfy their documented invariants.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "app/control/api_responses.hpp"
#include "app/roles/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto stages = ivs::app::parse_stage_list(text); stages.ok()) {
    for (const auto& arn : stages->stage_arns) {
      if (arn.empty()) {
        std::abort();  // empty ARNs must be skipped, never returned
      }
    }
  }
  if (auto token = ivs::app::parse_token_response(text, "https://default.example/");
      token.ok() && (token->token.empty() || token->whip_url.empty())) {
    std::abort();
  }
  if (auto message = ivs::app::parse_notification(text); message.ok()) {
    const bool stage_event = message->kind != ivs::app::StageNotification::Kind::other;
    if (stage_event && message->stage_arn.empty()) {
      std::abort();
    }
  }
  (void)ivs::app::jwt_string_claim(text, "whip_url");
  (void)ivs::app::parse_dotenv(text);
  return 0;
}
