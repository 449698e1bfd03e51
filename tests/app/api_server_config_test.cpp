// The api-server role's configuration: defaults, required secrets, and the one-line errors that
// name the variable without printing a secret.
#include <gtest/gtest.h>

#include "app/api_server/api_server_config.hpp"

namespace ivs::app::api_server {
namespace {

Environment minimal() {
  return Environment{{"API_SECRET_KEY", "key"}, {"MEDIA_SERVER_SECRET", "secret"}};
}

TEST(ApiServerConfigTest, DefaultsMatchTheDocumentation) {
  auto config = load_api_server_config(minimal());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->port, 3000);
  EXPECT_EQ(config->bind_address, "0.0.0.0");
  EXPECT_EQ(config->rate_limit_per_ip, 100.0);
  EXPECT_EQ(config->aws_region, "us-east-1");
  EXPECT_EQ(config->aws_account_id, "123456789012");
  EXPECT_EQ(config->whip_url_base, "http://127.0.0.1:3002/whip");
  EXPECT_EQ(config->token_duration, std::chrono::minutes(720));
  EXPECT_TRUE(config->initial_stage_names.empty());
  // Issue 13 item 14: the key and the stages survive a restart unless told otherwise.
  EXPECT_EQ(config->data_dir, "api-server-data");
  EXPECT_EQ(config->token_key_file, "api-server-data/token-key.pem");
  EXPECT_EQ(config->state_file, "api-server-data/state.json");
}

TEST(ApiServerConfigTest, AnEmptyDataDirKeepsEverythingInMemoryAndFilesWin) {
  auto env = minimal();
  env["API_DATA_DIR"] = "";
  auto config = load_api_server_config(env);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(config->token_key_file.empty());
  EXPECT_TRUE(config->state_file.empty());
  env["API_DATA_DIR"] = "/var/lib/api";
  env["API_STATE_FILE"] = "/elsewhere/stages.json";
  config = load_api_server_config(env);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->token_key_file, "/var/lib/api/token-key.pem");
  EXPECT_EQ(config->state_file, "/elsewhere/stages.json");
}

TEST(ApiServerConfigTest, SecretsAreRequiredAndNeverEchoed) {
  auto env = minimal();
  env["API_SECRET_KEY"] = "";
  auto config = load_api_server_config(env);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("API_SECRET_KEY"), std::string::npos);
  env = minimal();
  env.erase("MEDIA_SERVER_SECRET");
  config = load_api_server_config(env);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("MEDIA_SERVER_SECRET"), std::string::npos);
  EXPECT_EQ(config.error().message.find("key"), std::string::npos);
}

TEST(ApiServerConfigTest, EnvironmentWinsOverDotenv) {
  auto config =
      load_api_server_config(minimal(), Environment{{"PORT", "4000"}, {"API_SECRET_KEY", "other"}});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->port, 4000);
  EXPECT_EQ(config->api_secret_key, "key");
}

TEST(ApiServerConfigTest, InitialStagesAreACountOrNames) {
  auto env = minimal();
  env["API_INITIAL_STAGES"] = "3";
  EXPECT_EQ(load_api_server_config(env)->initial_stage_names.size(), 3u);
  env["API_INITIAL_STAGES"] = "lobby,main_2,over-flow";
  EXPECT_EQ(load_api_server_config(env)->initial_stage_names,
            (std::vector<std::string>{"lobby", "main_2", "over-flow"}));
  for (const char* bad : {"a,,b", "has space", "1000", "a,"}) {
    env["API_INITIAL_STAGES"] = bad;
    auto config = load_api_server_config(env);
    ASSERT_FALSE(config.ok()) << bad;
    EXPECT_NE(config.error().message.find("API_INITIAL_STAGES"), std::string::npos);
  }
}

TEST(ApiServerConfigTest, BadValuesNameTheVariable) {
  const std::pair<const char*, const char*> cases[] = {
      {"PORT", "70000"},
      {"AWS_ACCOUNT_ID", "12345"},
      {"AWS_REGION", "US East"},
      {"API_TOKEN_DURATION_MINUTES", "0"},
      {"API_TOKEN_DURATION_MINUTES", "20161"},
      {"STAGE_WHIP_URL_BASE", "ftp://x"},
      {"LOG_LEVEL", "loud"},
      {"API_RATE_LIMIT", "-1"},
      {"API_RATE_LIMIT", "fast"},
  };
  for (const auto& [name, value] : cases) {
    auto env = minimal();
    env[name] = value;
    auto config = load_api_server_config(env);
    ASSERT_FALSE(config.ok()) << name;
    EXPECT_EQ(config.error().message.rfind(std::string("configuration: ") + name, 0), 0u)
        << config.error().message;
  }
}

// The fan-out benchmark stopped at its first stage count: it creates stages from 127.0.0.1 while
// the media server asks for their tokens from the same address, and the API server's limit of
// 100 requests/s per address was fixed in code. It is API_RATE_LIMIT now; 0 turns it off.
TEST(ApiServerConfigTest, RateLimitIsConfigurableAndZeroMeansNone) {
  auto env = minimal();
  env["API_RATE_LIMIT"] = "0";
  EXPECT_EQ(load_api_server_config(env)->rate_limit_per_ip, 0.0);
  env["API_RATE_LIMIT"] = "2500";
  EXPECT_EQ(load_api_server_config(env)->rate_limit_per_ip, 2500.0);
}

TEST(ApiServerConfigTest, WhipUrlBaseLosesTrailingSlashes) {
  auto env = minimal();
  env["STAGE_WHIP_URL_BASE"] = "http://stage.local:3002/whip/";
  EXPECT_EQ(load_api_server_config(env)->whip_url_base, "http://stage.local:3002/whip");
}

TEST(ApiServerConfigTest, HelpListsEveryVariable) {
  const auto help = format_api_server_help();
  for (const auto& variable : api_server_variables()) {
    EXPECT_NE(help.find(std::string(variable.name)), std::string::npos) << variable.name;
  }
}

}  // namespace
}  // namespace ivs::app::api_server

namespace ivs::app::api_server {
namespace {

// Issue 13, item 8: the API server accepted 1-character secrets in production.
TEST(ApiServerConfigTest, ProductionSecretsNeedSixteenCharacters) {
  auto config = load_api_server_config(
      {{"NODE_ENV", "production"}, {"API_SECRET_KEY", "k"}, {"MEDIA_SERVER_SECRET", "m"}});
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("API_SECRET_KEY"), std::string::npos);
  EXPECT_NE(config.error().message.find("at least 16"), std::string::npos);
  EXPECT_TRUE(load_api_server_config({{"NODE_ENV", "production"},
                                      {"API_SECRET_KEY", "0123456789abcdef"},
                                      {"MEDIA_SERVER_SECRET", "0123456789abcdeF"}}));
  EXPECT_TRUE(load_api_server_config({{"API_SECRET_KEY", "k"}, {"MEDIA_SERVER_SECRET", "m"}}));
}

}  // namespace
}  // namespace ivs::app::api_server
