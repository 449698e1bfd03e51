#include "engine/ice_common.hpp"

namespace ivs::engine {

std::optional<UsernameParts> split_ice_username(std::string_view username) {
  const auto colon = username.find(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  return UsernameParts{username.substr(0, colon), username.substr(colon + 1)};
}

Bytes make_binding_success(StunIntegrity& integrity, const proto::StunMessage& request,
                           const SocketAddress& mapped, std::string_view local_pwd) {
  proto::StunBuilder builder(request.method(), proto::StunClass::kSuccessResponse,
                             request.transaction_id());
  builder.add_xor_mapped_address(mapped);
  integrity.sign_with_fingerprint(builder, as_bytes(local_pwd));
  return std::move(builder).take();
}

Bytes make_binding_error(StunIntegrity& integrity, const proto::StunMessage& request, int code,
                         std::optional<std::string_view> local_pwd,
                         std::span<const std::uint16_t> unknown) {
  proto::StunBuilder builder(request.method(), proto::StunClass::kErrorResponse,
                             request.transaction_id());
  builder.add_error_code(code, stun_reason_phrase(code));
  if (!unknown.empty()) {
    builder.add_unknown_attributes(unknown);
  }
  if (local_pwd) {
    integrity.sign(builder, as_bytes(*local_pwd));
  }
  builder.add_fingerprint();
  return std::move(builder).take();
}

std::string_view stun_reason_phrase(int code) {
  switch (code) {
    case proto::stun_error::kBadRequest:
      return "Bad Request";
    case proto::stun_error::kUnauthenticated:
      return "Unauthenticated";
    case proto::stun_error::kUnknownAttribute:
      return "Unknown Attribute";
    case proto::stun_error::kRoleConflict:
      return "Role Conflict";
    default:
      return "Server Error";
  }
}

}  // namespace ivs::engine
