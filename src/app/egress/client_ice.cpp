#include "app/egress/client_ice.hpp"

#include "engine/ice_candidate.hpp"
#include "io/local_addresses.hpp"

namespace ivs::app {

Result<engine::PeerSessionIceClient> client_ice_from_answer(const engine::IceCredentials& local,
                                                            const engine::NegotiatedMedia& answer,
                                                            const SocketAddress& bound) {
  engine::PeerSessionIceClient ice;
  ice.agent.local = local;
  ice.remote = answer.remote.ice;
  ice.candidates = engine::usable_candidates(answer.remote.candidates);
  if (ice.candidates.empty()) {
    return Error{"the answer has no usable UDP candidate (mDNS names and TCP are not supported)"};
  }
  const auto sending = io::sending_address_of(bound, ice.candidates.front().address);
  if (!sending) {
    return Error{"no local interface address to send from"};
  }
  ice.agent.host_addresses = {*sending};
  return ice;
}

Result<std::unique_ptr<engine::PeerSession>> start_client_session(engine::PeerSessionConfig config,
                                                                  engine::PeerSessionIceClient ice,
                                                                  engine::RandomSource& random,
                                                                  EarlyStunChecks& early_checks,
                                                                  Instant now) {
  auto session = engine::PeerSession::create_client(std::move(config), std::move(ice), random);
  if (!session) {
    return Error{"ICE/DTLS setup: " + session.error().message};
  }
  (*session)->start(now);
  early_checks.replay(**session, now);
  return std::move(*session);
}

}  // namespace ivs::app
