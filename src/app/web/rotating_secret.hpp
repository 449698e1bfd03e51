// A secret this server verifies (WHIP_INGEST_TOKEN, WHEP_TOKEN, ADMIN_TOKEN) that SIGHUP can
// replace without a restart (issue 13 item 10; the seed's "rotate keys regularly").
//
//   rotate(new, now, grace):   current = new, previous = old until now + grace
//   matches(token, now):       token == current, or token == previous before its grace ends
//
// Why a grace period: OBS keeps the token it was started with and presents it again on every
// reconnect. An operator rotates the server's token first and the broadcaster's profile second;
// without a window in which both work, a network blip between the two steps would lock the
// broadcast out. Compares run in constant time for both values (they are always both compared,
// so the time does not tell whether the old one is still accepted either).
//
// Time is an input. One object is shared by the handlers that check it and the reload that
// rotates it; all of them run on the control thread, so it has no lock.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "proto/time.hpp"

namespace ivs::app {

class RotatingSecret {
 public:
  explicit RotatingSecret(std::string value = {}) : current_(std::move(value)) {}

  // Makes `value` the secret; the old one keeps matching until `now + grace` (0: at once).
  // Rotating to the value already in place changes nothing (a SIGHUP that did not edit it).
  void rotate(std::string value, Instant now, Duration grace);

  // Whether `candidate` is the current secret, or the previous one within its grace period.
  // An empty secret matches nothing.
  bool matches(std::string_view candidate, Instant now) const;

  const std::string& current() const { return current_; }
  bool empty() const { return current_.empty(); }
  // Whether the previous value is still accepted at `now`.
  bool in_grace(Instant now) const { return !previous_.empty() && now < previous_until_; }

 private:
  std::string current_;
  std::string previous_;
  Instant previous_until_{};
};

// The serve role's secrets, each one object shared by every user, so a reload reaches them all:
// the three it verifies and the two it sends to the API server.
struct ServerSecrets {
  std::shared_ptr<RotatingSecret> ingest_token = std::make_shared<RotatingSecret>();  // WHIP
  std::shared_ptr<RotatingSecret> whep_token = std::make_shared<RotatingSecret>();
  // ADMIN_TOKEN, or WHIP_INGEST_TOKEN while ADMIN_TOKEN is unset (what the buttons accept).
  std::shared_ptr<RotatingSecret> admin_token = std::make_shared<RotatingSecret>();
  std::shared_ptr<RotatingSecret> api_key = std::make_shared<RotatingSecret>();       // sent
  std::shared_ptr<RotatingSecret> media_secret = std::make_shared<RotatingSecret>();  // sent
};

}  // namespace ivs::app
