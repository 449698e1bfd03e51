// Stateful fuzzing of engine::StageReconciler: fuzz-chosen desired-set changes, results (for
// current and stale attempts) and time steps. Invariants checked after every step: never more
// than max_concurrent_connects attempts in flight, the in-flight count matches the snapshot,
// and after shutdown plus enough time every stage is gone.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/stage_reconciler.hpp"

namespace {

using namespace ivs;
using namespace ivs::engine;

void check(const StageReconciler& r, std::size_t limit) {
  if (r.connecting_count() > limit || r.connecting_count() != r.count_in(StageState::connecting)) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t kLimit = 3;
  SeededRandom random(size);
  StageReconcilerOptions options;
  options.max_concurrent_connects = kLimit;
  StageReconciler r(options, random);
  Instant now{};
  std::vector<StageCommand> seen;
  auto drain = [&] {
    while (auto c = r.poll_command()) {
      seen.push_back(*c);
    }
    while (r.poll_event()) {
    }
  };
  auto arn = [](std::uint8_t b) { return "arn:" + std::to_string(b % 6); };
  for (std::size_t i = 0; i + 1 < size; i += 2) {
    const std::uint8_t op = data[i] % 10;
    const std::uint8_t arg = data[i + 1];
    // Picks one previously emitted command to answer (possibly stale).
    const StageCommand* pick = seen.empty() ? nullptr : &seen[arg % seen.size()];
    auto attempt_of = [](const StageCommand& c) {
      return std::visit([](const auto& x) { return std::make_pair(x.stage_arn, x.attempt); }, c);
    };
    switch (op) {
      case 0:
        r.add_stage(now, arn(arg));
        break;
      case 1:
        r.remove_stage(now, arn(arg));
        break;
      case 2: {
        std::vector<std::string> list;
        for (int bit = 0; bit < 6; ++bit) {
          if (arg & (1 << bit)) {
            list.push_back("arn:" + std::to_string(bit));
          }
        }
        r.replace_desired(now, list);
        break;
      }
      case 3:
        now += std::chrono::milliseconds(arg * 250);
        r.handle_timeout(now);
        break;
      case 4:
        if (pick) {
          auto [s, a] = attempt_of(*pick);
          r.handle_result(now, TokenFetched{s, a, "t", "u"});
        }
        break;
      case 5:
        if (pick) {
          auto [s, a] = attempt_of(*pick);
          r.handle_result(now, TokenFailed{s, a, "x", (arg & 1) != 0});
        }
        break;
      case 6:
        if (pick) {
          auto [s, a] = attempt_of(*pick);
          r.handle_result(now, EgressConnected{s, a, (arg & 1) != 0, ""});
        }
        break;
      case 7:
        if (pick) {
          auto [s, a] = attempt_of(*pick);
          r.handle_result(now, EgressFailed{s, a, "x"});
        }
        break;
      case 8:
        if (pick) {
          auto [s, a] = attempt_of(*pick);
          r.handle_result(now, EgressClosed{s, a});
        }
        break;
      case 9:
        if (arg == 0) {
          r.shutdown(now);
        }
        break;
    }
    drain();
    check(r, kLimit);
  }
  r.shutdown(now);
  drain();
  for (int step = 0; step < 4; ++step) {
    now += std::chrono::seconds(60);
    r.handle_timeout(now);
    drain();
  }
  if (r.stage_count() != 0) {
    std::abort();  // closing stages must be abandoned after the close timeout
  }
  return 0;
}
