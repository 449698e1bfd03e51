#include "support/testdata.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace ivs::test {

std::string testdata_path(const std::string& relative) {
  return std::string(IVS_TESTDATA_DIR) + "/" + relative;
}

std::string read_testdata(const std::string& relative) {
  std::ifstream file(testdata_path(relative), std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot open testdata/" << relative;
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

}  // namespace ivs::test
