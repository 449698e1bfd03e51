#include "app/api_server/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ivs::app::api_server {

Status write_file_atomically(const std::string& path, std::string_view text, mode_t mode) {
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  const auto failed = [&](std::string_view step) {
    const int saved = errno;
    return make_error(std::string(step) + " " + temporary + ": " + std::strerror(saved));
  };
  ::unlink(temporary.c_str());  // a leftover of a crashed run with the same pid
  const int fd =
      ::open(temporary.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    return failed("cannot create");
  }
  std::string_view rest = text;
  while (!rest.empty()) {
    const ssize_t written = ::write(fd, rest.data(), rest.size());
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      auto error = failed("cannot write");
      ::close(fd);
      ::unlink(temporary.c_str());
      return error;
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  // The umask may have narrowed `mode` (never widened it); set it exactly.
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    auto error = failed("cannot sync");
    ::close(fd);
    ::unlink(temporary.c_str());
    return error;
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    auto error = failed("cannot rename to " + path + ":");
    ::unlink(temporary.c_str());
    return error;
  }
  std::string directory = std::filesystem::path(path).parent_path().string();
  if (directory.empty()) {
    directory = ".";
  }
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
    const int saved = errno;
    if (dir_fd >= 0) {
      ::close(dir_fd);
    }
    return make_error("cannot sync directory " + directory + ": " + std::strerror(saved));
  }
  ::close(dir_fd);
  return Ok{};
}

}  // namespace ivs::app::api_server
