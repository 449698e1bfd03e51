// Self-signed IVS Real-Time participant tokens (IVS Real-Time User Guide, "Distribute
// Participant Tokens" > "Creating Tokens with a Key Pair"): a JWT signed ES384 with a private key
// whose public half was imported into IVS (ImportPublicKey), so no CreateParticipantToken call
// is made per stage and the 50 calls/s quota does not apply.
//
//   header  {"alg":"ES384","typ":"JWT","kid":"<public key ARN>"}
//   claims  exp, iat (Unix seconds), jti (participant id), resource (stage ARN), topic (stage
//           id), events_url, whip_url, user_id, attributes, capabilities {allow_publish:true,
//           allow_subscribe:false}, version "1.0"
//
// Pure: the key, the time and the random participant id are inputs (the JWT code is
// app/control/jwt.hpp, the same the local `stage` role verifies with).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "app/control/api_responses.hpp"
#include "app/control/jwt.hpp"
#include "proto/result.hpp"

namespace ivs::app::aws {

inline constexpr std::string_view kIvsEventsUrl = "wss://global.events.live-video.net";

struct SelfSignedTokenRequest {
  std::string stage_arn;
  std::string user_id;
  std::string participant_id;
  std::map<std::string, std::string> attributes;
  int duration_minutes = 720;
  // Where the media server publishes (WHIP_ENDPOINT). Ending in '/', it is a base the stage id
  // is appended to (a local stand-in has one WHIP path per stage); IVS's global endpoint
  // (https://global.whip.live-video.net) is used as it is.
  std::string whip_endpoint;
};

// The stage id: the ARN's part after "stage/".
std::string stage_id_of(std::string_view stage_arn);

Result<TokenInfo> mint_self_signed_token(const jwt::Es384Key& key, std::string_view public_key_arn,
                                         const SelfSignedTokenRequest& request,
                                         std::int64_t now_unix);

}  // namespace ivs::app::aws
