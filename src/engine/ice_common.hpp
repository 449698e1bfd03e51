// Pieces shared by the ICE-lite responder and the full ICE agent (RFC 8445): credentials, the
// USERNAME convention (§7.2.2: "receiver-ufrag:sender-ufrag"), and the STUN binding responses
// both sides send (RFC 8489 §6.3: success carries XOR-MAPPED-ADDRESS; errors carry ERROR-CODE).
// Every message we send ends with FINGERPRINT (RFC 8445 §7.1.1, §7.3).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/stun_integrity.hpp"
#include "proto/socket_address.hpp"
#include "proto/stun_message.hpp"

namespace ivs::engine {

// ice-ufrag / ice-pwd of one side (RFC 8839 §5.4).
struct IceCredentials {
  std::string ufrag;
  std::string pwd;
};

struct UsernameParts {
  std::string_view receiver_ufrag;  // Ours, when we receive the request.
  std::string_view sender_ufrag;
};

// Splits "receiver:sender" at the first colon; nullopt when there is none.
std::optional<UsernameParts> split_ice_username(std::string_view username);

// A signed success response to a binding request, echoing the source as XOR-MAPPED-ADDRESS.
Bytes make_binding_success(StunIntegrity& integrity, const proto::StunMessage& request,
                           const SocketAddress& mapped, std::string_view local_pwd);

// An error response. With `local_pwd` (the request authenticated) it carries MESSAGE-INTEGRITY;
// without (400/401 before authentication) it carries FINGERPRINT only. `unknown` fills
// UNKNOWN-ATTRIBUTES for a 420.
Bytes make_binding_error(StunIntegrity& integrity, const proto::StunMessage& request, int code,
                         std::optional<std::string_view> local_pwd,
                         std::span<const std::uint16_t> unknown = {});

std::string_view stun_reason_phrase(int code);

}  // namespace ivs::engine
