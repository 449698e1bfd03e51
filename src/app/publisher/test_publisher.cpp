#include "app/publisher/test_publisher.hpp"

#include <boost/json.hpp>
#include <boost/url.hpp>

#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "app/publisher/publisher_media.hpp"

namespace ivs::app {

namespace {

bool parse_int(const std::string& text, int& out, int min, int max) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return false;
  }
  out = value;
  return true;
}

Status parse_size(const std::string& text, PublisherOptions& options) {
  const auto x = text.find('x');
  if (x == std::string::npos || !parse_int(text.substr(0, x), options.width, 16, 3840) ||
      !parse_int(text.substr(x + 1), options.height, 16, 2160) || options.width % 2 != 0 ||
      options.height % 2 != 0) {
    return make_error("--size wants WIDTHxHEIGHT with even numbers, e.g. 1280x720; got \"" + text +
                      "\"");
  }
  return Ok{};
}

Status apply_option(const std::string& name, const std::string& value, PublisherOptions& options) {
  if (name == "--url") {
    options.url = value;
  } else if (name == "--token") {
    options.token = value;
  } else if (name == "--video") {
    options.video_path = value;
  } else if (name == "--audio") {
    options.audio_path = value;
  } else if (name == "--seconds") {
    char* end = nullptr;
    const double seconds = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end != '\0' || !(seconds > 0)) {
      return make_error("--seconds wants a positive number; got \"" + value + "\"");
    }
    options.seconds = seconds;
  } else if (name == "--size") {
    return parse_size(value, options);
  } else if (name == "--fps") {
    if (!parse_int(value, options.fps, 1, 60)) {
      return make_error("--fps wants 1..60 (IVS accepts 10..60); got \"" + value + "\"");
    }
  } else if (name == "--pace-kbps") {
    int pace = 0;
    if (!parse_int(value, pace, 0, 100000)) {
      return make_error("--pace-kbps wants kbit/s in 0..100000 (0: no pacing); got \"" + value +
                        "\"");
    }
    options.pace_kbps = pace;
  } else if (name == "--like") {
    if (value != "obs" && value != "browser") {
      return make_error("--like wants obs or browser; got \"" + value + "\"");
    }
    options.like_obs = value == "obs";
  } else if (name == "--bitrate") {
    if (!parse_int(value, options.bitrate_kbps, 50, 8500)) {
      return make_error("--bitrate wants kbps in 50..8500 (the IVS limit); got \"" + value + "\"");
    }
  } else {
    return make_error("unknown option " + name + " (see --help)");
  }
  return Ok{};
}

}  // namespace

// libwebrtc paces at 2.5 × the target bitrate; only generated media has a known bitrate.
int effective_pace_kbps(const PublisherOptions& options) {
  if (options.pace_kbps) {
    return *options.pace_kbps;
  }
  return options.video_path.empty() ? options.bitrate_kbps * 5 / 2 : 0;
}

Result<LoadedMedia> load_media(const PublisherOptions& options) {
  MediaFiles files{options.video_path, options.audio_path};
  if (files.video_path.empty()) {
    GeneratedMediaParams params;
    params.width = options.width;
    params.height = options.height;
    params.fps = options.fps;
    params.video_kbps = options.bitrate_kbps;
    auto generated = ensure_generated_media(params, [](const std::string& line) {
      std::fprintf(stderr, "publish: %s\n", line.c_str());
    });
    if (!generated) {
      return generated.error();
    }
    files = *generated;
  }
  LoadedMedia media;
  auto video = load_h264_file(files.video_path);
  if (!video) {
    return video.error();
  }
  media.video = std::move(*video);
  if (!files.audio_path.empty()) {
    auto audio = load_ogg_opus_file(files.audio_path);
    if (!audio) {
      return audio.error();
    }
    media.audio = std::move(*audio);
  }
  return media;
}

std::string publisher_usage() {
  return "usage: media-server publish --url URL [--token T] [--video FILE.h264] "
         "[--audio FILE.ogg]\n"
         "                            [--seconds N] [--size 1280x720] [--fps 30] "
         "[--bitrate 2500]\n"
         "                            [--pace-kbps K] [--like obs|browser]\n\n"
         "Publishes H.264 + Opus over WHIP to URL until --seconds or SIGINT/SIGTERM, then sends\n"
         "the WHIP DELETE and prints one JSON summary line on stdout. Without --video the test\n"
         "stream is generated once with ffmpeg and cached under $XDG_CACHE_HOME/ivs-media-server\n"
         "(or ~/.cache/ivs-media-server). --video takes an Annex-B H.264 stream that starts with\n"
         "an IDR (Baseline, no B-frames for IVS); --audio an Ogg Opus file (48 kHz).\n"
         "Packets are paced like a browser's (2.5 x --bitrate for generated media, off for\n"
         "--video files unless --pace-kbps is given; --pace-kbps 0 sends frames as bursts).\n"
         "--like obs sends SPS and PPS in packets of their own and ignores PLI/FIR, as OBS does;\n"
         "the default (browser) aggregates them into STAP-A and answers a keyframe request.\n"
         "Exit status: 0 if it connected, 1 if not (or the POST was refused), 2 bad usage.\n";
}

Result<PublisherOptions> parse_publisher_args(const std::vector<std::string>& args) {
  PublisherOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& name = args[i];
    if (name.rfind("--", 0) != 0) {
      return make_error("unexpected argument \"" + name + "\" (see --help)");
    }
    std::string value;
    if (const auto equals = name.find('='); equals != std::string::npos) {
      value = name.substr(equals + 1);
      if (auto applied = apply_option(name.substr(0, equals), value, options); !applied) {
        return applied.error();
      }
      continue;
    }
    if (i + 1 >= args.size()) {
      return make_error(name + " needs a value");
    }
    if (auto applied = apply_option(name, args[++i], options); !applied) {
      return applied.error();
    }
  }
  if (options.url.empty()) {
    return make_error("--url is required (the WHIP endpoint, e.g. http://127.0.0.1:3002/whip/s1)");
  }
  auto url = boost::urls::parse_absolute_uri(options.url);
  if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty()) {
    return make_error("--url must be an absolute http:// or https:// URL; got \"" + options.url +
                      "\"");
  }
  if (options.video_path.empty() && !options.audio_path.empty()) {
    return make_error("--audio needs --video too (IVS refuses audio-only offers)");
  }
  return options;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") {
    return true;
  }
  return host.rfind("127.", 0) == 0;
}

std::string PublisherSummary::to_json() const {
  boost::json::object json;
  json["connected"] = connected;
  json["videoFrames"] = video_frames;
  json["videoPackets"] = video_packets;
  json["audioPackets"] = audio_packets;
  json["keyframes"] = keyframes;
  json["nacks"] = nacks;
  json["retransmitted"] = retransmitted;
  json["plis"] = plis;
  json["loops"] = loops;
  json["deleted"] = deleted;
  json["resource"] = resource_url;
  json["failure"] = failure;
  return boost::json::serialize(json);
}

}  // namespace ivs::app
