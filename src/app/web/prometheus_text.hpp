// Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/) for GET /metrics (DESIGN.md §2.2).
//
// Why hand-written: the format is a few lines of text per metric, and the one C++ client in
// Debian (prometheus-cpp) is not packaged for bookworm; a writer that escapes label values and
// groups samples under one HELP/TYPE header is all the media server needs. The caller builds a
// fresh text on every scrape from its snapshots, so there is no registry and no global state.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ivs::app {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class PrometheusText {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  // Declares a metric family once (HELP and TYPE lines); samples follow with sample().
  void family(std::string_view name, Type type, std::string_view help);
  void sample(std::string_view name, double value, const MetricLabels& labels = {});
  // A histogram family's samples from cumulative bucket counts: `upper_bounds` ascending (the
  // +Inf bucket is added), `counts` per bucket (not cumulative), plus sum and count.
  void histogram(std::string_view name, std::span<const double> upper_bounds,
                 std::span<const std::uint64_t> counts, double sum,
                 const MetricLabels& labels = {});

  const std::string& text() const { return text_; }

  // Label values escape backslash, double quote and newline (the format's only escapes).
  static std::string escape_label_value(std::string_view value);

 private:
  std::string text_;
};

}  // namespace ivs::app
