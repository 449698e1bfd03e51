// AWS shared config/credentials INI parser; see aws_ini.hpp for the format rules.
#include "app/aws/aws_ini.hpp"

namespace ivs::app::aws {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim_blanks(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_blank(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

// Cuts an inline comment: '#' or ';' preceded by white space.
std::string_view strip_inline_comment(std::string_view text) {
  for (std::size_t i = 1; i < text.size(); ++i) {
    if ((text[i] == '#' || text[i] == ';') && is_blank(text[i - 1])) {
      return text.substr(0, i);
    }
  }
  return text;
}

Error line_error(std::size_t line_number, std::string_view what) {
  return Error{"AWS config file line " + std::to_string(line_number) + ": " + std::string(what)};
}

struct ParserState {
  IniFile file;
  IniSection* section = nullptr;
  std::string sub_section;  // the "name" of an open "name =" block, else empty
};

Status parse_line(ParserState& state, std::string_view raw, std::size_t line_number) {
  const bool indented = !raw.empty() && is_blank(raw.front());
  const std::string_view line = trim_blanks(raw);
  if (line.empty() || line.front() == '#' || line.front() == ';') {
    return Ok{};
  }
  if (line.front() == '[') {
    const std::string_view header = trim_blanks(strip_inline_comment(line));
    if (header.size() < 2 || header.back() != ']') {
      return line_error(line_number, "a section header must end with ']'");
    }
    const std::string_view name = trim_blanks(header.substr(1, header.size() - 2));
    if (name.empty()) {
      return line_error(line_number, "a section header needs a name");
    }
    state.section = &state.file[std::string(name)];
    state.sub_section.clear();
    return Ok{};
  }
  if (state.section == nullptr) {
    return line_error(line_number, "a setting before the first [section]");
  }
  const std::size_t equals = line.find('=');
  if (equals == std::string_view::npos) {
    return line_error(line_number, "expected 'name = value'");
  }
  const std::string_view key = trim_blanks(line.substr(0, equals));
  const std::string_view value = trim_blanks(strip_inline_comment(line.substr(equals + 1)));
  if (key.empty()) {
    return line_error(line_number, "a setting needs a name before '='");
  }
  if (indented && !state.sub_section.empty()) {
    (*state.section)[state.sub_section + "." + std::string(key)] = std::string(value);
    return Ok{};
  }
  state.sub_section = value.empty() ? std::string(key) : std::string();
  (*state.section)[std::string(key)] = std::string(value);
  return Ok{};
}

}  // namespace

Result<IniFile> parse_ini(std::string_view text) {
  if (text.size() > kMaxIniBytes) {
    return Error{"AWS config file: larger than " + std::to_string(kMaxIniBytes) + " bytes"};
  }
  ParserState state;
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    ++line_number;
    if (auto status = parse_line(state, text.substr(start, end - start), line_number); !status) {
      return status.error();
    }
    start = end + 1;
  }
  return std::move(state.file);
}

}  // namespace ivs::app::aws
