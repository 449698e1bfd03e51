// media-server: one executable, several roles (DESIGN.md §4 "Roles"; app/roles/roles.hpp holds the
// table). `media-server` alone is `media-server serve`.
#include <cstdio>
#include <string_view>

#include "app/roles/roles.hpp"

int main(int argc, char** argv) {
  using namespace ivs::app;
  const std::string_view first = argc > 1 ? argv[1] : "serve";
  if (first == "--help" || first == "-h" || first == "help") {
    return print_help();
  }
  if (first == "--version" || first == "-V") {
    return print_version();
  }
  if (first == "--print-config") {
    return print_config();
  }
  if (const Role* role = find_role(first)) {
    // The role sees itself as argv[0].
    return argc > 1 ? role->run(argc - 1, argv + 1) : role->run(1, argv);
  }
  std::fprintf(stderr, "media-server: unknown role or option \"%s\" (see --help)\n", argv[1]);
  return 2;
}
