// The roles of the one `media-server` binary (DESIGN.md §4 "Roles") and the shared start-up
// path every role uses: read `.env` + environment, validate, set up logging. main.cpp only
// dispatches on the role table.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "app/roles/config.hpp"

namespace ivs::app {

struct Role {
  std::string_view name;
  std::string_view summary;
  int (*run)(int argc, char** argv);  // argv[0] is the role name
};

std::span<const Role> roles();
const Role* find_role(std::string_view name);

// `.env` (working directory) + process environment → Config, or prints the one-line error to
// stderr and returns nullopt (the caller exits with code 2).
std::optional<Config> load_config_or_report();

int run_serve_role(int argc, char** argv);
int print_help();
int print_version();
int print_config();

}  // namespace ivs::app
