// Test media for `media-server publish`: an IVS-compatible H.264 + Opus clip generated once with
// ffmpeg and cached, so a publisher starts in milliseconds after the first run.
//
// The clip follows the Amazon IVS Real-Time limits (DESIGN.md §3): H.264 Constrained Baseline,
// no B-frames, an IDR every second (-g = fps, no scene-cut keyframes), one slice per picture
// (zerolatency alone would use sliced threads, two slices per frame on a 2-core machine), and
// Opus at 48 kHz in 20 ms packets. The picture is testsrc2 with the running time burnt in
// (when ffmpeg's drawtext works here; otherwise plain testsrc2), the sound a 440 Hz sine.
//
// Cache: $XDG_CACHE_HOME/ivs-media-server/<W>x<H>-<fps>fps-<kbps>k-v1/ (or ~/.cache/...), with
// video.h264 and audio.ogg written under temporary names and renamed, so an interrupted run
// never leaves a half file that a later run would trust.
#pragma once

#include <functional>
#include <string>

#include "proto/result.hpp"

namespace ivs::app {

struct GeneratedMediaParams {
  int width = 1280;
  int height = 720;
  int fps = 30;
  int video_kbps = 2500;
  int audio_kbps = 64;
  int seconds = 10;  // clip length; the publisher loops it
};

struct MediaFiles {
  std::string video_path;  // Annex-B .h264
  std::string audio_path;  // Ogg Opus .ogg
};

// The cache directory for `params` under `cache_home` (XDG_CACHE_HOME, or $HOME/.cache when
// empty). Pure, for tests.
std::string generated_media_dir(const GeneratedMediaParams& params, const std::string& cache_home,
                                const std::string& home);

// Returns the cached files for `params`, generating them with ffmpeg first when missing.
// `progress` gets human-readable lines (for stderr). Errors: ffmpeg missing ("ffmpeg not found
// on PATH: install it (Debian: apt-get install ffmpeg) or pass --video/--audio files"), or
// ffmpeg failing (its exit status and the log file to read).
Result<MediaFiles> ensure_generated_media(const GeneratedMediaParams& params,
                                          const std::function<void(const std::string&)>& progress);

}  // namespace ivs::app
