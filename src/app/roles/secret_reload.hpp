// SIGHUP in the serve role (issue 13 item 10; docs/security.md "Rotating secrets"): the
// configuration is read again (`.env` and every <NAME>_FILE secret; the process environment
// itself cannot change) and the secrets that changed are rotated in place, without a restart:
//
//   WHIP_INGEST_TOKEN, WHEP_TOKEN, ADMIN_TOKEN   verified here: the new value works at once and
//                                                the old one until TOKEN_ROTATION_GRACE ends
//   API_SECRET_KEY, MEDIA_SERVER_SECRET          sent to the API server: the next request and
//                                                the next WebSocket connect carry the new value
//
// TLS_CERT_FILE and TLS_KEY_FILE are read again by the media server itself. What may change
// without a restart is marked `reloadable` in the configuration table (config_table.cpp).
// Stage sessions, the publisher and viewers are not touched. Any other variable that changed is
// reported as needing a restart, so an operator who edited PORT and sent SIGHUP is told plainly
// that nothing happened to it. A configuration that no longer loads is refused as a whole.
#pragma once

#include <string>
#include <vector>

#include "app/roles/config.hpp"
#include "app/web/rotating_secret.hpp"
#include "proto/time.hpp"

namespace ivs::app {

// The serve role's secrets as configured at start.
ServerSecrets secrets_from_config(const Config& config);

struct SecretReload {
  std::vector<std::string> rotated;       // reloadable secrets that changed, in table order
  std::vector<std::string> reloadable;    // other reloadable variables that changed (TLS files)
  std::vector<std::string> need_restart;  // variables whose value changed and apply at start
  bool api_credentials_changed = false;   // API_SECRET_KEY or MEDIA_SERVER_SECRET
  bool tls_reloaded = false;              // the listener's certificate was read again
};

// Rotates every secret of `secrets` whose value differs between `running` and `fresh`; the
// verified ones keep their previous value for `grace` after `now`. `running` is updated to hold
// the new secrets (its other values stay as they were: they are what the process runs with).
SecretReload reload_secrets(ServerSecrets& secrets, Config& running, const Config& fresh,
                            Instant now, Duration grace);

}  // namespace ivs::app
