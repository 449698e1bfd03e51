// IVS Real-Time request bodies, answers and errors; see ivs_api.hpp.
#include "app/aws/ivs_api.hpp"

#include <boost/json.hpp>

#include <array>
#include <cstdio>

#include "app/aws/credentials.hpp"

namespace ivs::app::aws {
namespace {

std::string string_field(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

Result<boost::json::object> parse_object(std::string_view body, std::string_view what) {
  boost::system::error_code error;
  auto document = boost::json::parse(body, error);
  if (error || !document.is_object()) {
    return Error{std::string(what) + ": the answer is not a JSON object"};
  }
  return std::move(document.as_object());
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace

bool StageTagFilter::matches(const IvsStageSummary& stage) const {
  const auto found = stage.tags.find(key);
  return found != stage.tags.end() && found->second == value;
}

Result<StageTagFilter> parse_stage_tag(std::string_view text) {
  const std::size_t equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0) {
    return Error{"a tag as key=value (e.g. media-server=relay)"};
  }
  return StageTagFilter{std::string(text.substr(0, equals)), std::string(text.substr(equals + 1))};
}

std::string list_stages_body(std::string_view next_token) {
  boost::json::object body{{"maxResults", kIvsListPageSize}};
  if (!next_token.empty()) {
    body["nextToken"] = next_token;
  }
  return boost::json::serialize(body);
}

std::string create_participant_token_body(std::string_view stage_arn, std::string_view user_id,
                                          int duration_minutes,
                                          const std::map<std::string, std::string>& attributes) {
  boost::json::object attribute_object;
  for (const auto& [key, value] : attributes) {
    attribute_object[key] = value;
  }
  return boost::json::serialize(boost::json::object{
      {"stageArn", stage_arn},
      {"userId", user_id},
      {"duration", duration_minutes},
      {"capabilities", boost::json::array{"PUBLISH"}},
      {"attributes", std::move(attribute_object)},
  });
}

std::map<std::string, std::string> string_members(const boost::json::value& value) {
  std::map<std::string, std::string> members;
  if (value.is_object()) {
    for (const auto& [key, member] : value.as_object()) {
      if (member.is_string()) {
        members[std::string(key)] = std::string(member.as_string());
      }
    }
  }
  return members;
}

Result<IvsStagePage> parse_list_stages(std::string_view body) {
  auto object = parse_object(body, "ListStages");
  if (!object) {
    return object.error();
  }
  const auto* stages = object->if_contains("stages");
  if (stages == nullptr || !stages->is_array()) {
    return Error{"ListStages: the answer has no \"stages\" array"};
  }
  IvsStagePage page;
  for (const auto& item : stages->as_array()) {
    if (!item.is_object()) {
      continue;
    }
    IvsStageSummary stage;
    stage.arn = string_field(item.as_object(), "arn");
    stage.name = string_field(item.as_object(), "name");
    if (const auto* tags = item.as_object().if_contains("tags")) {
      stage.tags = string_members(*tags);
    }
    if (!stage.arn.empty()) {
      page.stages.push_back(std::move(stage));
    }
  }
  page.next_token = string_field(*object, "nextToken");
  return page;
}

Result<IvsParticipantToken> parse_participant_token(std::string_view body) {
  auto object = parse_object(body, "CreateParticipantToken");
  if (!object) {
    return object.error();
  }
  const auto* token = object->if_contains("participantToken");
  if (token == nullptr || !token->is_object()) {
    return Error{"CreateParticipantToken: the answer has no \"participantToken\" object"};
  }
  IvsParticipantToken out;
  out.token = string_field(token->as_object(), "token");
  out.participant_id = string_field(token->as_object(), "participantId");
  out.expiration_time = string_field(token->as_object(), "expirationTime");
  if (out.token.empty()) {
    return Error{"CreateParticipantToken: the answer has no token"};
  }
  return out;
}

AwsError parse_aws_error(unsigned status, std::string_view error_type_header,
                         std::string_view body) {
  AwsError out;
  std::string code(error_type_header.substr(0, error_type_header.find(':')));
  if (auto object = parse_object(body, "error"); object) {
    if (code.empty()) {
      code = string_field(*object, "__type");
      code = code.substr(code.rfind('#') == std::string::npos ? 0 : code.rfind('#') + 1);
    }
    out.message = string_field(*object, "message");
    if (out.message.empty()) {
      out.message = string_field(*object, "Message");
    }
  }
  out.message = out.message.substr(0, 300);
  out.code = code.empty() ? "HTTP " + std::to_string(status) : code;
  if (status == 429 || contains(code, "Throttl") || code == "TooManyRequestsException") {
    out.kind = AwsErrorKind::throttled;
  } else if (code == "RequestTimeTooSkewed" || contains(out.message, "Signature expired") ||
             contains(out.message, "RequestTimeTooSkewed")) {
    out.kind = AwsErrorKind::clock_skew;
  } else if (contains(code, "AccessDenied") || code == "UnrecognizedClientException" ||
             code == "InvalidSignatureException" || status == 401 || status == 403) {
    out.kind = AwsErrorKind::access_denied;
  } else if (status == 404 || code == "ResourceNotFoundException") {
    out.kind = AwsErrorKind::not_found;
  } else {
    out.kind = status >= 500 ? AwsErrorKind::server : AwsErrorKind::client;
  }
  return out;
}

Result<std::int64_t> parse_http_date(std::string_view text) {
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 29 || text.substr(25) != " GMT") {
    return Error{"not an HTTP date"};
  }
  int month = 0;
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (text.substr(8, 3) == kMonths[i]) {
      month = static_cast<int>(i) + 1;
    }
  }
  if (month == 0) {
    return Error{"not an HTTP date"};
  }
  char iso[40];
  std::snprintf(iso, sizeof(iso), "%.4s-%02d-%.2sT%.8sZ", text.data() + 12, month, text.data() + 5,
                text.data() + 17);
  return parse_iso8601_utc(iso);
}

std::string iam_action(std::string_view action) {
  return "ivs:" + std::string(action);
}

}  // namespace ivs::app::aws
