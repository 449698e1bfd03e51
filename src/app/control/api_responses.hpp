// Tolerant parsing of the API server's answers and WebSocket messages (DESIGN.md §2.1). The seed
// never fixed the response shapes, so every shape a reasonable API server might send is
// accepted and each one has a unit test (tests/app/api_responses_test.cpp):
//
//   stages:  [..] | {"stages":[..]} | {"data":[..]} | {"data":{"stages":[..]}}
//            item: "arn:..." | {"stageArn":"arn:..."} | {"arn":"arn:..."}
//   token:   {"token":..} | {"data":{"token":..}}, optional whipUrl|whip_url, participantId
//            WHIP URL: response whipUrl > the JWT's `whip_url` claim > WHIP_ENDPOINT
//   ws:      {"type":"stage_created"|"stage_deleted","data":{"stageArn","timestamp"}}
//
// Pure functions: text in, value or Error out; malformed JSON is an Error with a reason, never
// an exception or a crash. Also builds the request bodies, so the wire contract sits in one file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/result.hpp"

namespace ivs::app {

struct StageList {
  std::vector<std::string> stage_arns;  // in the server's order, duplicates removed
  std::size_t skipped_items = 0;        // items with no recognisable ARN
};
Result<StageList> parse_stage_list(std::string_view body);

enum class WhipUrlSource { response, token_claim, configured_endpoint };
const char* to_string(WhipUrlSource source);

struct TokenInfo {
  std::string token;
  std::string participant_id;  // empty when not sent
  std::string whip_url;
  WhipUrlSource whip_url_source = WhipUrlSource::configured_endpoint;
};
Result<TokenInfo> parse_token_response(std::string_view body,
                                       std::string_view configured_whip_endpoint);

// A string claim of a JWT's payload (RFC 7519), decoded WITHOUT verifying the signature: the
// media server only reads hints from its own tokens; IVS verifies them.
std::optional<std::string> jwt_string_claim(std::string_view jwt, std::string_view claim);

struct StageNotification {
  enum class Kind { stage_created, stage_deleted, other };
  Kind kind = Kind::other;
  std::string type;       // as sent, for logging unknown types
  std::string stage_arn;  // empty for `other`
  std::string timestamp;  // as sent, may be empty
};
// Errors: not JSON, not an object, no string "type", or a stage event without data.stageArn.
Result<StageNotification> parse_notification(std::string_view text);

// The stage list as it stands after `events`, which arrived over the WebSocket while the
// request for `listed` was in flight: the answer may predate them (the API server answered
// before a create or delete that the WebSocket then delivered first), so they are applied on
// top, in order. Without this a stale answer ended a stage that had just been created.
std::vector<std::string> list_after_events(std::vector<std::string> listed,
                                           const std::vector<StageNotification>& events);

// Request bodies (DESIGN.md §2.1 table).
std::string register_request_body(std::string_view server_id, std::string_view ip_address,
                                  std::uint16_t port);
std::string token_request_body(std::string_view server_id, std::string_view stage_arn);
std::string heartbeat_request_body(std::string_view server_id, bool publisher_active,
                                   std::size_t connected_stages);

}  // namespace ivs::app
