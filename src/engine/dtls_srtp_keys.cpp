#include "engine/dtls_srtp_keys.hpp"

namespace ivs::engine {

std::size_t dtls_srtp_material_length(SrtpProfile profile) {
  return 2 * (master_key_length(profile) + master_salt_length(profile));
}

Result<DtlsSrtpKeys> split_dtls_srtp_material(SrtpProfile profile, DtlsRole role,
                                              ByteSpan material) {
  if (material.size() != dtls_srtp_material_length(profile)) {
    return make_error("DTLS-SRTP: exporter gave " + std::to_string(material.size()) +
                      " bytes, profile needs " +
                      std::to_string(dtls_srtp_material_length(profile)));
  }
  const std::size_t key = master_key_length(profile);
  const std::size_t salt = master_salt_length(profile);
  auto slice = [&](std::size_t offset, std::size_t length) {
    const ByteSpan part = material.subspan(offset, length);
    return Bytes(part.begin(), part.end());
  };
  const SrtpMasterKey client{slice(0, key), slice(2 * key, salt)};
  const SrtpMasterKey server{slice(key, key), slice(2 * key + salt, salt)};
  DtlsSrtpKeys keys;
  keys.profile = profile;
  keys.local = role == DtlsRole::kClient ? client : server;
  keys.remote = role == DtlsRole::kClient ? server : client;
  return keys;
}

}  // namespace ivs::engine
