// The web pages the binaries serve themselves (issue 5: dashboard on the media server, /publish,
// the stage role's viewer page): plain HTML/JS/CSS from web/, embedded at build time by
// cmake/embed_web.cmake so a binary needs no files next to it.
//
// Why an ETag per file, computed at build time: the file names carry no content hash (there is
// no build step for the pages), so the routes send `Cache-Control: no-cache` and browsers
// revalidate with If-None-Match; an unchanged file costs a 304 and a new binary's files are
// never served stale.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace ivs::app {

// One file as the generated source stores it (constant-initialised, no static-init order
// concerns).
struct EmbeddedFile {
  const char* name;  // file name under web/, e.g. "dashboard.js"
  const unsigned char* data;
  std::size_t size;
  const char* etag;  // quoted strong validator, e.g. "\"3fa2...\""
};

// Defined in the generated web_assets_data.cpp.
std::span<const EmbeddedFile> embedded_web_assets();

struct WebAsset {
  std::string_view name;
  std::string_view bytes;
  std::string_view content_type;
  std::string_view etag;
};

// The asset called `name` ("dashboard.html"), or nothing. Names are flat: anything with a slash,
// a backslash or a leading dot is never found.
std::optional<WebAsset> find_web_asset(std::string_view name);

// The Content-Type for a file name by extension; text types carry charset=utf-8, unknown
// extensions are application/octet-stream.
std::string_view content_type_for(std::string_view name);

}  // namespace ivs::app
