// whep_viewers: many WHEP viewers in one process, for the viewers' benchmark
// (bench/whep_viewers.py). Each viewer is one app::WhepPullSession (the edge's WHEP client:
// recvonly offer, POST, controlling ICE, DTLS client, SRTP) on its own UDP port; every RTP packet
// it decrypts is counted per SSRC from its header (packets, gaps, as whip_sink counts stages).
//
//   whep_viewers --url http://127.0.0.1:8080/whep --count K [--token T] [--bind 127.0.0.1]
//                [--seconds S] [--stagger-ms 20]
//
// Prints one JSON line a second on stdout, cumulative since start:
//   {"t","viewers","connected","ended","packets","bytes","gaps","reasons":{"<reason>":n}}
// and exits after S seconds (default: run until SIGINT/SIGTERM). A viewer that ends (refused,
// consent lost, silence) is counted in "ended" with its reason and not replaced: the benchmark
// wants every viewer it asked for, and says so when it did not get them.
//
// Why our own client rather than browsers: a benchmark of the server's per-viewer cost needs
// hundreds of viewers that cost little next to the server; Chromium's interop with the same
// endpoint is tests/interop/test_serve_ingest_whep.py.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/ingest/whep_pull_session.hpp"
#include "io/clock.hpp"
#include "proto/rtp_packet.hpp"
#include "ssrc_counter.hpp"
#include "tool_options.hpp"

namespace {

using namespace ivs;
namespace asio = boost::asio;

struct Totals {
  std::uint64_t connected = 0;
  std::uint64_t ended = 0;
  std::map<std::string, std::uint64_t> reasons;
};

// One viewer: its session and what it received.
class Viewer final : public app::WhepPullListener {
 public:
  Viewer(asio::io_context& io, const app::WhepPullOptions& options,
         std::shared_ptr<const engine::DtlsCertificate> certificate, Totals& totals)
      : totals_(totals),
        session_(
            std::make_unique<app::WhepPullSession>(io, options, std::move(certificate), *this)) {}

  void on_pull_connected(Instant /*now*/, const engine::NegotiatedMedia& /*media*/,
                         engine::RelaySink& /*feedback*/, const std::string& /*remote*/) override {
    ++totals_.connected;
    connected_ = true;
  }
  void on_pull_media(Instant /*now*/, engine::MediaKind /*kind*/, ByteSpan packet) override {
    const auto view = proto::parse_rtp(packet);
    if (!view) {
      return;
    }
    auto& counter = ssrcs_[view->ssrc];
    counter.ssrc = view->ssrc;
    counter.count(view->sequence_number, packet.size());
  }
  void on_pull_rtcp(Instant /*now*/, std::span<const proto::RtcpPacket> /*packets*/) override {}
  void on_pull_ended(const std::string& reason,
                     std::optional<std::chrono::seconds> /*retry_after*/) override {
    ++totals_.ended;
    if (connected_) {
      --totals_.connected;
      connected_ = false;
    }
    ++totals_.reasons[reason.substr(0, 80)];
    session_.reset();  // the listener may destroy the session here (the call is posted)
  }

  void close() {
    if (session_) {
      session_->close();
    }
  }
  void add_to(std::uint64_t& packets, std::uint64_t& bytes, std::uint64_t& gaps) const {
    for (const auto& [ssrc, counter] : ssrcs_) {
      packets += counter.packets;
      bytes += counter.bytes;
      gaps += counter.gaps();
    }
  }

 private:
  Totals& totals_;
  std::unique_ptr<app::WhepPullSession> session_;
  bool connected_ = false;
  std::map<std::uint32_t, tools::SsrcCounter> ssrcs_;
};

void print_totals(double seconds, const std::vector<std::unique_ptr<Viewer>>& viewers,
                  const Totals& totals) {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint64_t gaps = 0;
  for (const auto& viewer : viewers) {
    viewer->add_to(packets, bytes, gaps);
  }
  boost::json::object reasons;
  for (const auto& [reason, count] : totals.reasons) {
    reasons[reason] = count;
  }
  boost::json::object line{
      {"t", seconds},          {"viewers", viewers.size()}, {"connected", totals.connected},
      {"ended", totals.ended}, {"packets", packets},        {"bytes", bytes},
      {"gaps", gaps},          {"reasons", reasons}};
  std::cout << boost::json::serialize(line) << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  const tools::ToolOptions options = tools::parse_tool_options(argc, argv);
  const std::string url = tools::tool_option(options, "url", "");
  if (url.empty()) {
    std::cerr << "usage: whep_viewers --url URL --count K [--token T] [--bind IP] [--seconds S]"
                 " [--stagger-ms MS]\n";
    return 2;
  }
  const std::size_t count = std::stoul(tools::tool_option(options, "count", "1"));
  const double seconds = std::stod(tools::tool_option(options, "seconds", "0"));
  const auto stagger =
      std::chrono::milliseconds(std::stoi(tools::tool_option(options, "stagger-ms", "20")));

  asio::io_context io;
  auto certificate = engine::DtlsCertificate::generate(io::wall_now());
  if (!certificate) {
    std::cerr << "DTLS certificate: " << certificate.error().message << "\n";
    return 1;
  }
  app::WhepPullOptions pull;
  pull.url = url;
  pull.token = tools::tool_option(options, "token", "");
  pull.bind_ip = tools::tool_option(options, "bind", "127.0.0.1");
  pull.silence_timeout = std::chrono::seconds(5);  // a loaded server may pause a moment

  Totals totals;
  std::vector<std::unique_ptr<Viewer>> viewers;
  viewers.reserve(count);
  // Viewers join one by one, `stagger` apart, as an audience does (and within the server's
  // connecting-session quotas).
  asio::steady_timer join_timer(io);
  std::function<void()> join_next = [&] {
    if (viewers.size() >= count) {
      return;
    }
    viewers.push_back(std::make_unique<Viewer>(io, pull, *certificate, totals));
    join_timer.expires_after(stagger);
    join_timer.async_wait([&](auto error) {
      if (!error) {
        join_next();
      }
    });
  };
  join_next();

  const Instant started = io::monotonic_now();
  asio::steady_timer report_timer(io);
  std::function<void()> report = [&] {
    report_timer.expires_after(std::chrono::seconds(1));
    report_timer.async_wait([&](auto error) {
      if (error) {
        return;
      }
      const double elapsed = std::chrono::duration<double>(io::monotonic_now() - started).count();
      print_totals(elapsed, viewers, totals);
      if (seconds > 0 && elapsed >= seconds) {
        io.stop();
        return;
      }
      report();
    });
  };
  report();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { io.stop(); });
  io.run();
  for (auto& viewer : viewers) {
    viewer->close();
  }
  return 0;
}
