// Self-signed IVS participant tokens; see ivs_self_signed.hpp for the claim set.
#include "app/aws/ivs_self_signed.hpp"

namespace ivs::app::aws {

std::string stage_id_of(std::string_view stage_arn) {
  const std::size_t slash = stage_arn.rfind("stage/");
  return std::string(slash == std::string_view::npos ? stage_arn : stage_arn.substr(slash + 6));
}

Result<TokenInfo> mint_self_signed_token(const jwt::Es384Key& key, std::string_view public_key_arn,
                                         const SelfSignedTokenRequest& request,
                                         std::int64_t now_unix) {
  const std::string stage_id = stage_id_of(request.stage_arn);
  std::string whip_url = request.whip_endpoint;
  if (!whip_url.empty() && whip_url.back() == '/') {
    whip_url += stage_id;
  }
  boost::json::object attributes;
  for (const auto& [name, value] : request.attributes) {
    attributes[name] = value;
  }
  const boost::json::object claims{
      {"exp", now_unix + std::int64_t{request.duration_minutes} * 60},
      {"iat", now_unix},
      {"jti", request.participant_id},
      {"resource", request.stage_arn},
      {"topic", stage_id},
      {"events_url", kIvsEventsUrl},
      {"whip_url", whip_url},
      {"user_id", request.user_id},
      {"attributes", std::move(attributes)},
      {"capabilities", {{"allow_publish", true}, {"allow_subscribe", false}}},
      {"version", "1.0"},
  };
  auto token = jwt::sign(key, claims, public_key_arn);
  if (!token) {
    return token.error();
  }
  return TokenInfo{std::move(*token), request.participant_id, whip_url, WhipUrlSource::token_claim};
}

}  // namespace ivs::app::aws
