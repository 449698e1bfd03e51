// ICE-lite responder (RFC 8445 §2.5, §7.3 as the lite, always-controlled side) with consent
// freshness from the lite side (RFC 7675 §5.2) for the server roles: WHIP ingest, WHEP and the
// local stage. One UDP port serves many sessions.
//
//   datagram ──► RFC 7983 first byte ──► STUN ──► USERNAME "our-ufrag:their-ufrag"
//                      │                            └─► session (hash on ufrag), check
//                      │                                FINGERPRINT + MESSAGE-INTEGRITY (our pwd),
//                      │                                answer with XOR-MAPPED-ADDRESS, mark the
//                      │                                source validated; USE-CANDIDATE selects it
//                      └──► DTLS / RTP ──► hash on source address (validated only) ──► session
//
// Why the design is as it is:
// - handle_packet() returns the decision for that datagram (reply to send, session to route to,
//   or a drop reason) instead of queueing it: the ingest loop calls it for every media packet, so
//   the common path is one hash lookup by address and no allocation.
// - A lite agent never sends requests, so the only timer is consent: a session whose selected
//   address (before nomination: any validated address) has not sent an authenticated binding
//   request for `consent_timeout` is reported once with a kConsentExpired event. The owner tears
//   the session down (or a new nomination revives it). Timers sit in a heap with lazy re-arming, so
//   poll_timeout() is O(1) with many sessions.
// - Error responses follow RFC 8489 §9.1.3 / RFC 8445 §7.3: 400 when USERNAME, MESSAGE-INTEGRITY
//   or PRIORITY is missing, 401 for an unknown username or a bad MESSAGE-INTEGRITY (no integrity
//   on those, we cannot authenticate), 420 for unknown comprehension-required attributes and 487
//   when the peer also claims the controlled role (a lite agent is always controlled, §6.1.1).
//   A bad FINGERPRINT is silently dropped: such a packet is not STUN for us (§7.3).
// - Counters are plain integers read by the owner for metrics.
//
// Engine shape (transmit.hpp): after handle_packet()/handle_timeout() drain poll_event(), then
// re-arm from poll_timeout(). Replies are returned, not queued, so there is no poll_transmit().
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/ice_common.hpp"
#include "engine/transmit.hpp"

namespace ivs::engine {

using IceSessionId = std::uint32_t;

struct IceLiteConfig {
  Duration consent_timeout = seconds(30);
  // A session keeps at most this many validated source addresses; the oldest goes first.
  std::size_t max_addresses_per_session = 8;
};

enum class IceLiteDropReason : std::uint8_t {
  kNone,
  kUnknownPacket,      // First byte outside the RFC 7983 ranges.
  kMalformedStun,      // Does not parse as STUN.
  kBadFingerprint,     // FINGERPRINT missing or wrong.
  kUnexpectedStun,     // A response or a non-binding method: a lite agent sends no requests.
  kBadRequest,         // 400: USERNAME, MESSAGE-INTEGRITY or PRIORITY missing.
  kUnknownUfrag,       // 401: no session with that ufrag (or the remote ufrag differs).
  kBadIntegrity,       // 401: MESSAGE-INTEGRITY does not match the session's pwd.
  kUnknownAttribute,   // 420.
  kRoleConflict,       // 487: the peer claims the controlled role too.
  kUnknownAddress,     // Non-STUN from an address no session has validated.
  kBindingIndication,  // Keepalive indication: accepted, nothing to do.
};

struct IceLiteDecision {
  enum class Action : std::uint8_t { kSendReply, kRouteToSession, kDrop };
  Action action = Action::kDrop;
  // kRouteToSession; kSendReply when the request authenticated.
  IceSessionId session = 0;
  // kDrop; for kSendReply, why the reply is an error response (kNone for success).
  IceLiteDropReason reason = IceLiteDropReason::kNone;
  Transmit reply;  // kSendReply only.
};

struct IceLiteEvent {
  enum class Kind : std::uint8_t {
    kSelected,        // USE-CANDIDATE from `address`: send media there from now on.
    kConsentExpired,  // No valid request from the selected (or validated) address in time.
  };
  Kind kind;
  IceSessionId session;
  SocketAddress address;
};

struct IceLiteCounters {
  std::uint64_t binding_requests = 0;  // Authenticated requests answered with success.
  std::uint64_t routed = 0;
  std::uint64_t nominations = 0;
  std::uint64_t consent_expired = 0;
  std::uint64_t dropped_unknown_packet = 0;
  std::uint64_t dropped_malformed = 0;
  std::uint64_t dropped_bad_fingerprint = 0;
  std::uint64_t dropped_unexpected_stun = 0;
  std::uint64_t rejected_bad_request = 0;
  std::uint64_t rejected_unknown_ufrag = 0;
  std::uint64_t rejected_bad_integrity = 0;
  std::uint64_t rejected_unknown_attribute = 0;
  std::uint64_t rejected_role_conflict = 0;
  std::uint64_t dropped_unknown_address = 0;
  std::uint64_t binding_indications = 0;
};

class IceLite {
 public:
  explicit IceLite(IceLiteConfig config = {});

  // Registers a session. The remote ufrag (from the offer) is checked against the USERNAME when
  // known; the remote pwd is kept for completeness (a lite agent verifies no responses).
  // Returns nullopt when the local ufrag is already in use.
  std::optional<IceSessionId> add_session(IceCredentials local,
                                          std::optional<IceCredentials> remote = std::nullopt);
  void remove_session(IceSessionId session);
  std::optional<SocketAddress> selected_address(IceSessionId session) const;
  std::size_t session_count() const { return sessions_.size(); }

  IceLiteDecision handle_packet(Instant now, const SocketAddress& from, ByteSpan bytes);
  void handle_timeout(Instant now);
  std::optional<IceLiteEvent> poll_event();
  std::optional<Instant> poll_timeout() const;

  const IceLiteCounters& counters() const { return counters_; }

 private:
  struct Session {
    IceCredentials local;
    std::optional<IceCredentials> remote;
    std::vector<SocketAddress> addresses;  // Validated, oldest first.
    std::optional<SocketAddress> selected;
    Instant last_consent{};
    bool timer_armed = false;
    bool expired = false;
  };
  struct Timer {
    Instant at;
    IceSessionId session;
    bool operator>(const Timer& other) const { return at > other.at; }
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };

  IceLiteDecision handle_stun(Instant now, const SocketAddress& from, ByteSpan bytes);
  IceLiteDecision handle_request(Instant now, const SocketAddress& from,
                                 const proto::StunMessage& request);
  IceLiteDecision reject(const SocketAddress& from, const proto::StunMessage& request,
                         IceLiteDropReason reason, const Session* session);
  IceLiteDecision drop(IceLiteDropReason reason);
  void accept(Instant now, IceSessionId id, Session& session, const SocketAddress& from,
              bool nominate);
  void validate_address(IceSessionId id, Session& session, const SocketAddress& from);

  IceLiteConfig config_;
  StunIntegrity integrity_;
  IceSessionId next_id_ = 1;
  std::unordered_map<IceSessionId, Session> sessions_;
  std::unordered_map<std::string, IceSessionId, StringHash, std::equal_to<>> by_ufrag_;
  std::unordered_map<SocketAddress, IceSessionId, SocketAddressHash> by_address_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::deque<IceLiteEvent> events_;
  IceLiteCounters counters_;
};

}  // namespace ivs::engine
