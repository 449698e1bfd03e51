// ICE-lite responder; see ice_lite.hpp for the design and the RFC sections.
#include "engine/ice_lite.hpp"

#include <algorithm>

#include "proto/packet_demux.hpp"

namespace ivs::engine {

using proto::StunClass;
using proto::StunMessage;

IceLite::IceLite(IceLiteConfig config) : config_(config) {}

std::optional<IceSessionId> IceLite::add_session(IceCredentials local,
                                                 std::optional<IceCredentials> remote) {
  if (by_ufrag_.count(local.ufrag) != 0) {
    return std::nullopt;
  }
  const IceSessionId id = next_id_++;
  by_ufrag_.emplace(local.ufrag, id);
  Session session;
  session.local = std::move(local);
  session.remote = std::move(remote);
  sessions_.emplace(id, std::move(session));
  return id;
}

void IceLite::remove_session(IceSessionId id) {
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) {
    return;
  }
  for (const auto& address : it->second.addresses) {
    by_address_.erase(address);
  }
  by_ufrag_.erase(it->second.local.ufrag);
  sessions_.erase(it);  // Its timer entry, if any, is skipped when it comes up.
}

std::optional<SocketAddress> IceLite::selected_address(IceSessionId id) const {
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) {
    return std::nullopt;
  }
  return it->second.selected;
}

IceLiteDecision IceLite::handle_packet(Instant now, const SocketAddress& from, ByteSpan bytes) {
  switch (proto::classify_packet(bytes)) {
    case proto::PacketKind::kStun:
      return handle_stun(now, from, bytes);
    case proto::PacketKind::kDtls:
    case proto::PacketKind::kRtp: {
      const auto it = by_address_.find(from);
      if (it == by_address_.end()) {
        return drop(IceLiteDropReason::kUnknownAddress);
      }
      ++counters_.routed;
      IceLiteDecision decision;
      decision.action = IceLiteDecision::Action::kRouteToSession;
      decision.session = it->second;
      return decision;
    }
    default:
      return drop(IceLiteDropReason::kUnknownPacket);
  }
}

IceLiteDecision IceLite::drop(IceLiteDropReason reason) {
  switch (reason) {
    case IceLiteDropReason::kUnknownPacket:
      ++counters_.dropped_unknown_packet;
      break;
    case IceLiteDropReason::kMalformedStun:
      ++counters_.dropped_malformed;
      break;
    case IceLiteDropReason::kBadFingerprint:
      ++counters_.dropped_bad_fingerprint;
      break;
    case IceLiteDropReason::kUnexpectedStun:
      ++counters_.dropped_unexpected_stun;
      break;
    case IceLiteDropReason::kUnknownAddress:
      ++counters_.dropped_unknown_address;
      break;
    case IceLiteDropReason::kBindingIndication:
      ++counters_.binding_indications;
      break;
    default:
      break;
  }
  IceLiteDecision decision;
  decision.reason = reason;
  return decision;
}

IceLiteDecision IceLite::handle_stun(Instant now, const SocketAddress& from, ByteSpan bytes) {
  auto message = StunMessage::parse(bytes);
  if (!message) {
    return drop(IceLiteDropReason::kMalformedStun);
  }
  if (!message->fingerprint_matches()) {
    return drop(IceLiteDropReason::kBadFingerprint);
  }
  if (message->method() != proto::kStunBindingMethod) {
    return drop(IceLiteDropReason::kUnexpectedStun);
  }
  if (message->message_class() == StunClass::kIndication) {
    return drop(IceLiteDropReason::kBindingIndication);
  }
  if (message->message_class() != StunClass::kRequest) {
    return drop(IceLiteDropReason::kUnexpectedStun);
  }
  return handle_request(now, from, *message);
}

IceLiteDecision IceLite::handle_request(Instant now, const SocketAddress& from,
                                        const StunMessage& request) {
  const auto username = request.username();
  if (!username || !request.message_integrity()) {
    return reject(from, request, IceLiteDropReason::kBadRequest, nullptr);
  }
  const auto parts = split_ice_username(*username);
  const auto found = parts ? by_ufrag_.find(parts->receiver_ufrag) : by_ufrag_.end();
  if (found == by_ufrag_.end()) {
    return reject(from, request, IceLiteDropReason::kUnknownUfrag, nullptr);
  }
  const IceSessionId id = found->second;
  Session& session = sessions_.at(id);
  if (session.remote && !session.remote->ufrag.empty() &&
      parts->sender_ufrag != session.remote->ufrag) {
    return reject(from, request, IceLiteDropReason::kUnknownUfrag, nullptr);
  }
  if (!integrity_.verify(request, as_bytes(session.local.pwd))) {
    return reject(from, request, IceLiteDropReason::kBadIntegrity, nullptr);
  }
  if (!request.priority()) {
    return reject(from, request, IceLiteDropReason::kBadRequest, nullptr);
  }
  if (!request.unknown_comprehension_required().empty()) {
    return reject(from, request, IceLiteDropReason::kUnknownAttribute, &session);
  }
  if (request.ice_controlled()) {
    return reject(from, request, IceLiteDropReason::kRoleConflict, &session);
  }
  accept(now, id, session, from, request.use_candidate());
  ++counters_.binding_requests;
  IceLiteDecision decision;
  decision.action = IceLiteDecision::Action::kSendReply;
  decision.session = id;
  decision.reply =
      Transmit{from, make_binding_success(integrity_, request, from, session.local.pwd)};
  return decision;
}

IceLiteDecision IceLite::reject(const SocketAddress& from, const StunMessage& request,
                                IceLiteDropReason reason, const Session* session) {
  int code = proto::stun_error::kBadRequest;
  switch (reason) {
    case IceLiteDropReason::kBadRequest:
      ++counters_.rejected_bad_request;
      break;
    case IceLiteDropReason::kUnknownUfrag:
      ++counters_.rejected_unknown_ufrag;
      code = proto::stun_error::kUnauthenticated;
      break;
    case IceLiteDropReason::kBadIntegrity:
      ++counters_.rejected_bad_integrity;
      code = proto::stun_error::kUnauthenticated;
      break;
    case IceLiteDropReason::kUnknownAttribute:
      ++counters_.rejected_unknown_attribute;
      code = proto::stun_error::kUnknownAttribute;
      break;
    default:
      ++counters_.rejected_role_conflict;
      code = proto::stun_error::kRoleConflict;
      break;
  }
  std::optional<std::string_view> pwd;
  if (session != nullptr) {
    pwd = session->local.pwd;
  }
  const auto unknown = code == proto::stun_error::kUnknownAttribute
                           ? request.unknown_comprehension_required()
                           : std::vector<std::uint16_t>{};
  IceLiteDecision decision;
  decision.action = IceLiteDecision::Action::kSendReply;
  decision.reason = reason;
  decision.reply = Transmit{from, make_binding_error(integrity_, request, code, pwd, unknown)};
  return decision;
}

void IceLite::accept(Instant now, IceSessionId id, Session& session, const SocketAddress& from,
                     bool nominate) {
  validate_address(id, session, from);
  if (nominate && session.selected != from) {
    session.selected = from;
    session.expired = false;
    ++counters_.nominations;
    events_.push_back(IceLiteEvent{IceLiteEvent::Kind::kSelected, id, from});
  }
  // Consent is tracked on the selected address, or before any nomination on whichever address
  // validated, so a peer that validated and vanished without nominating also expires.
  if (!session.selected || session.selected == from) {
    session.last_consent = now;
    if (!session.timer_armed && !session.expired) {
      session.timer_armed = true;
      timers_.push(Timer{now + config_.consent_timeout, id});
    }
  }
}

void IceLite::validate_address(IceSessionId id, Session& session, const SocketAddress& from) {
  const auto owner = by_address_.find(from);
  if (owner != by_address_.end() && owner->second == id) {
    return;
  }
  if (owner != by_address_.end()) {
    // The address moved to another session (a publisher reconnecting from the same port).
    auto& previous = sessions_.at(owner->second).addresses;
    previous.erase(std::remove(previous.begin(), previous.end(), from), previous.end());
    owner->second = id;
  } else {
    by_address_.emplace(from, id);
  }
  if (session.addresses.size() >= config_.max_addresses_per_session) {
    // Forget the oldest address that is not the selected one.
    const auto victim = std::find_if(session.addresses.begin(), session.addresses.end(),
                                     [&](const SocketAddress& a) { return a != session.selected; });
    if (victim != session.addresses.end()) {
      by_address_.erase(*victim);
      session.addresses.erase(victim);
    }
  }
  session.addresses.push_back(from);
}

void IceLite::handle_timeout(Instant now) {
  while (!timers_.empty() && timers_.top().at <= now) {
    const Timer timer = timers_.top();
    timers_.pop();
    const auto it = sessions_.find(timer.session);
    if (it == sessions_.end()) {
      continue;
    }
    Session& session = it->second;
    const Instant deadline = session.last_consent + config_.consent_timeout;
    if (deadline > now) {
      timers_.push(Timer{deadline, timer.session});
      continue;
    }
    session.timer_armed = false;
    session.expired = true;
    ++counters_.consent_expired;
    events_.push_back(IceLiteEvent{
        IceLiteEvent::Kind::kConsentExpired, timer.session,
        session.selected.value_or(session.addresses.empty() ? SocketAddress{}
                                                            : session.addresses.back())});
  }
}

std::optional<IceLiteEvent> IceLite::poll_event() {
  if (events_.empty()) {
    return std::nullopt;
  }
  IceLiteEvent event = events_.front();
  events_.pop_front();
  return event;
}

std::optional<Instant> IceLite::poll_timeout() const {
  if (timers_.empty()) {
    return std::nullopt;
  }
  return timers_.top().at;
}

}  // namespace ivs::engine
