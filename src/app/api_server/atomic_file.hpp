// Crash-safe, permission-safe file replacement for the API server's signing key and state file
// (issue 13, item 8: the key file used to be created with default permissions, chmod-ed
// afterwards and never fsync-ed, so it was briefly world-readable and could be lost or torn by a
// power cut).
//
//   open(<path>.tmp.<pid>, O_CREAT|O_EXCL|O_WRONLY|O_NOFOLLOW, mode) -> write -> fchmod(mode)
//   -> fsync -> rename(<path>) -> fsync(directory)
// O_EXCL refuses to reuse a name that exists (a planted symlink is not followed); the fsyncs make
// both the content and the rename durable before the caller goes on.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "proto/result.hpp"

namespace ivs::app::api_server {

// Replaces `path` with `text`, the file having exactly `mode` (e.g. 0600) from its creation.
// Errors name the step and the file.
Status write_file_atomically(const std::string& path, std::string_view text, mode_t mode);

}  // namespace ivs::app::api_server
