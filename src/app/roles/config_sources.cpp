// Where a configuration value comes from: the environment, `.env`, the table's default, or, for
// a secret, a file named by <NAME>_FILE (issue 13 item 10: Docker and Kubernetes deliver secrets
// as mounted files, and a value read from a file never shows in `ps e`, `docker inspect` or the
// pod spec the way an environment variable does).
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "app/roles/config.hpp"

namespace ivs::app {
namespace {

// Larger than any token; a bigger file is a wrong path (a log, a certificate bundle).
constexpr std::size_t kMaxSecretFileBytes = std::size_t{64} * 1024;

Result<std::string> read_secret_file(std::string_view file_variable, const std::string& path) {
  const std::string named = "configuration: " + std::string(file_variable) + "=" + path;
  if (path.empty()) {
    return make_error(named + " names no file; give the path of the mounted secret or unset it");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return make_error(named + " cannot be read (" + std::strerror(errno) +
                      "); mount the secret there or unset the variable");
  }
  std::string contents;
  contents.resize(kMaxSecretFileBytes + 1);
  file.read(contents.data(), static_cast<std::streamsize>(contents.size()));
  contents.resize(static_cast<std::size_t>(file.gcount()));
  if (contents.size() > kMaxSecretFileBytes) {
    return make_error(named + " is larger than 64 KiB; it should hold the secret alone");
  }
  // `echo token > file` and most editors end the file with a newline that is not the secret's.
  while (!contents.empty() && (contents.back() == '\n' || contents.back() == '\r')) {
    contents.pop_back();
  }
  return contents;
}

// The value `variable` gets from one layer (environment or .env), if that layer sets it.
Result<std::optional<Config::Effective>> layer_value(const ConfigVariable& variable,
                                                     const Environment& layer, ValueSource source) {
  const auto direct = layer.find(variable.name);
  if (!variable.secret) {
    if (direct == layer.end()) {
      return std::optional<Config::Effective>();
    }
    return std::optional<Config::Effective>(Config::Effective{direct->second, source});
  }
  const std::string file_variable = std::string(variable.name) + "_FILE";
  const auto from_file = layer.find(file_variable);
  if (direct != layer.end() && from_file != layer.end()) {
    return make_error("configuration: both " + std::string(variable.name) + " and " +
                      file_variable + " are set; keep one of them");
  }
  if (direct != layer.end()) {
    return std::optional<Config::Effective>(Config::Effective{direct->second, source});
  }
  if (from_file == layer.end()) {
    return std::optional<Config::Effective>();
  }
  Result<std::string> contents = read_secret_file(file_variable, from_file->second);
  if (!contents) {
    return contents.error();
  }
  return std::optional<Config::Effective>(
      Config::Effective{std::move(*contents), ValueSource::secret_file});
}

}  // namespace

Result<Config::Effective> effective_value(const ConfigVariable& variable,
                                          const Environment& environment,
                                          const Environment& dotenv) {
  for (const auto& [layer, source] : {std::pair{&environment, ValueSource::environment},
                                      std::pair{&dotenv, ValueSource::dotenv}}) {
    Result<std::optional<Config::Effective>> found = layer_value(variable, *layer, source);
    if (!found) {
      return found.error();
    }
    if (*found) {
      return std::move(**found);
    }
  }
  return Config::Effective{std::string(variable.default_value), ValueSource::default_value};
}

}  // namespace ivs::app
