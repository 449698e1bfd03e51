// Access to the checked-in fixtures under testdata/ (captured SDP, RFC vectors).
#pragma once

#include <string>

namespace ivs::test {

// Absolute path of a file below testdata/, e.g. testdata_path("sdp/chromium-offer.sdp").
std::string testdata_path(const std::string& relative);

// Whole contents of a file below testdata/; fails the current test if it cannot be read.
std::string read_testdata(const std::string& relative);

}  // namespace ivs::test
