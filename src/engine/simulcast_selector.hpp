// Simulcast layer selection for the relay (RFC 8853 simulcast, RFC 8851 rid, RFC 6184 H.264
// access units), sans-I/O: packets and time in, forwarded packets and keyframe requests out.
//
// OBS 32.1+ and browsers may publish several encodings of one video track, each its own SSRC,
// named by the rtp-stream-id header extension (RFC 8852) with a rid from the offer. Amazon IVS
// refuses more than 720p, so a stage must get the best layer within its limits, not the first rid
// (which for OBS is the full-resolution one). The selector:
// - learns rid ↔ SSRC from the rtp-stream-id extension (browsers stop sending it once the SSRC is
//   acknowledged, so the SSRC is remembered);
// - reads each layer's resolution from the layer's own SPS (labels and offer order prove
//   nothing) and measures its bitrate over one-second windows;
// - keeps a GOP cache per layer, so a switch is instant: the new layer's cached GOP, which starts
//   at a keyframe, is forwarded at once, and the relay treats the new SSRC as a new generation
//   (each leg continues its own sequence and timestamp spaces from that keyframe);
// - chooses the largest layer that fits (long side ≤ 1280, short side ≤ 720, so portrait
//   720×1280 fits too; bitrate ≤ 8.5 Mbit/s) among the layers that sent a packet within the
//   layer timeout and whose SPS is known. When none fits, the smallest known layer is forwarded
//   (IVS will refuse it, and status says so), which is what a non-simulcast publisher gets too;
// - switches only at a keyframe of the new layer. While the chosen layer is alive, a better (or
//   newly required) layer is taken at its next live keyframe (a PLI for that SSRC is sent,
//   rate-limited; browsers honour it, OBS does not). When the chosen layer has been silent for
//   longer than the layer timeout, the best remaining layer is taken at once from its cached GOP
//   if that GOP is young (≤ max_replay_age). An older GOP would put the legs' timestamps that far
//   ahead of real time (the relay maps the first replayed packet to now), i.e. video lagging
//   audio, so then a keyframe is requested and awaited for up to keyframe_wait (a browser sends
//   one within a round trip), and only without one (OBS ignores PLI) is the old GOP replayed;
// - waits up to `initial_wait` after the first packet before the first choice, so a small layer
//   whose keyframe arrived a few milliseconds earlier does not win over the full one.
// RTX and other payload types are not layers: they are dropped here, as the relay drops RTX of
// a single-layer publisher. Nothing throws; malformed or unidentified packets are counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/gop_cache.hpp"
#include "proto/bytes.hpp"
#include "proto/h264_sps.hpp"
#include "proto/time.hpp"

namespace ivs::engine {

struct SimulcastLimits {
  std::uint32_t max_long_side = 1280;  // IVS: at most 720p, landscape or portrait
  std::uint32_t max_short_side = 720;
  std::uint64_t max_bitrate_bps = 8'500'000;
};

struct SimulcastSelectorConfig {
  std::vector<std::string> rids;       // the accepted layers, in offer order
  std::uint8_t payload_type = 0;       // the video payload type; others (RTX) are not layers
  std::uint8_t rtp_stream_id_ext = 0;  // the negotiated extension id; 0 when none
  Duration layer_timeout = std::chrono::seconds(1);
  Duration initial_wait = std::chrono::milliseconds(300);
  Duration keyframe_request_interval = std::chrono::milliseconds(500);
  Duration bitrate_window = std::chrono::seconds(1);
  Duration max_replay_age = std::chrono::milliseconds(500);
  Duration keyframe_wait = std::chrono::milliseconds(300);
  SimulcastLimits limits;
  std::size_t gop_cache_max_packets = 4096;
  std::size_t gop_cache_max_bytes = std::size_t{6} * 1024 * 1024;
};

// What /api/status shows about one layer.
struct SimulcastLayerStats {
  std::string rid;
  std::optional<std::uint32_t> ssrc;
  std::optional<proto::H264Sps> sps;  // the layer's last SPS
  std::uint64_t bitrate_bps = 0;      // the last complete window; 0 when inactive
  bool active = false;                // a packet within the layer timeout
  bool fits = false;                  // resolution and bitrate within the IVS limits
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint64_t keyframes = 0;
};

struct SimulcastSelectorStats {
  std::vector<SimulcastLayerStats> layers;
  std::optional<std::size_t> chosen;   // index into layers
  std::optional<std::size_t> pending;  // the layer waited for (its next keyframe)
  std::uint64_t switches = 0;
  std::uint64_t unidentified_dropped = 0;   // video packets of an SSRC no rid named yet
  std::uint64_t other_payload_dropped = 0;  // RTX and other payload types
  std::uint64_t malformed_dropped = 0;
};

// Where the selector's output goes; calls happen synchronously inside handle_rtp/handle_timeout.
class SimulcastOutput {
 public:
  virtual ~SimulcastOutput() = default;
  // The chosen layer changes to `layer` (its SSRC): the following forward() calls carry it,
  // starting with its cached GOP.
  virtual void switched(std::size_t layer, std::uint32_t ssrc) = 0;
  // A packet of the chosen layer, for the relay.
  virtual void forward(ByteSpan packet) = 0;
  // Ask the publisher for a keyframe of this SSRC (PLI or FIR).
  virtual void request_keyframe(std::uint32_t ssrc) = 0;
};

class SimulcastSelector {
 public:
  explicit SimulcastSelector(SimulcastSelectorConfig config);

  // One decrypted video packet of the publisher. Returns the layer it belongs to (for feeds that
  // asked for one layer), or nothing when it is no layer's packet.
  std::optional<std::size_t> handle_rtp(Instant now, ByteSpan packet, SimulcastOutput& out);
  void handle_timeout(Instant now, SimulcastOutput& out);
  std::optional<Instant> poll_timeout() const;

  std::size_t layer_count() const { return layers_.size(); }
  std::optional<std::size_t> find_layer(std::string_view rid) const;
  std::optional<std::size_t> chosen() const { return chosen_; }
  // The layer's cached GOP (starts at a keyframe), for a feed that starts mid-stream.
  const GopCache& cache(std::size_t layer) const { return layers_[layer].gop; }
  SimulcastSelectorStats stats(Instant now) const;

 private:
  struct Layer {
    explicit Layer(std::string id, const SimulcastSelectorConfig& config)
        : rid(std::move(id)), gop(config.gop_cache_max_packets, config.gop_cache_max_bytes) {}
    std::string rid;
    std::optional<std::uint32_t> ssrc;
    std::optional<Instant> last_packet;
    std::optional<proto::H264Sps> sps;
    Bytes last_sps;
    GopCache gop;
    Instant window_start{};
    std::uint64_t window_bytes = 0;
    std::uint64_t bitrate_bps = 0;
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    std::uint64_t keyframes = 0;
    std::optional<Instant> last_keyframe_request;
  };

  struct Observed {
    bool cached = false;    // the packet is in the layer's valid GOP cache now
    bool keyframe = false;  // it promoted a new keyframe: the cache starts at that keyframe
  };

  std::optional<std::size_t> identify(const proto::RtpView& view);
  // Measures the layer's bitrate, reads its SPS, caches the packet.
  Observed observe(Instant now, Layer& layer, const proto::RtpView& view);
  bool active(const Layer& layer, Instant now) const;
  bool fits(const Layer& layer) const;
  std::optional<std::size_t> best(Instant now) const;
  void decide(Instant now, std::optional<std::size_t> keyframe_layer, SimulcastOutput& out);
  // The chosen layer is silent (or none is chosen): take `target` from its cache now, or wait.
  void fall_back(Instant now, std::size_t target, SimulcastOutput& out);
  void switch_to(std::size_t layer, SimulcastOutput& out);
  void request_keyframe(Instant now, Layer& layer, SimulcastOutput& out);

  SimulcastSelectorConfig config_;
  std::vector<Layer> layers_;
  std::optional<Instant> first_packet_;
  std::optional<std::size_t> chosen_;
  std::optional<std::size_t> pending_;
  // poll_timeout() must not name a past instant again once handle_timeout dealt with it.
  bool initial_wait_over_ = false;
  std::optional<Instant> silence_handled_;  // the chosen layer's last packet when found silent
  // A fallback waiting for a fresh keyframe of `waiting_for_` (its cached GOP was old).
  std::optional<std::size_t> waiting_for_;
  std::optional<Instant> waiting_since_;
  std::uint64_t switches_ = 0;
  std::uint64_t unidentified_dropped_ = 0;
  std::uint64_t other_payload_dropped_ = 0;
  std::uint64_t malformed_dropped_ = 0;
};

}  // namespace ivs::engine
