// DTLS-SRTP key export (RFC 5764 §4.2): after the handshake both ends run the TLS exporter with
// the label "EXTRACTOR-dtls_srtp" and no context, for 2 * (key + salt) bytes, laid out as
//
//   client_write_SRTP_master_key | server_write_SRTP_master_key |
//   client_write_SRTP_master_salt | server_write_SRTP_master_salt
//
// with key/salt lengths from the negotiated profile (16/14 for SRTP_AES128_CM_SHA1_80, 16/12 for
// SRTP_AEAD_AES_128_GCM). The DTLS client protects what it sends with the client keys; the
// server with the server keys. Each side's "local" key is the one it protects with.
#pragma once

#include "engine/srtp_session.hpp"
#include "proto/bytes.hpp"
#include "proto/result.hpp"

namespace ivs::engine {

enum class DtlsRole : std::uint8_t { kClient, kServer };

inline constexpr std::string_view kDtlsSrtpExporterLabel = "EXTRACTOR-dtls_srtp";

struct DtlsSrtpKeys {
  SrtpProfile profile = SrtpProfile::kAeadAes128Gcm;
  SrtpMasterKey local;   // protect outbound RTP/RTCP with this
  SrtpMasterKey remote;  // unprotect inbound RTP/RTCP with this
  friend bool operator==(const DtlsSrtpKeys&, const DtlsSrtpKeys&) = default;
};

// Bytes of exporter output the profile needs: 2 * (key + salt).
std::size_t dtls_srtp_material_length(SrtpProfile profile);

// Splits exporter output into this side's local and remote keys.
Result<DtlsSrtpKeys> split_dtls_srtp_material(SrtpProfile profile, DtlsRole role,
                                              ByteSpan material);

}  // namespace ivs::engine
