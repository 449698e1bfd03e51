// The pure parts of the AWS credentials chain: the INI parser of the shared files, the settings
// read from the environment, the static sources and the STS / IMDS answers. The chain's I/O
// against fake STS and IMDS endpoints is tests/process/test_aws_credentials.py.
#include <gtest/gtest.h>

#include "app/aws/aws_ini.hpp"
#include "app/aws/credentials.hpp"

namespace ivs::app::aws {
namespace {

TEST(AwsIni, SectionsKeysCommentsAndSubSections) {
  const auto file = parse_ini(
      "# comment\n"
      "[default]\n"
      "aws_access_key_id = AKIA1 ; inline comment\n"
      "aws_secret_access_key=se#cret\n"
      "\n"
      "[profile build]\r\n"
      "  role_arn = arn:aws:iam::1:role/x\r\n"
      "s3 =\n"
      "  max_concurrent_requests = 20\n"
      "region = eu-west-1\n"
      "[default]\n"
      "region = us-east-2\n");
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->at("default").at("aws_access_key_id"), "AKIA1");
  EXPECT_EQ(file->at("default").at("aws_secret_access_key"), "se#cret");  // no space before '#'
  EXPECT_EQ(file->at("default").at("region"), "us-east-2");  // a repeated header continues
  EXPECT_EQ(file->at("profile build").at("role_arn"), "arn:aws:iam::1:role/x");
  EXPECT_EQ(file->at("profile build").at("s3.max_concurrent_requests"), "20");
  EXPECT_EQ(file->at("profile build").at("region"), "eu-west-1");
}

TEST(AwsIni, ErrorsNameTheLineAndNeverTheValue) {
  auto before = parse_ini("aws_secret_access_key = hunter2\n");
  ASSERT_FALSE(before.ok());
  EXPECT_NE(before.error().message.find("line 1"), std::string::npos);
  EXPECT_EQ(before.error().message.find("hunter2"), std::string::npos);
  auto no_equals = parse_ini("[a]\nx = 1\nhunter2\n");
  ASSERT_FALSE(no_equals.ok());
  EXPECT_NE(no_equals.error().message.find("line 3"), std::string::npos);
  EXPECT_EQ(no_equals.error().message.find("hunter2"), std::string::npos);
  EXPECT_FALSE(parse_ini("[unterminated\n").ok());
  EXPECT_FALSE(parse_ini("[ ]\n").ok());
  EXPECT_FALSE(parse_ini("[a]\n= value\n").ok());
  EXPECT_FALSE(parse_ini(std::string(kMaxIniBytes + 1, '#')).ok());
}

Environment base_environment() {
  return {{"AWS_REGION", "eu-central-1"}};
}

TEST(AwsCredentials, SettingsResolveHomeAndEndpoints) {
  auto environment = base_environment();
  const auto settings = credential_settings(environment, "/home/u");
  EXPECT_EQ(settings.credentials_file, "/home/u/.aws/credentials");
  EXPECT_EQ(settings.config_file, "/home/u/.aws/config");
  EXPECT_EQ(settings.profile, "default");
  EXPECT_EQ(settings.sts_endpoint, "https://sts.eu-central-1.amazonaws.com");
  EXPECT_EQ(settings.imds_endpoint, "http://169.254.169.254");
  environment["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:9";
  environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:8";
  environment["AWS_PROFILE"] = "build";
  const auto overridden = credential_settings(environment, "/home/u");
  EXPECT_EQ(overridden.sts_endpoint, "http://127.0.0.1:9");
  EXPECT_EQ(overridden.imds_endpoint, "http://127.0.0.1:8");
  EXPECT_EQ(overridden.profile, "build");
}

TEST(AwsCredentials, EnvironmentNeedsBothKeys) {
  auto environment = base_environment();
  environment["AWS_ACCESS_KEY_ID"] = "AKIA";
  EXPECT_FALSE(from_environment(credential_settings(environment, "/h")).has_value());
  environment["AWS_SECRET_ACCESS_KEY"] = "s";
  environment["AWS_SESSION_TOKEN"] = "t";
  const auto found = from_environment(credential_settings(environment, "/h"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->keys.session_token, "t");
  EXPECT_EQ(found->source, "environment");
}

TEST(AwsCredentials, SharedFilesPreferCredentialsThenConfigProfile) {
  auto environment = base_environment();
  environment["AWS_PROFILE"] = "build";
  const auto settings = credential_settings(environment, "/h");
  const std::string config =
      "[default]\naws_access_key_id=D\naws_secret_access_key=d\n"
      "[profile build]\naws_access_key_id=C\naws_secret_access_key=c\n";
  auto from_config = from_shared_files(settings,
                                       "[default]\naws_access_key_id=X\n"
                                       "aws_secret_access_key=x\n",
                                       config);
  ASSERT_TRUE(from_config.ok());
  ASSERT_TRUE(from_config->has_value());
  EXPECT_EQ((*from_config)->keys.access_key_id, "C");
  EXPECT_NE((*from_config)->source.find("config file"), std::string::npos);
  auto from_credentials =
      from_shared_files(settings,
                        "[build]\naws_access_key_id=B\naws_secret_access_key=b\n"
                        "aws_session_token=tok\n",
                        config);
  ASSERT_TRUE(from_credentials.ok());
  EXPECT_EQ((*from_credentials)->keys.access_key_id, "B");
  EXPECT_EQ((*from_credentials)->keys.session_token, "tok");
  auto half = from_shared_files(settings, "[build]\naws_access_key_id=B\n", "");
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.error().message.find("only one of"), std::string::npos);
  auto none = from_shared_files(settings, "", "");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(AwsCredentials, ProfileWebIdentityFillsOnlyWhatTheEnvironmentLeft) {
  auto settings = credential_settings(base_environment(), "/h");
  ASSERT_TRUE(apply_profile_web_identity(settings,
                                         "[default]\nrole_arn = arn:r\n"
                                         "web_identity_token_file = /t\n")
                  .ok());
  EXPECT_EQ(settings.role_arn, "arn:r");
  EXPECT_EQ(settings.web_identity_token_file, "/t");
  EXPECT_EQ(web_identity_request_body(settings, "a.b+c"),
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Ar"
            "&RoleSessionName=ivs-media-server&WebIdentityToken=a.b%2Bc");
}

TEST(AwsCredentials, StsAnswerAndError) {
  const auto good = parse_sts_credentials(
      "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
      "<SessionToken>tok&amp;en</SessionToken><SecretAccessKey>sec</SecretAccessKey>"
      "<Expiration>2026-01-31T12:00:00Z</Expiration><AccessKeyId>ASIA1</AccessKeyId>"
      "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
      "arn:aws:iam::1:role/r");
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(good->keys.session_token, "tok&en");
  EXPECT_EQ(good->expires_unix, 1769860800);
  EXPECT_EQ(good->source, "web identity (arn:aws:iam::1:role/r)");
  const auto denied = parse_sts_credentials(
      "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
      "<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error>"
      "</ErrorResponse>",
      "arn:r");
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.error().message.find("AccessDenied: Not authorized"), std::string::npos);
  EXPECT_FALSE(
      parse_sts_credentials("<Credentials><AccessKeyId>A</AccessKeyId></Credentials>", "arn:r")
          .ok());
}

TEST(AwsCredentials, ImdsAnswer) {
  const auto good = parse_imds_credentials(
      R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIA2","SecretAccessKey":"s",)"
      R"("Token":"t","Expiration":"2026-01-31T12:00:00Z"})",
      "media");
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(good->keys.access_key_id, "ASIA2");
  EXPECT_EQ(good->source, "EC2 instance role media (IMDSv2)");
  EXPECT_FALSE(parse_imds_credentials(R"({"Code":"Failure"})", "media").ok());
  EXPECT_FALSE(parse_imds_credentials("[]", "media").ok());
}

TEST(AwsCredentials, Iso8601) {
  EXPECT_EQ(parse_iso8601_utc("1970-01-01T00:00:00Z").value(), 0);
  EXPECT_EQ(parse_iso8601_utc("2015-08-30T12:36:00.123Z").value(), 1440938160);
  EXPECT_FALSE(parse_iso8601_utc("2015-02-30T12:36:00Z").ok());
  EXPECT_FALSE(parse_iso8601_utc("2015-08-30 12:36:00Z").ok());
  EXPECT_FALSE(parse_iso8601_utc("").ok());
}

}  // namespace
}  // namespace ivs::app::aws
