// Admission of WHEP viewers and WHIP publishers on the serve role, so sessions that never finish
// ICE/DTLS ("connecting", half-open) cannot take the places of real ones (issue 13,
// docs/security.md "Overload").
//
//   viewer offer ─► connected viewers >= WHEP_MAX_VIEWERS          ─► 503 (the viewer limit)
//              ─► connecting viewers >= WHEP_MAX_CONNECTING        ─► 503 + Retry-After
//              ─► this address's connecting >= WHEP_MAX_CONNECTING_PER_IP ─► 429 + Retry-After
//              ─► accepted (the channel's own cap is both limits added, so it never refuses
//                 first)
// Connecting sessions are removed by the channel after SESSION_CONNECT_TIMEOUT, so each refusal
// lasts at most that long.
//
// Why counts and not a list of sessions: the channel (app/relay) reports how many viewers are
// connected and the plane how many sessions exist, not which session connected. Per address we
// count the offers accepted within the connect timeout, and attribute to it at most as many
// connecting sessions as exist in total: an address whose viewers all connected is never held
// back, and one that leaves sessions half-open is.
//
// Publishers (WHIP_PUBLISHER_POLICY=refuse): the channel refuses a second publisher while one is
// live OR connecting. A connecting publisher that never connects (a crashed encoder, a lost
// answer) would then lock the broadcaster out until the connect timeout; `stale_publisher`
// names that session so the serve role replaces it with the new authenticated offer.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "app/relay/relay_channel.hpp"
#include "app/web/media_status.hpp"
#include "engine/rate_limit.hpp"
#include "proto/time.hpp"

namespace ivs::app {

struct SessionAdmissionOptions {
  std::size_t max_viewers = 100;                        // WHEP_MAX_VIEWERS (connected)
  std::size_t max_connecting = 20;                      // WHEP_MAX_CONNECTING
  std::size_t max_connecting_per_ip = 8;                // WHEP_MAX_CONNECTING_PER_IP
  Duration connect_timeout = std::chrono::seconds(10);  // SESSION_CONNECT_TIMEOUT
};

struct ViewerCounts {
  std::size_t connected = 0;
  std::size_t connecting = 0;
};

// Viewer sessions of the serve role's one channel, as the channel counts them.
ViewerCounts viewer_counts(const ChannelStatus& status);

class SessionAdmission {
 public:
  explicit SessionAdmission(SessionAdmissionOptions options);

  std::optional<SessionRefused> admit_viewer(const ViewerCounts& counts, std::string_view source,
                                             Instant now);
  void viewer_accepted(std::string_view source, Instant now);

  void publisher_accepted(std::string resource_id) { last_publisher_ = std::move(resource_id); }
  // The session to end before a new publisher offer under the refuse policy: the last accepted
  // publisher, when the channel says a publisher is connecting and none is live.
  std::optional<std::string> stale_publisher(const PublisherStatus& publisher) const;

  const SessionAdmissionOptions& options() const { return options_; }

 private:
  SessionAdmissionOptions options_;
  engine::SlidingWindowCount offers_;
  std::string last_publisher_;
};

}  // namespace ivs::app
