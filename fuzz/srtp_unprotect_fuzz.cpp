// Differential fuzz target: the OpenSSL SRTP backend against libsrtp2 (RFC 3711, RFC 7714).
//
// Both backends get the same keys and the same sequence of operations; they must agree on every
// verdict and, on success, on every output byte. Random bytes alone almost never authenticate,
// so an operation can first PROTECT its bytes (both senders must produce the same packet) and
// optionally tamper with one byte before both receivers unprotect it; that drives the index
// estimation, ROC rollover and replay windows with fuzz-chosen sequence numbers and SSRCs.
//
// Input: byte 0 picks the profile (bit 0) and allow_repeat_tx (bit 1); then records of
//   [op: 1 byte][length: 2 bytes, big-endian, taken mod 1500][length bytes]
// op bit 0: RTCP instead of RTP; bit 1: protect first; bit 2: tamper; bits 3..7: which byte.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "engine/srtp_session.hpp"

namespace {

using namespace ivs;
using namespace ivs::engine;

struct Outcome {
  SrtpStatus status;
  Bytes bytes;
};

std::unique_ptr<SrtpSession> make(SrtpBackend backend, SrtpProfile profile, SrtpDirection direction,
                                  bool allow_repeat_tx) {
  static const std::uint8_t kKey[16] = {0xE1, 0xF9, 0x7A, 0x0D, 0x3E, 0x01, 0x8B, 0xE0,
                                        0xD6, 0x4F, 0xA3, 0x2C, 0x06, 0xDE, 0x41, 0x39};
  static const std::uint8_t kSalt[14] = {0x0E, 0xC6, 0x75, 0xAD, 0x49, 0x8A, 0xFE,
                                         0xEB, 0xB6, 0x96, 0x0B, 0x3A, 0xAB, 0xE6};
  SrtpConfig config;
  config.profile = profile;
  config.master.key.assign(kKey, kKey + 16);
  config.master.salt.assign(kSalt, kSalt + master_salt_length(profile));
  config.direction = direction;
  config.allow_repeat_tx = allow_repeat_tx;
  config.backend = backend;
  auto session = make_srtp_session(config);
  if (!session.ok()) {
    std::abort();
  }
  return std::move(*session);
}

Outcome run(SrtpSession& session, bool protect, bool rtcp, ByteSpan input) {
  Bytes buffer(input.begin(), input.end());
  std::size_t size = buffer.size();
  buffer.resize(size + kMaxSrtpOverhead);
  SrtpStatus status;
  if (rtcp) {
    status = protect ? session.protect_rtcp(buffer, size) : session.unprotect_rtcp(buffer, size);
  } else {
    status = protect ? session.protect_rtp(buffer, size) : session.unprotect_rtp(buffer, size);
  }
  buffer.resize(status == SrtpStatus::kOk ? size : 0);
  return {status, std::move(buffer)};
}

void must_agree(const Outcome& ours, const Outcome& reference) {
  if (ours.status != reference.status || ours.bytes != reference.bytes) {
    std::abort();
  }
}

}  // namespace

// Debian's libsrtp2 is built on NSS, whose contexts libsrtp opens per cipher and closes with
// it: with no session alive between inputs, every input loaded and unloaded NSS's soft token
// (dlopen, symbol relocation), which was most of this target's time (450 inputs/s). One session
// kept for the process's life keeps NSS initialised, so the inputs pay only for their own.
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  static const auto keep_nss_loaded =
      make(SrtpBackend::kLibsrtp, SrtpProfile::kAeadAes128Gcm, SrtpDirection::kInbound, true);
  return keep_nss_loaded ? 0 : 1;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  const SrtpProfile profile =
      (data[0] & 1) != 0 ? SrtpProfile::kAeadAes128Gcm : SrtpProfile::kAes128CmHmacSha1_80;
  const bool allow_repeat_tx = (data[0] & 2) != 0;
  auto our_sender = make(SrtpBackend::kOpenssl, profile, SrtpDirection::kOutbound, allow_repeat_tx);
  auto reference_sender =
      make(SrtpBackend::kLibsrtp, profile, SrtpDirection::kOutbound, allow_repeat_tx);
  auto our_receiver = make(SrtpBackend::kOpenssl, profile, SrtpDirection::kInbound, true);
  auto reference_receiver = make(SrtpBackend::kLibsrtp, profile, SrtpDirection::kInbound, true);

  std::size_t at = 1;
  while (at + 3 <= size) {
    const std::uint8_t op = data[at];
    const std::size_t wanted = ((std::size_t{data[at + 1]} << 8) | data[at + 2]) % 1500;
    at += 3;
    const std::size_t length = std::min(wanted, size - at);
    Bytes bytes(data + at, data + at + length);
    at += length;
    const bool rtcp = (op & 1) != 0;
    if ((op & 2) != 0) {
      const Outcome ours = run(*our_sender, true, rtcp, bytes);
      must_agree(ours, run(*reference_sender, true, rtcp, bytes));
      if (ours.status != SrtpStatus::kOk) {
        continue;
      }
      bytes = ours.bytes;
      if ((op & 4) != 0) {
        bytes[(op >> 3) % bytes.size()] ^= 0x5a;
      }
    }
    must_agree(run(*our_receiver, false, rtcp, bytes),
               run(*reference_receiver, false, rtcp, bytes));
  }
  return 0;
}
