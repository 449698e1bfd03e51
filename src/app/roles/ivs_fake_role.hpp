// `media-server ivs-fake`: a local stand-in for the Amazon IVS Real-Time API (issue 14), for the
// process tests and `scripts/demo.sh --ivs`. The logic is app/aws/ivs_fake_state.hpp; this is
// its HTTP face. Never for production: it holds one fixed access key.
//
//   POST /ListStages, /CreateParticipantToken     IVS's calls, SigV4-verified
//   GET  /api/keys                                 JWKS of the token key (the stage role's
//                                                  STAGE_API_SERVER_URL points here)
//   POST /_fake/stages {"name","tags":{..}}        create a stage -> {"arn","id"}
//   PUT  /_fake/stages/{id}/tags {"tags":{..}}     replace its tags
//   DELETE /_fake/stages/{id}
//   POST /_fake/deny {"action","denied":true}      answer AccessDeniedException for an action
//   GET  /_fake/stats                              what was asked, throttled, rejected
//   GET  /health
//
// Variables: IVS_FAKE_PORT (4566), IVS_FAKE_BIND (127.0.0.1), IVS_FAKE_ACCESS_KEY_ID,
// IVS_FAKE_SECRET_ACCESS_KEY, IVS_FAKE_SESSION_TOKEN (empty: none required), IVS_FAKE_RATE
// (50 requests/s per action), IVS_FAKE_CLOCK_OFFSET (seconds), IVS_FAKE_STAGES
// ("name[=tagkey:tagvalue];..." created at start), STAGE_WHIP_URL_BASE, AWS_REGION.
#pragma once

namespace ivs::app {

int run_ivs_fake_role(int argc, char** argv);

}  // namespace ivs::app
