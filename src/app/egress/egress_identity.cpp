#include "app/egress/egress_identity.hpp"

#include <spdlog/spdlog.h>

#include "engine/dtls_transport.hpp"

namespace ivs::app {
namespace {

constexpr std::int64_t kRenewAfterMicros = std::int64_t{24} * 3600 * 1000000;

}  // namespace

EgressIdentity::Current EgressIdentity::current(WallTime now) {
  if (current_.certificate && made_at_ &&
      now.unix_micros - made_at_->unix_micros < kRenewAfterMicros) {
    return current_;
  }
  auto generated = engine::DtlsCertificate::generate(now);
  if (!generated) {
    spdlog::error("WHIP egress: DTLS certificate: {}", generated.error().message);
    return {};
  }
  Current next{std::move(*generated), nullptr};
  if (auto context =
          engine::DtlsContext::create(next.certificate, engine::DtlsConfig{}.srtp_profiles)) {
    next.context = std::move(*context);
  } else {
    spdlog::warn("WHIP egress: shared DTLS context: {} (each session makes its own)",
                 context.error().message);
  }
  current_ = std::move(next);
  made_at_ = now;
  return current_;
}

}  // namespace ivs::app
