// Placeholder until the role lands (a few hours at most); keeps main.cpp linkable.
#include "app/api_server/api_server_role.hpp"

#include <cstdio>

namespace ivs::app {

int run_api_server(int, char**) {
  std::fprintf(stderr, "api-server: not built yet\n");
  return 2;
}

}  // namespace ivs::app
