#include "app/web/web_assets.hpp"

#include <array>
#include <utility>

namespace ivs::app {

std::string_view content_type_for(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
  }};
  for (const auto& [extension, type] : kTypes) {
    if (name.size() > extension.size() && name.ends_with(extension)) {
      return type;
    }
  }
  return "application/octet-stream";
}

std::optional<WebAsset> find_web_asset(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.find('/') != std::string_view::npos ||
      name.find('\\') != std::string_view::npos) {
    return std::nullopt;
  }
  for (const EmbeddedFile& file : embedded_web_assets()) {
    if (name == file.name) {
      return WebAsset{file.name,
                      std::string_view(reinterpret_cast<const char*>(file.data), file.size),
                      content_type_for(name), file.etag};
    }
  }
  return std::nullopt;
}

}  // namespace ivs::app
