// Prometheus text exposition writer; see prometheus_text.hpp.
#include "app/web/prometheus_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace ivs::app {

namespace {

const char* type_name(PrometheusText::Type type) {
  switch (type) {
    case PrometheusText::Type::kCounter:
      return "counter";
    case PrometheusText::Type::kGauge:
      return "gauge";
    case PrometheusText::Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// Integers print without a fraction so counters read naturally; NaN and infinities use the format's
// spellings.
std::string format_value(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  char buffer[64];
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(buffer, sizeof(buffer), "%.0f", value);
    return buffer;
  }
  // The shortest text that reads back as the same double (0.005, not 0.0050000000000000001).
  // Fixed notation while it stays short, so bucket bounds read 0.00005 rather than 5e-05.
  const bool fixed = std::fabs(value) >= 1e-9 && std::fabs(value) < 1e15;
  const auto written =
      fixed ? std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed)
            : std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, written.ptr);
}

void append_labels(std::string& out, const MetricLabels& labels, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) {
    return;
  }
  out += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    out += first ? "" : ",";
    first = false;
    out += name;
    out += "=\"";
    out += PrometheusText::escape_label_value(value);
    out += '"';
  }
  if (!extra_name.empty()) {
    out += first ? "" : ",";
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

}  // namespace

std::string PrometheusText::escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void PrometheusText::family(std::string_view name, Type type, std::string_view help) {
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  for (const char c : help) {  // HELP escapes only backslash and newline
    text_ += c == '\n' ? std::string("\\n") : c == '\\' ? std::string("\\\\") : std::string(1, c);
  }
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type_name(type);
  text_ += '\n';
}

void PrometheusText::sample(std::string_view name, double value, const MetricLabels& labels) {
  text_ += name;
  append_labels(text_, labels);
  text_ += ' ';
  text_ += format_value(value);
  text_ += '\n';
}

void PrometheusText::histogram(std::string_view name, std::span<const double> upper_bounds,
                               std::span<const std::uint64_t> counts, double sum,
                               const MetricLabels& labels) {
  std::uint64_t cumulative = 0;
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i <= upper_bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    text_ += bucket;
    append_labels(text_, labels, "le",
                  i < upper_bounds.size() ? format_value(upper_bounds[i]) : "+Inf");
    text_ += ' ';
    text_ += format_value(static_cast<double>(cumulative));
    text_ += '\n';
  }
  sample(std::string(name) + "_sum", sum, labels);
  sample(std::string(name) + "_count", static_cast<double>(cumulative), labels);
}

}  // namespace ivs::app
