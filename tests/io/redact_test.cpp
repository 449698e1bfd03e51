// io/redact.hpp: the one redaction every log line and error with a URL or a secret goes through.
#include "io/redact.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ivs::io {
namespace {

TEST(RedactUrl, HidesUserinfoQueryValuesAndFragment) {
  EXPECT_EQ(redact_url("https://user:pass@h.example:8443/whip/x?token=abc&a#frag"),
            "https://***@h.example:8443/whip/x?token=***&***#***");
  EXPECT_EQ(redact_url("http://127.0.0.1:3000/api/media/register"),
            "http://127.0.0.1:3000/api/media/register");
  EXPECT_EQ(redact_url("https://h/p?"), "https://h/p?");
  EXPECT_EQ(redact_url("https://user@h"), "https://***@h");
  EXPECT_EQ(redact_url("https://h?k=v"), "https://h?k=***");
  EXPECT_EQ(redact_url("/relative/path?secret=1"), "/relative/path?secret=***");
  EXPECT_EQ(redact_url("wss://a:b@h/ws?type=media-server"), "wss://***@h/ws?type=***");
}

TEST(RedactUrl, AnAtSignInThePathIsNotUserinfo) {
  EXPECT_EQ(redact_url("https://h/a@b?x=1"), "https://h/a@b?x=***");
}

TEST(RedactUrls, FindsEveryUrlInFreeText) {
  EXPECT_EQ(redact_urls("POST https://u:p@h/whip?t=1: connect: refused; then http://h2/?k=v"),
            "POST https://***@h/whip?t=***: connect: refused; then http://h2/?k=***");
  EXPECT_EQ(redact_urls("entry 'https://h/x?token=s' is bad"),
            "entry 'https://h/x?token=***' is bad");
  EXPECT_EQ(redact_urls("no url here :// at all"), "no url here :// at all");
  EXPECT_EQ(redact_urls(""), "");
}

TEST(RedactSecret, NeverShowsAnyPartOfTheValue) {
  EXPECT_EQ(redact_secret("hunter2"), "***");
  EXPECT_EQ(redact_secret(""), "(unset)");
}

TEST(RedactSecrets, ReplacesEveryOccurrenceThenUrls) {
  const std::vector<std::string> secrets = {"s3cret", "", "tok"};
  EXPECT_EQ(redact_secrets("s3cret and s3cret and tok at https://h/?k=tok", secrets),
            "*** and *** and *** at https://h/?k=***");
}

}  // namespace
}  // namespace ivs::io
