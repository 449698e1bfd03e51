// The pure parts of the AWS credentials chain; see credentials.hpp for the order and sources.
#include "app/aws/credentials.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>

#include "app/aws/aws_ini.hpp"

namespace ivs::app::aws {
namespace {

std::string variable(const Environment& variables, std::string_view name) {
  const auto it = variables.find(name);
  return it == variables.end() ? std::string() : it->second;
}

std::string resolve_home(std::string path, std::string_view home) {
  if (path.starts_with("~/")) {
    path = std::string(home) + path.substr(1);
  }
  return path;
}

// A config file names profiles "[profile x]", except "[default]"; a credentials file "[x]".
const IniSection* config_profile(const IniFile& file, const std::string& profile) {
  auto it = file.find(profile == "default" ? profile : "profile " + profile);
  if (it == file.end() && profile == "default") {
    it = file.find("profile default");
  }
  return it == file.end() ? nullptr : &it->second;
}

std::string value_of(const IniSection& section, std::string_view key) {
  const auto it = section.find(key);
  return it == section.end() ? std::string() : it->second;
}

Result<std::optional<AwsCredentials>> keys_from(const IniSection* section,
                                                const std::string& where) {
  if (section == nullptr) {
    return std::optional<AwsCredentials>{};
  }
  AwsCredentials out;
  out.keys.access_key_id = value_of(*section, "aws_access_key_id");
  out.keys.secret_access_key = value_of(*section, "aws_secret_access_key");
  out.keys.session_token = value_of(*section, "aws_session_token");
  if (out.keys.access_key_id.empty() && out.keys.secret_access_key.empty()) {
    return std::optional<AwsCredentials>{};
  }
  if (out.keys.access_key_id.empty() || out.keys.secret_access_key.empty()) {
    return Error{where + " has only one of aws_access_key_id and aws_secret_access_key; set both"};
  }
  out.source = where;
  return std::optional<AwsCredentials>{std::move(out)};
}

std::string decode_entities(std::string_view text) {
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool replaced = false;
    for (const auto& [entity, character] : kEntities) {
      if (text.substr(i).starts_with(entity)) {
        out += character;
        i += entity.size() - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) {
      out += text[i];
    }
  }
  return out;
}

bool read_number(std::string_view text, std::size_t at, std::size_t digits, int& out) {
  if (at + digits > text.size()) {
    return false;
  }
  const char* begin = text.data() + at;
  const auto [end, error] = std::from_chars(begin, begin + digits, out);
  return error == std::errc() && end == begin + digits;
}

}  // namespace

CredentialSettings credential_settings(const Environment& variables, std::string_view home) {
  CredentialSettings settings;
  settings.access_key_id = variable(variables, "AWS_ACCESS_KEY_ID");
  settings.secret_access_key = variable(variables, "AWS_SECRET_ACCESS_KEY");
  settings.session_token = variable(variables, "AWS_SESSION_TOKEN");
  if (auto profile = variable(variables, "AWS_PROFILE"); !profile.empty()) {
    settings.profile = profile;
  }
  auto credentials_file = variable(variables, "AWS_SHARED_CREDENTIALS_FILE");
  settings.credentials_file =
      resolve_home(credentials_file.empty() ? "~/.aws/credentials" : credentials_file, home);
  auto config_file = variable(variables, "AWS_CONFIG_FILE");
  settings.config_file = resolve_home(config_file.empty() ? "~/.aws/config" : config_file, home);
  settings.role_arn = variable(variables, "AWS_ROLE_ARN");
  settings.web_identity_token_file = variable(variables, "AWS_WEB_IDENTITY_TOKEN_FILE");
  if (auto name = variable(variables, "AWS_ROLE_SESSION_NAME"); !name.empty()) {
    settings.role_session_name = name;
  }
  if (auto region = variable(variables, "AWS_REGION"); !region.empty()) {
    settings.region = region;
  }
  settings.sts_endpoint = variable(variables, "AWS_ENDPOINT_URL_STS");
  if (settings.sts_endpoint.empty()) {
    settings.sts_endpoint = "https://sts." + settings.region + ".amazonaws.com";
  }
  settings.imds_endpoint = variable(variables, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (settings.imds_endpoint.empty()) {
    settings.imds_endpoint = "http://169.254.169.254";
  }
  // The SDKs disable IMDS only on "true" (any case).
  auto disabled = variable(variables, "AWS_EC2_METADATA_DISABLED");
  std::transform(disabled.begin(), disabled.end(), disabled.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  settings.imds_disabled = disabled == "true";
  return settings;
}

std::optional<AwsCredentials> from_environment(const CredentialSettings& settings) {
  if (settings.access_key_id.empty() || settings.secret_access_key.empty()) {
    return std::nullopt;
  }
  return AwsCredentials{
      {settings.access_key_id, settings.secret_access_key, settings.session_token},
      std::nullopt,
      "environment"};
}

Result<std::optional<AwsCredentials>> from_shared_files(const CredentialSettings& settings,
                                                        std::string_view credentials_text,
                                                        std::string_view config_text) {
  auto credentials = parse_ini(credentials_text);
  if (!credentials) {
    return Error{settings.credentials_file + ": " + credentials.error().message};
  }
  const auto section = credentials->find(settings.profile);
  auto found = keys_from(section == credentials->end() ? nullptr : &section->second,
                         "shared credentials file " + settings.credentials_file + " (profile " +
                             settings.profile + ")");
  if (!found || found->has_value()) {
    return found;
  }
  auto config = parse_ini(config_text);
  if (!config) {
    return Error{settings.config_file + ": " + config.error().message};
  }
  return keys_from(config_profile(*config, settings.profile),
                   "config file " + settings.config_file + " (profile " + settings.profile + ")");
}

Status apply_profile_web_identity(CredentialSettings& settings, std::string_view config_text) {
  auto config = parse_ini(config_text);
  if (!config) {
    return Error{settings.config_file + ": " + config.error().message};
  }
  const IniSection* profile = config_profile(*config, settings.profile);
  if (profile == nullptr || !settings.role_arn.empty()) {
    return Ok{};
  }
  const std::string token_file = value_of(*profile, "web_identity_token_file");
  if (token_file.empty()) {
    return Ok{};
  }
  settings.role_arn = value_of(*profile, "role_arn");
  settings.web_identity_token_file = token_file;
  if (auto name = value_of(*profile, "role_session_name"); !name.empty()) {
    settings.role_session_name = name;
  }
  return Ok{};
}

std::string web_identity_request_body(const CredentialSettings& settings, std::string_view token) {
  return "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" +
         uri_encode(settings.role_arn, false) +
         "&RoleSessionName=" + uri_encode(settings.role_session_name, false) +
         "&WebIdentityToken=" + uri_encode(token, false);
}

std::optional<std::string> xml_element(std::string_view xml, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  const std::size_t start = xml.find(open);
  if (start == std::string_view::npos) {
    return std::nullopt;
  }
  const std::size_t end = xml.find(close, start + open.size());
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  return decode_entities(xml.substr(start + open.size(), end - start - open.size()));
}

Result<std::int64_t> parse_iso8601_utc(std::string_view text) {
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  const bool shaped = text.size() >= 20 && text[4] == '-' && text[7] == '-' && text[10] == 'T' &&
                      text[13] == ':' && text[16] == ':' && text.back() == 'Z';
  if (!shaped || !read_number(text, 0, 4, year) || !read_number(text, 5, 2, month) ||
      !read_number(text, 8, 2, day) || !read_number(text, 11, 2, hour) ||
      !read_number(text, 14, 2, minute) || !read_number(text, 17, 2, second)) {
    return Error{"not an ISO 8601 UTC time like 2026-01-31T12:00:00Z"};
  }
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(year), std::chrono::month(month),
                            std::chrono::day(day)};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) {
    return Error{"not a valid date and time"};
  }
  const auto since_epoch = sys_days(date).time_since_epoch();
  return duration_cast<seconds>(since_epoch).count() + std::int64_t{hour} * 3600 +
         std::int64_t{minute} * 60 + second;
}

Result<AwsCredentials> parse_sts_credentials(std::string_view xml, std::string_view role_arn) {
  if (auto code = xml_element(xml, "Code");
      code && xml.find("<Credentials>") == std::string_view::npos) {
    return Error{"STS AssumeRoleWithWebIdentity failed: " + *code + ": " +
                 xml_element(xml, "Message").value_or("(no message)")};
  }
  auto block = xml_element(xml, "Credentials");
  if (!block) {
    return Error{"STS answer has no <Credentials>"};
  }
  AwsCredentials out;
  out.keys.access_key_id = xml_element(*block, "AccessKeyId").value_or("");
  out.keys.secret_access_key = xml_element(*block, "SecretAccessKey").value_or("");
  out.keys.session_token = xml_element(*block, "SessionToken").value_or("");
  auto expires = parse_iso8601_utc(xml_element(*block, "Expiration").value_or(""));
  if (out.keys.access_key_id.empty() || out.keys.secret_access_key.empty() ||
      out.keys.session_token.empty() || !expires) {
    return Error{"STS answer lacks AccessKeyId, SecretAccessKey, SessionToken or Expiration"};
  }
  out.expires_unix = *expires;
  out.source = "web identity (" + std::string(role_arn) + ")";
  return out;
}

Result<AwsCredentials> parse_imds_credentials(std::string_view json, std::string_view role) {
  boost::system::error_code error;
  const auto document = boost::json::parse(json, error);
  if (error || !document.is_object()) {
    return Error{"IMDS credentials for role " + std::string(role) + " are not a JSON object"};
  }
  const auto& object = document.as_object();
  const auto text = [&](std::string_view key) {
    const auto* value = object.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
  };
  if (const auto code = text("Code"); code != "Success") {
    return Error{"IMDS credentials for role " + std::string(role) + ": Code " +
                 (code.empty() ? "missing" : code)};
  }
  AwsCredentials out;
  out.keys = {text("AccessKeyId"), text("SecretAccessKey"), text("Token")};
  auto expires = parse_iso8601_utc(text("Expiration"));
  if (out.keys.access_key_id.empty() || out.keys.secret_access_key.empty() || !expires) {
    return Error{"IMDS credentials for role " + std::string(role) +
                 " lack AccessKeyId, SecretAccessKey or Expiration"};
  }
  out.expires_unix = *expires;
  out.source = "EC2 instance role " + std::string(role) + " (IMDSv2)";
  return out;
}

}  // namespace ivs::app::aws
