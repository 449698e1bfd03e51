// The /metrics text format: what a Prometheus scraper parses must come out exactly.
#include "app/web/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <array>

namespace ivs::app {
namespace {

TEST(PrometheusText, FamilyHeaderThenSamplesWithEscapedLabels) {
  PrometheusText out;
  out.family("ivs_stage_packets_sent_total", PrometheusText::Type::kCounter,
             "RTP packets sent to a stage");
  out.sample("ivs_stage_packets_sent_total", 42, {{"stage", "arn:\"x\"\\y\nz"}});
  EXPECT_EQ(out.text(),
            "# HELP ivs_stage_packets_sent_total RTP packets sent to a stage\n"
            "# TYPE ivs_stage_packets_sent_total counter\n"
            "ivs_stage_packets_sent_total{stage=\"arn:\\\"x\\\"\\\\y\\nz\"} 42\n");
}

TEST(PrometheusText, NonIntegersAndSpecialValues) {
  PrometheusText out;
  out.sample("a", 0.25);
  out.sample("b", 1.0 / 0.0);
  out.sample("c", -3);
  EXPECT_EQ(out.text(), "a 0.25\nb +Inf\nc -3\n");
}

TEST(PrometheusText, HistogramBucketsAreCumulativeWithInf) {
  PrometheusText out;
  const std::array<double, 2> bounds{0.001, 0.005};
  const std::array<std::uint64_t, 3> counts{3, 2, 1};
  out.histogram("fwd_seconds", bounds, counts, 0.02, {{"kind", "video"}});
  EXPECT_EQ(out.text(),
            "fwd_seconds_bucket{kind=\"video\",le=\"0.001\"} 3\n"
            "fwd_seconds_bucket{kind=\"video\",le=\"0.005\"} 5\n"
            "fwd_seconds_bucket{kind=\"video\",le=\"+Inf\"} 6\n"
            "fwd_seconds_sum{kind=\"video\"} 0.02\n"
            "fwd_seconds_count{kind=\"video\"} 6\n");
}

}  // namespace
}  // namespace ivs::app
