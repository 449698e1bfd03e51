#include "app/egress/early_stun_checks.hpp"

#include "proto/stun_message.hpp"

namespace ivs::app {

bool EarlyStunChecks::keep(const SocketAddress& from, ByteSpan bytes) {
  if (!proto::looks_like_stun(bytes) || bytes.size() > kMaxDatagramBytes ||
      datagrams_.size() >= kMaxDatagrams) {
    return false;
  }
  datagrams_.push_back({from, Bytes(bytes.begin(), bytes.end())});
  return true;
}

void EarlyStunChecks::replay(engine::PeerSession& session, Instant now) {
  for (const Datagram& datagram : datagrams_) {
    session.handle_packet(now, datagram.from, datagram.bytes);
  }
  datagrams_.clear();
  datagrams_.shrink_to_fit();
}

}  // namespace ivs::app
