// Fuzzes SHARD_PEERS parsing and the stage ownership built on it (docs/scale-out.md): arbitrary
// text either parses into host:port entries or is refused with a message naming the entry; over
// the parsed peers, every stage key has exactly one owner among them, each peer's own
// ShardOwnership agrees on it, and removing a peer moves only the stages it owned.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "app/control/shard_peers.hpp"
#include "engine/shard_ownership.hpp"

using namespace ivs;

namespace {

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // "<SHARD_PEERS value>|<stage>|<stage>..."
  const std::size_t bar = text.find('|');
  auto peers = app::parse_shard_peers(text.substr(0, bar));
  if (!peers) {
    check(!peers.error().message.empty());
    return 0;
  }
  for (const std::string& peer : *peers) {
    const std::size_t colon = peer.rfind(':');
    check(colon != std::string::npos && colon > 0 && colon + 1 < peer.size());
  }
  if (peers->empty() || peers->size() > 16) {
    return 0;
  }
  std::vector<std::string> stages;
  std::string_view rest = bar == std::string_view::npos ? std::string_view() : text.substr(bar + 1);
  while (!rest.empty() && stages.size() < 64) {
    const std::size_t next = rest.find('|');
    stages.emplace_back(rest.substr(0, next));
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
  }
  const Instant now{};
  std::vector<engine::ShardOwnership> views;
  for (const std::string& peer : *peers) {
    views.emplace_back(peer, std::chrono::seconds(5));
    views.back().set_peers(now, *peers);
  }
  std::vector<std::string> fewer(peers->begin() + 1, peers->end());
  for (const std::string& stage : stages) {
    const std::string_view owner = engine::rendezvous_owner(stage, *peers);
    int holders = 0;
    for (const auto& view : views) {
      holders += view.holds(now, stage) ? 1 : 0;
      check(view.owner(stage) == owner);
    }
    // Duplicated entries are one peer: its views all hold the stage.
    int copies = 0;
    for (const std::string& peer : *peers) {
      copies += peer == owner ? 1 : 0;
    }
    check(holders == copies && copies >= 1);
    if (!fewer.empty() && owner != peers->front()) {
      check(engine::rendezvous_owner(stage, fewer) == owner);
    }
  }
  return 0;
}
