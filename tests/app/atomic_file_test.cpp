// api_server::write_file_atomically: the signing key file is 0600 from its first byte, written
// whole or not at all, and synced (issue 13, item 8).
#include "app/api_server/atomic_file.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ivs::app::api_server {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ivs-atomic-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// Issue 13, item 8: the key file was created with the default (umask) permissions and chmod-ed
// afterwards, so for a moment anyone could read the private key. With a permissive umask the
// file must still never be more than 0600.
TEST_F(AtomicFileTest, KeyFileIs0600EvenUnderAPermissiveUmask) {
  const mode_t old_umask = ::umask(0);
  const auto path = (dir_ / "key.pem").string();
  const auto written = write_file_atomically(path, "PRIVATE KEY", S_IRUSR | S_IWUSR);
  ::umask(old_umask);
  ASSERT_TRUE(written) << written.error().message;
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(read(path), "PRIVATE KEY");
}

TEST_F(AtomicFileTest, ReplacesWholeAndLeavesNoTemporary) {
  const auto path = (dir_ / "state.json").string();
  ASSERT_TRUE(write_file_atomically(path, "first", 0644));
  ASSERT_TRUE(write_file_atomically(path, "second, longer", 0644));
  EXPECT_EQ(read(path), "second, longer");
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) {
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(AtomicFileTest, ErrorsNameTheFile) {
  const auto path = (dir_ / "missing-dir" / "key.pem").string();
  const auto written = write_file_atomically(path, "x", 0600);
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().message.find("key.pem"), std::string::npos) << written.error().message;
}

}  // namespace
}  // namespace ivs::app::api_server
