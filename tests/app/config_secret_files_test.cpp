// Secrets from files (issue 13 item 10): every secret variable NAME can be given as
// NAME_FILE=<path>, the way Docker and Kubernetes mount secrets; the API server's table too.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "app/api_server/api_server_config.hpp"
#include "app/roles/config.hpp"

namespace ivs::app {
namespace {

class SecretFiles : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& contents) {
    const std::filesystem::path path = directory_ / name;
    std::ofstream(path, std::ios::binary) << contents;
    return path.string();
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::filesystem::path directory_ = [] {
    auto path = std::filesystem::path(::testing::TempDir()) /
                ("secret-files-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(path);
    return path;
  }();
};

TEST_F(SecretFiles, ASecretIsReadFromItsFileWithoutTheTrailingNewline) {
  auto config = load_config({{"WHIP_INGEST_TOKEN_FILE", write("ingest", "from-a-file-0123\n")},
                             {"API_SECRET_KEY_FILE", write("api", "api-key-0123456789\r\n")}});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->whip_ingest_token, "from-a-file-0123");
  EXPECT_EQ(config->api_secret_key, "api-key-0123456789");
  EXPECT_EQ(config->effective.at("WHIP_INGEST_TOKEN").source, ValueSource::secret_file);
  const std::string printed = format_effective_config(*config);
  EXPECT_NE(printed.find("WHIP_INGEST_TOKEN=***  # file"), std::string::npos) << printed;
  EXPECT_EQ(printed.find("from-a-file"), std::string::npos) << "never printed";
}

TEST_F(SecretFiles, AFileInDotenvCountsAsDotenvAndTheEnvironmentStillWins) {
  auto config = load_config({{"WHEP_TOKEN", "from-the-environment"}},
                            {{"WHEP_TOKEN_FILE", write("whep", "from-dotenv-file")},
                             {"ADMIN_TOKEN_FILE", write("admin", "admin-from-file")}});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->whep_token, "from-the-environment");
  EXPECT_EQ(config->admin_token, "admin-from-file");
}

TEST_F(SecretFiles, BothTheValueAndItsFileInOneLayerIsAnError) {
  auto config = load_config(
      {{"WHIP_INGEST_TOKEN", "direct"}, {"WHIP_INGEST_TOKEN_FILE", write("ingest", "file")}});
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("both WHIP_INGEST_TOKEN and WHIP_INGEST_TOKEN_FILE"),
            std::string::npos)
      << config.error().message;
}

TEST_F(SecretFiles, AMissingFileNamesTheVariableAndThePath) {
  const std::string missing = (directory_ / "not-mounted").string();
  auto config = load_config({{"MEDIA_SERVER_SECRET_FILE", missing}});
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("MEDIA_SERVER_SECRET_FILE=" + missing), std::string::npos)
      << config.error().message;
  EXPECT_NE(config.error().message.find("No such file"), std::string::npos);
}

TEST_F(SecretFiles, AnOversizedFileIsRefused) {
  auto config =
      load_config({{"WHIP_INGEST_TOKEN_FILE", write("big", std::string(70 * 1024, 'x'))}});
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("64 KiB"), std::string::npos);
}

TEST_F(SecretFiles, NonSecretVariablesHaveNoFileForm) {
  auto config = load_config({{"PORT_FILE", write("port", "4000")}});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->port, 3001) << "PORT_FILE is not a variable; PORT keeps its default";
}

TEST_F(SecretFiles, ProductionLengthRulesApplyToValuesFromFiles) {
  auto config = load_config({{"NODE_ENV", "production"},
                             {"API_SECRET_KEY_FILE", write("api", "short\n")},
                             {"MEDIA_SERVER_SECRET", "0123456789abcdef"}});
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("API_SECRET_KEY is 5 characters"), std::string::npos)
      << config.error().message;
}

TEST_F(SecretFiles, TheApiServerReadsItsSecretsFromFilesToo) {
  auto config =
      api_server::load_api_server_config({{"API_SECRET_KEY_FILE", write("api", "api-from-file\n")},
                                          {"MEDIA_SERVER_SECRET", "media-secret"}});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->api_secret_key, "api-from-file");
}

}  // namespace
}  // namespace ivs::app
