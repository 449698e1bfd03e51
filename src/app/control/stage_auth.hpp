// Authorization for the local `stage` role (a stand-in for Amazon IVS Real-Time stages): the
// participant token a WHIP publisher presents (RFC 6750 bearer, a JWT per RFC 7519 signed ES384
// per RFC 7518 §3.4 by the reference API server; docs/api-server.md "The participant token").
//
// A token is accepted for stage <id> when jwt::verify passes (alg ES384, signature, exp, nbf),
// its `resource` claim is the stage ARN ending in "stage/<id>" or is <id> itself, and
// `capabilities.allow_publish` is not false. Refusals carry the HTTP status and the reason a
// developer needs (IVS itself only says 401/403), never the token:
//   401 missing/malformed Authorization, bad signature, expired, not yet valid
//   403 a valid token for another stage, or one without publish capability
// Pure functions with time as an input, so every case is unit-tested without sockets.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "app/control/jwt.hpp"
#include "proto/result.hpp"

namespace ivs::app {

struct StageAuthRefusal {
  int http_status = 401;
  std::string message;
};

// Checks `authorization` (the whole header value, "Bearer <jwt>") for publishing to `stage_id`.
std::optional<StageAuthRefusal> check_stage_token(const jwt::Es384Key& key,
                                                  std::string_view authorization,
                                                  std::string_view stage_id,
                                                  std::int64_t now_unix_seconds);

// True when the `resource` claim names `stage_id`: "…:stage/<id>" or exactly "<id>".
bool resource_names_stage(std::string_view resource, std::string_view stage_id);

// The ES384 verification key from an RFC 7517 JWK Set body ({"keys":[{...}]}, the API server's
// /api/keys) or a single JWK object; the first EC P-384 key wins.
Result<jwt::Es384Key> key_from_jwks(std::string_view body);

// STAGE_FAULTS: "<stageId>=500;<stageId>=hang" (a test knob that makes one stage's WHIP POST
// fail). Unknown kinds and malformed entries are errors naming the entry.
enum class StageFault { http_500, hang };
Result<std::map<std::string, StageFault>> parse_stage_faults(std::string_view text);

}  // namespace ivs::app
