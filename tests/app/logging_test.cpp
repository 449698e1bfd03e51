// Logging: JSON lines must stay valid JSON whatever the message holds; secrets only as hashes.
#include "app/roles/logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <boost/json/parse.hpp>

namespace ivs::app {
namespace {

std::string format_json(std::string_view message, spdlog::level::level_enum level) {
  auto formatter = make_json_formatter("media-server", "ms-\"1\"");
  spdlog::details::log_msg msg("media-server", level, message);
  spdlog::memory_buf_t out;
  formatter->format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(Logging, JsonEscapeCoversQuotesBackslashesAndControls) {
  EXPECT_EQ(json_escape("plain"), "plain");
  EXPECT_EQ(json_escape("a\"b"), "a\\\"b");
  EXPECT_EQ(json_escape("back\\slash"), "back\\\\slash");
  EXPECT_EQ(json_escape("line\nbreak\ttab\r"), "line\\nbreak\\ttab\\r");
  EXPECT_EQ(json_escape(std::string_view("\x01\x1f", 2)), "\\u0001\\u001f");
  EXPECT_EQ(json_escape("stage \xe5\x8f\xb0"), "stage \xe5\x8f\xb0");  // UTF-8 kept
}

TEST(Logging, JsonLineIsOneValidObjectWithTheFields) {
  const std::string hostile = "stage \"arn\"\nwith\\newline and \x02 control";
  const std::string line = format_json(hostile, spdlog::level::warn);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // exactly one line
  boost::system::error_code error;
  const auto value = boost::json::parse(line, error);
  ASSERT_FALSE(error) << line;
  const auto& object = value.as_object();
  EXPECT_EQ(object.at("msg").as_string(), hostile);
  EXPECT_EQ(object.at("level").as_string(), "warn");
  EXPECT_EQ(object.at("service").as_string(), "media-server");
  EXPECT_EQ(object.at("serverId").as_string(), "ms-\"1\"");
  const std::string time(object.at("time").as_string());
  EXPECT_EQ(time.size(), 24u) << time;  // 2026-01-02T03:04:05.678Z
  EXPECT_EQ(time.back(), 'Z');
}

TEST(Logging, LevelNames) {
  const auto level_of = [](spdlog::level::level_enum level) {
    return std::string(
        boost::json::parse(format_json("x", level)).as_object().at("level").as_string());
  };
  EXPECT_EQ(level_of(spdlog::level::debug), "debug");
  EXPECT_EQ(level_of(spdlog::level::info), "info");
  EXPECT_EQ(level_of(spdlog::level::err), "error");
}

TEST(Logging, SecretFingerprintIsShortStableAndHidesTheSecret) {
  const std::string token = "eyJhbGciOiJFUzM4NCJ9.payload.signature";
  const std::string fp = secret_fingerprint(token);
  EXPECT_EQ(fp.rfind("sha256:", 0), 0u);
  EXPECT_EQ(fp.size(), 7u + 8u);
  EXPECT_EQ(fp, secret_fingerprint(token));
  EXPECT_NE(fp, secret_fingerprint(token + "x"));
  EXPECT_EQ(fp.find("eyJ"), std::string::npos);
  // SHA-256("abc") starts with ba7816bf (FIPS 180-2 example).
  EXPECT_EQ(secret_fingerprint("abc"), "sha256:ba7816bf");
  EXPECT_EQ(secret_fingerprint(""), "(none)");
}

TEST(Logging, SetupRejectsUnknownLevel) {
  LoggingOptions options;
  options.level = "loud";
  EXPECT_FALSE(setup_logging(options).ok());
  options.level = "warn";
  options.format = "json";
  EXPECT_TRUE(setup_logging(options).ok());
  options.level = "debug";
  options.format = "text";
  EXPECT_TRUE(setup_logging(options).ok());
}

}  // namespace
}  // namespace ivs::app
