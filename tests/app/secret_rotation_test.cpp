// Rotating secrets without a restart (issue 13 item 10): a rotated token works at once, its
// previous value until the grace period ends, and the reload says what it rotated and what
// needs a restart. Time is simulated.
#include <gtest/gtest.h>

#include "app/roles/config.hpp"
#include "app/roles/secret_reload.hpp"
#include "app/web/rotating_secret.hpp"
#include "app/web/whip_routes.hpp"

namespace ivs::app {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const Instant kStart = Instant{} + std::chrono::hours(1);

TEST(RotatingSecret, ThePreviousValueWorksUntilTheGraceEnds) {
  RotatingSecret secret("old-token");
  EXPECT_TRUE(secret.matches("old-token", kStart));
  secret.rotate("new-token", kStart, minutes(10));
  EXPECT_TRUE(secret.matches("new-token", kStart));
  EXPECT_TRUE(secret.matches("old-token", kStart + minutes(10) - seconds(1)));
  EXPECT_TRUE(secret.in_grace(kStart + minutes(9)));
  EXPECT_FALSE(secret.matches("old-token", kStart + minutes(10)));
  EXPECT_FALSE(secret.in_grace(kStart + minutes(10)));
  EXPECT_TRUE(secret.matches("new-token", kStart + minutes(60)));
  EXPECT_FALSE(secret.matches("other", kStart));
}

// The API server's keys are checked through RotatingSecret (its own hash-then-compare helper was
// left unused when rotation came): an unset secret must still never open the door, nor a
// prefix of the real one.
TEST(RotatingSecret, AnEmptySecretNeverMatchesAndNeitherDoesAPrefix) {
  RotatingSecret unset("");
  EXPECT_FALSE(unset.matches("", kStart));
  RotatingSecret secret("abc-token");
  EXPECT_FALSE(secret.matches("abc", kStart));
  EXPECT_FALSE(secret.matches("abc-token-and-more", kStart));
  secret.rotate("", kStart, minutes(10));
  EXPECT_FALSE(secret.matches("", kStart + seconds(1)));
}

TEST(RotatingSecret, OnlyTheLastPreviousValueIsKept) {
  RotatingSecret secret("a-token");
  secret.rotate("b-token", kStart, minutes(10));
  secret.rotate("c-token", kStart + seconds(1), minutes(10));
  EXPECT_FALSE(secret.matches("a-token", kStart + seconds(2)));
  EXPECT_TRUE(secret.matches("b-token", kStart + seconds(2)));
  EXPECT_TRUE(secret.matches("c-token", kStart + seconds(2)));
}

TEST(RotatingSecret, RotatingToTheSameValueKeepsTheGraceAsItWas) {
  RotatingSecret secret("a-token");
  secret.rotate("b-token", kStart, minutes(10));
  secret.rotate("b-token", kStart + minutes(5), minutes(10));  // a SIGHUP that changed nothing
  EXPECT_TRUE(secret.matches("a-token", kStart + minutes(9)));
  EXPECT_FALSE(secret.matches("a-token", kStart + minutes(10)));
}

TEST(RotatingSecret, AnEmptySecretMatchesNothingAndZeroGraceEndsTheOldAtOnce) {
  RotatingSecret unset;
  EXPECT_FALSE(unset.matches("", kStart));
  RotatingSecret secret("a-token");
  secret.rotate("b-token", kStart, Duration::zero());
  EXPECT_FALSE(secret.matches("a-token", kStart));
  secret.rotate("", kStart + seconds(1), minutes(1));
  EXPECT_TRUE(secret.empty());
  EXPECT_FALSE(secret.matches("", kStart + seconds(1)));
}

io::HttpRequest post_with(const std::string& token) {
  io::HttpRequest request{io::http::verb::post, "/whip", 11};
  request.set(io::http::field::authorization, "Bearer " + token);
  return request;
}

TEST(RotatingSecret, TheBearerCheckFollowsARotation) {
  auto secret = std::make_shared<RotatingSecret>("old-token-0123456");
  Instant now = kStart;
  auto authorize = bearer_authorizer(secret, "WHIP_INGEST_TOKEN", true, [&] { return now; });
  EXPECT_FALSE(authorize(post_with("old-token-0123456"), {}));
  secret->rotate("new-token-0123456", now, minutes(10));
  EXPECT_FALSE(authorize(post_with("new-token-0123456"), {}));
  EXPECT_FALSE(authorize(post_with("old-token-0123456"), {}));
  now += minutes(10);
  EXPECT_EQ(authorize(post_with("old-token-0123456"), {})->result(),
            io::http::status::unauthorized);
  EXPECT_FALSE(authorize(post_with("new-token-0123456"), {}));
}

Config loaded(const Environment& environment) {
  auto config = load_config(environment);
  EXPECT_TRUE(config) << config.error().message;
  return *config;
}

TEST(SecretReload, RotatesWhatChangedAndNamesWhatNeedsARestart) {
  Config running = loaded({{"WHIP_INGEST_TOKEN", "ingest-1"}, {"API_SECRET_KEY", "api-1"}});
  ServerSecrets secrets = secrets_from_config(running);
  EXPECT_TRUE(secrets.admin_token->matches("ingest-1", kStart)) << "ADMIN_TOKEN unset";
  const Config fresh = loaded({{"WHIP_INGEST_TOKEN", "ingest-2"},
                               {"API_SECRET_KEY", "api-2"},
                               {"ADMIN_TOKEN", "admin-1"},
                               {"PORT", "4000"}});
  const SecretReload report = reload_secrets(secrets, running, fresh, kStart, minutes(10));
  EXPECT_EQ(report.rotated,
            (std::vector<std::string>{"API_SECRET_KEY", "WHIP_INGEST_TOKEN", "ADMIN_TOKEN"}));
  EXPECT_EQ(report.need_restart, std::vector<std::string>{"PORT"});
  EXPECT_TRUE(report.api_credentials_changed);
  EXPECT_TRUE(secrets.ingest_token->matches("ingest-2", kStart));
  EXPECT_TRUE(secrets.ingest_token->matches("ingest-1", kStart + minutes(9)));
  EXPECT_TRUE(secrets.admin_token->matches("admin-1", kStart));
  EXPECT_EQ(secrets.api_key->current(), "api-2");
  EXPECT_FALSE(secrets.api_key->matches("api-1", kStart)) << "a sent secret has no grace";
  EXPECT_EQ(running.whip_ingest_token, "ingest-2");
  EXPECT_EQ(running.port, 3001) << "the running port stays what the listener uses";
}

TEST(SecretReload, NothingChangedRotatesNothing) {
  Config running = loaded({{"WHEP_TOKEN", "whep-1"}});
  ServerSecrets secrets = secrets_from_config(running);
  const SecretReload report =
      reload_secrets(secrets, running, loaded({{"WHEP_TOKEN", "whep-1"}}), kStart, minutes(10));
  EXPECT_TRUE(report.rotated.empty());
  EXPECT_TRUE(report.need_restart.empty());
  EXPECT_FALSE(report.api_credentials_changed);
  EXPECT_FALSE(secrets.whep_token->in_grace(kStart));
}

TEST(SecretReload, AwsKeysAreReadOnlyAtStart) {
  Config running = loaded({});
  ServerSecrets secrets = secrets_from_config(running);
  const SecretReload report = reload_secrets(
      secrets, running, loaded({{"AWS_SECRET_ACCESS_KEY", "changed"}}), kStart, minutes(10));
  EXPECT_TRUE(report.rotated.empty());
  EXPECT_EQ(report.need_restart, std::vector<std::string>{"AWS_SECRET_ACCESS_KEY"});
}

// What SIGHUP may change is marked in the configuration table: the TLS files are handed to the
// listener (reported apart from the secrets), a secret read only at start needs a restart.
TEST(SecretReload, TlsFilesAreReloadableAndOtherSecretsNeedARestart) {
  Config running =
      loaded({{"TLS_CERT_FILE", "/etc/ivs/a.pem"}, {"TLS_KEY_FILE", "/etc/ivs/a.key"}});
  ServerSecrets secrets = secrets_from_config(running);
  const SecretReload report = reload_secrets(secrets, running,
                                             loaded({{"TLS_CERT_FILE", "/etc/ivs/b.pem"},
                                                     {"TLS_KEY_FILE", "/etc/ivs/a.key"},
                                                     {"INGEST_PULL_TOKEN", "pulled-from-a-file"}}),
                                             kStart, minutes(10));
  EXPECT_EQ(report.reloadable, std::vector<std::string>{"TLS_CERT_FILE"});
  EXPECT_EQ(report.need_restart, std::vector<std::string>{"INGEST_PULL_TOKEN"});
  EXPECT_TRUE(report.rotated.empty());
}

}  // namespace
}  // namespace ivs::app
