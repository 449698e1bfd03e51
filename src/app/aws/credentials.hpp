// Where AWS credentials come from, in the order every AWS SDK tries them (AWS SDKs and Tools
// Reference Guide, "Standardized credential providers"; "Environment variables", "Shared config
// and credentials files", "Assume role with web identity", "IMDS credential provider"):
//
//   1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN]
//   2. web identity (EKS "IAM roles for service accounts"): AWS_ROLE_ARN +
//      AWS_WEB_IDENTITY_TOKEN_FILE (or role_arn + web_identity_token_file in the profile) ->
//      STS AssumeRoleWithWebIdentity (unsigned: the token file is the proof)
//   3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials), then the
//      config file (AWS_CONFIG_FILE, ~/.aws/config), profile AWS_PROFILE (default "default")
//   4. the EC2 instance role through IMDSv2: PUT /latest/api/token, then GET
//      /latest/meta-data/iam/security-credentials/ and .../<role>
//
// This file holds the pure parts (settings, the static sources, the STS and IMDS answers); the
// I/O is credential_provider.hpp. Every source names itself in `source` ("environment",
// "web identity (arn:...)", ...), which the status page shows; the secret never leaves here
// except into a signature.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "app/aws/sigv4.hpp"
#include "app/roles/config.hpp"
#include "proto/result.hpp"

namespace ivs::app::aws {

struct AwsCredentials {
  Credentials keys;
  std::optional<std::int64_t> expires_unix;  // temporary credentials only
  std::string source;
};

// The settings the chain reads, from the configuration (env and .env, see config_table.cpp).
struct CredentialSettings {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string profile = "default";
  std::string credentials_file;  // resolved: AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials
  std::string config_file;       // resolved: AWS_CONFIG_FILE or ~/.aws/config
  std::string role_arn;
  std::string web_identity_token_file;
  std::string role_session_name = "ivs-media-server";
  std::string region = "us-east-1";
  std::string sts_endpoint;    // AWS_ENDPOINT_URL_STS, else https://sts.<region>.amazonaws.com
  std::string imds_endpoint;   // AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254
  bool imds_disabled = false;  // AWS_EC2_METADATA_DISABLED=true
};

// Reads the settings from raw variables (names as in the AWS SDKs); `home` resolves "~".
CredentialSettings credential_settings(const Environment& variables, std::string_view home);

std::optional<AwsCredentials> from_environment(const CredentialSettings& settings);

// The profile's keys from the credentials file, else the config file; nothing when neither has
// them. Errors: a file that does not parse, or a profile with one key of the pair.
Result<std::optional<AwsCredentials>> from_shared_files(const CredentialSettings& settings,
                                                        std::string_view credentials_text,
                                                        std::string_view config_text);

// Fills role_arn / web_identity_token_file / role_session_name from the profile in the config
// file when the environment did not set them (the SDKs' order).
Status apply_profile_web_identity(CredentialSettings& settings, std::string_view config_text);

// STS AssumeRoleWithWebIdentity as a form-encoded POST body (Query protocol, Version
// 2011-06-15).
std::string web_identity_request_body(const CredentialSettings& settings, std::string_view token);
// The STS answer: XML <Credentials> with AccessKeyId, SecretAccessKey, SessionToken, Expiration;
// an <Error> answer becomes an error naming its Code and Message.
Result<AwsCredentials> parse_sts_credentials(std::string_view xml, std::string_view role_arn);
// The IMDS answer for one role: JSON {"Code":"Success","AccessKeyId",...,"Expiration"}.
Result<AwsCredentials> parse_imds_credentials(std::string_view json, std::string_view role);

// The text of the first <tag>...</tag> element, XML entities decoded; nothing if absent.
std::optional<std::string> xml_element(std::string_view xml, std::string_view tag);
// "2019-11-09T13:34:41Z" (optionally with fractional seconds) -> Unix seconds.
Result<std::int64_t> parse_iso8601_utc(std::string_view text);

}  // namespace ivs::app::aws
