#include "engine/peer_session_router.hpp"

#include <algorithm>

namespace ivs::engine {

PeerSessionRouter::PeerSessionRouter(IceLiteConfig config) : ice_(config) {}

Result<IceSessionId> PeerSessionRouter::add_session(Instant now, PeerSessionConfig config,
                                                    IceCredentials local,
                                                    std::optional<IceCredentials> remote) {
  auto session = PeerSession::create_server(std::move(config));
  if (!session) {
    return session.error();
  }
  const auto id = ice_.add_session(std::move(local), std::move(remote));
  if (!id) {
    return Error{"peer session: the local ICE ufrag is already in use"};
  }
  if (sessions_.size() <= *id) {
    sessions_.resize(*id + 1);
  }
  (*session)->start(now);
  sessions_[*id] = std::move(*session);
  mark_dirty(*id);
  return *id;
}

void PeerSessionRouter::remove_session(IceSessionId id) {
  ice_.remove_session(id);
  if (id < sessions_.size()) {
    sessions_[id].reset();
  }
  std::erase(dirty_, id);
}

PeerSession* PeerSessionRouter::session(IceSessionId id) {
  return id < sessions_.size() ? sessions_[id].get() : nullptr;
}

void PeerSessionRouter::mark_dirty(IceSessionId id) {
  if (std::find(dirty_.begin(), dirty_.end(), id) == dirty_.end()) {
    dirty_.push_back(id);
  }
}

void PeerSessionRouter::handle_packet(Instant now, const SocketAddress& from, ByteSpan bytes) {
  IceLiteDecision decision = ice_.handle_packet(now, from, bytes);
  switch (decision.action) {
    case IceLiteDecision::Action::kSendReply:
      replies_.push_back(std::move(decision.reply));
      break;
    case IceLiteDecision::Action::kRouteToSession:
      if (PeerSession* target = session(decision.session)) {
        target->handle_packet(now, from, bytes);
        mark_dirty(decision.session);
      }
      break;
    case IceLiteDecision::Action::kDrop:
      break;
  }
  drain_ice_events(now);
}

void PeerSessionRouter::drain_ice_events(Instant now) {
  while (auto event = ice_.poll_event()) {
    PeerSession* target = session(event->session);
    if (!target) {
      continue;
    }
    if (event->kind == IceLiteEvent::Kind::kSelected) {
      target->on_ice_selected(now, event->address);
    } else {
      target->on_consent_expired();
    }
    mark_dirty(event->session);
  }
}

void PeerSessionRouter::handle_timeout(Instant now) {
  ice_.handle_timeout(now);
  drain_ice_events(now);
  for (IceSessionId id = 0; id < sessions_.size(); ++id) {
    PeerSession* target = sessions_[id].get();
    if (!target) {
      continue;
    }
    const auto due = target->poll_timeout();
    if (due && *due <= now) {
      target->handle_timeout(now);
      mark_dirty(id);
    }
  }
}

std::optional<Transmit> PeerSessionRouter::poll_transmit() {
  if (!replies_.empty()) {
    Transmit reply = std::move(replies_.front());
    replies_.pop_front();
    return reply;
  }
  for (IceSessionId id : dirty_) {
    if (PeerSession* target = session(id)) {
      if (auto transmit = target->poll_transmit()) {
        return transmit;
      }
    }
  }
  return std::nullopt;
}

std::optional<RoutedSessionEvent> PeerSessionRouter::poll_event() {
  while (!dirty_.empty()) {
    const IceSessionId id = dirty_.front();
    PeerSession* target = session(id);
    if (target) {
      if (auto event = target->poll_event()) {
        return RoutedSessionEvent{id, std::move(*event)};
      }
      // Transmits are drained before events by the engine rule, so an exhausted event queue
      // means the session has nothing left unless a transmit is still queued.
      if (auto transmit = target->poll_transmit()) {
        replies_.push_back(std::move(*transmit));
        continue;
      }
    }
    dirty_.erase(dirty_.begin());
  }
  return std::nullopt;
}

std::optional<Instant> PeerSessionRouter::poll_timeout() const {
  std::optional<Instant> next = ice_.poll_timeout();
  for (const auto& target : sessions_) {
    if (!target) {
      continue;
    }
    const auto due = target->poll_timeout();
    if (due && (!next || *due < *next)) {
      next = due;
    }
  }
  return next;
}

bool PeerSessionRouter::send_rtp(IceSessionId id, ByteSpan packet) {
  PeerSession* target = session(id);
  if (!target) {
    return false;
  }
  mark_dirty(id);
  return target->send_rtp(packet);
}

bool PeerSessionRouter::send_rtcp(IceSessionId id, ByteSpan packet) {
  PeerSession* target = session(id);
  if (!target) {
    return false;
  }
  mark_dirty(id);
  return target->send_rtcp(packet);
}

}  // namespace ivs::engine
