// The test tools' command lines (whip_sink, whep_viewers, webrtc_peer): "--name value" pairs
// after the program name (and, for webrtc_peer, its mode), read into a map.
#pragma once

#include <map>
#include <string>

namespace ivs::tools {

using ToolOptions = std::map<std::string, std::string>;

// The pairs from argv[first] on; a trailing name without a value is ignored.
inline ToolOptions parse_tool_options(int argc, char** argv, int first = 1) {
  ToolOptions options;
  for (int i = first; i + 1 < argc; i += 2) {
    options[std::string(argv[i]).substr(2)] = argv[i + 1];
  }
  return options;
}

inline std::string tool_option(const ToolOptions& options, const std::string& name,
                               const std::string& fallback) {
  const auto found = options.find(name);
  return found == options.end() ? fallback : found->second;
}

}  // namespace ivs::tools
