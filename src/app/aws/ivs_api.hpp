// The wire form of the Amazon IVS Real-Time calls the media server makes (Amazon IVS Real-Time
// Streaming API Reference: "ListStages", "CreateParticipantToken", "Common Errors"; REST-JSON
// protocol, SigV4 signing name "ivs", endpoint https://ivsrealtime.<region>.amazonaws.com):
//
//   POST /ListStages              {"maxResults":100[,"nextToken":"..."]}
//        -> {"stages":[{"arn","name","tags":{..},"activeSessionId"}],"nextToken":"..."}
//   POST /CreateParticipantToken  {"stageArn","userId","duration","capabilities":["PUBLISH"],
//                                  "attributes":{..}}
//        -> {"participantToken":{"participantId","token","expirationTime",...}}
//   errors: HTTP 4xx/5xx, the type in the x-amzn-ErrorType header ("AccessDeniedException:..."),
//           else in the body's "__type"; the text in "message" or "Message"
//
// Pure functions, shared by the client (ivs_client.hpp) and the local stand-in (the `ivs-fake`
// role), so both read and write the same bytes. Parsers never throw (fuzz/ivs_api_fuzz.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/result.hpp"

namespace boost::json {
class value;
}  // namespace boost::json

namespace ivs::app::aws {

inline constexpr std::string_view kIvsSigningName = "ivs";
inline constexpr int kIvsListPageSize = 100;

struct IvsStageSummary {
  std::string arn;
  std::string name;
  std::map<std::string, std::string> tags;
};

struct IvsStagePage {
  std::vector<IvsStageSummary> stages;
  std::string next_token;  // empty on the last page
};

struct IvsParticipantToken {
  std::string token;
  std::string participant_id;
  std::string expiration_time;  // ISO 8601, as sent
};

// IVS_STAGE_TAG: "key=value" (value may be empty: "key=" matches the tag with an empty value).
struct StageTagFilter {
  std::string key;
  std::string value;
  bool matches(const IvsStageSummary& stage) const;
};
Result<StageTagFilter> parse_stage_tag(std::string_view text);

std::string list_stages_body(std::string_view next_token);
std::string create_participant_token_body(std::string_view stage_arn, std::string_view user_id,
                                          int duration_minutes,
                                          const std::map<std::string, std::string>& attributes);
Result<IvsStagePage> parse_list_stages(std::string_view body);
// A JSON object's string members as a map (a stage's "tags"); anything else is left out, and a
// value that is not an object gives an empty map.
std::map<std::string, std::string> string_members(const boost::json::value& value);
Result<IvsParticipantToken> parse_participant_token(std::string_view body);

// What an error answer means for the caller.
enum class AwsErrorKind { throttled, access_denied, clock_skew, not_found, client, server };

struct AwsError {
  AwsErrorKind kind = AwsErrorKind::server;
  std::string code;     // "ThrottlingException", "AccessDeniedException", ...
  std::string message;  // AWS's text, cut to a log-friendly length
};

// Classifies an error answer; `error_type_header` is x-amzn-ErrorType ("" when absent).
AwsError parse_aws_error(unsigned status, std::string_view error_type_header,
                         std::string_view body);

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7 IMF-fixdate) -> Unix seconds: AWS's time in
// an answer's Date header, to measure a clock skew.
Result<std::int64_t> parse_http_date(std::string_view text);

// "ivs:ListStages" for an action name: what an AccessDenied error tells the user to allow.
std::string iam_action(std::string_view action);

}  // namespace ivs::app::aws
