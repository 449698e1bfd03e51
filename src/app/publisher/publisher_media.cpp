#include "app/publisher/publisher_media.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

extern char** environ;

namespace ivs::app {

namespace {

namespace fs = std::filesystem;

struct SpawnResult {
  bool started = false;
  int error = 0;
  int exit_status = -1;
};

// Runs `args` (args[0] looked up on PATH) with stdin from /dev/null and stdout/stderr appended
// to `log_path`, and waits for it.
SpawnResult run_logged(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& arg : args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  SpawnResult result;
  const int error = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    result.error = error;
    return result;
  }
  result.started = true;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string lavfi_video(const GeneratedMediaParams& p) {
  return "testsrc2=size=" + std::to_string(p.width) + "x" + std::to_string(p.height) +
         ":rate=" + std::to_string(p.fps) + ":duration=" + std::to_string(p.seconds);
}

std::vector<std::string> video_command(const GeneratedMediaParams& p, const std::string& out,
                                       bool with_clock) {
  const std::string kbps = std::to_string(p.video_kbps) + "k";
  const std::string gop = std::to_string(p.fps);
  std::vector<std::string> args = {"ffmpeg", "-hide_banner", "-nostdin", "-y",
                                   "-f",     "lavfi",        "-i",       lavfi_video(p)};
  if (with_clock) {
    // The running time, large and boxed, so a viewer sees at a glance that frames advance.
    const int font = std::max(16, p.height / 12);
    args.insert(args.end(),
                {"-vf", "drawtext=text='%{pts\\:hms}':fontsize=" + std::to_string(font) +
                            ":fontcolor=white:box=1:boxcolor=black@0.6:x=20:y=20"});
  }
  args.insert(args.end(), {"-c:v",
                           "libx264",
                           "-profile:v",
                           "baseline",
                           "-bf",
                           "0",
                           "-g",
                           gop,
                           "-keyint_min",
                           gop,
                           "-sc_threshold",
                           "0",
                           "-preset",
                           "veryfast",
                           "-tune",
                           "zerolatency",
                           "-x264-params",
                           "sliced-threads=0",
                           "-pix_fmt",
                           "yuv420p",
                           "-b:v",
                           kbps,
                           "-maxrate",
                           kbps,
                           "-bufsize",
                           kbps,
                           "-f",
                           "h264",
                           out});
  return args;
}

std::vector<std::string> audio_command(const GeneratedMediaParams& p, const std::string& out) {
  return {"ffmpeg",
          "-hide_banner",
          "-nostdin",
          "-y",
          "-f",
          "lavfi",
          "-i",
          "sine=frequency=440:sample_rate=48000:duration=" + std::to_string(p.seconds),
          "-c:a",
          "libopus",
          "-b:a",
          std::to_string(p.audio_kbps) + "k",
          "-frame_duration",
          "20",
          "-ar",
          "48000",
          "-ac",
          "1",
          "-f",
          "ogg",
          out};
}

std::string missing_ffmpeg_message() {
  return "ffmpeg not found on PATH: install it (Debian: apt-get install ffmpeg) or pass "
         "--video FILE.h264 --audio FILE.ogg";
}

// Runs one ffmpeg command into `tmp`, then renames it to `final_path`.
Status produce(const std::vector<std::string>& args, const std::string& tmp,
               const std::string& final_path, const std::string& log_path) {
  const SpawnResult run = run_logged(args, log_path);
  if (!run.started) {
    if (run.error == ENOENT) {
      return make_error(missing_ffmpeg_message());
    }
    return make_error(std::string("cannot start ffmpeg: ") + std::strerror(run.error));
  }
  if (run.exit_status != 0) {
    return make_error("ffmpeg failed with status " + std::to_string(run.exit_status) + "; see " +
                      log_path);
  }
  std::error_code error;
  fs::rename(tmp, final_path, error);
  if (error) {
    return make_error("cannot rename " + tmp + ": " + error.message());
  }
  return Ok{};
}

}  // namespace

std::string generated_media_dir(const GeneratedMediaParams& params, const std::string& cache_home,
                                const std::string& home) {
  const std::string base = !cache_home.empty() ? cache_home
                           : !home.empty()     ? home + "/.cache"
                                               : std::string("/tmp");
  return base + "/ivs-media-server/" + std::to_string(params.width) + "x" +
         std::to_string(params.height) + "-" + std::to_string(params.fps) + "fps-" +
         std::to_string(params.video_kbps) + "k-" + std::to_string(params.seconds) + "s-v1";
}

Result<MediaFiles> ensure_generated_media(const GeneratedMediaParams& params,
                                          const std::function<void(const std::string&)>& progress) {
  const char* cache_home = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const std::string dir =
      generated_media_dir(params, cache_home ? cache_home : "", home ? home : "");
  MediaFiles files{dir + "/video.h264", dir + "/audio.ogg"};
  std::error_code error;
  if (fs::is_regular_file(files.video_path, error) &&
      fs::is_regular_file(files.audio_path, error)) {
    progress("using cached test media in " + dir);
    return files;
  }
  fs::create_directories(dir, error);
  if (error) {
    return make_error("cannot create the media cache " + dir + ": " + error.message());
  }
  const std::string log_path = dir + "/ffmpeg.log";
  const std::string pid = std::to_string(::getpid());
  if (!fs::is_regular_file(files.video_path, error)) {
    progress("generating " + std::to_string(params.seconds) + " s of H.264 " +
             std::to_string(params.width) + "x" + std::to_string(params.height) + " @ " +
             std::to_string(params.fps) + " fps, " + std::to_string(params.video_kbps) +
             " kbps with ffmpeg into " + dir + " (once; cached) ...");
    const std::string tmp = files.video_path + ".tmp" + pid;
    Status made = produce(video_command(params, tmp, true), tmp, files.video_path, log_path);
    if (!made && made.error().message.find("ffmpeg failed") != std::string::npos) {
      progress("drawtext unavailable in this ffmpeg; generating without the clock overlay");
      made = produce(video_command(params, tmp, false), tmp, files.video_path, log_path);
    }
    if (!made) {
      fs::remove(tmp, error);
      return made.error();
    }
  }
  if (!fs::is_regular_file(files.audio_path, error)) {
    progress("generating " + std::to_string(params.seconds) + " s of Opus audio ...");
    const std::string tmp = files.audio_path + ".tmp" + pid;
    Status made = produce(audio_command(params, tmp), tmp, files.audio_path, log_path);
    if (!made) {
      fs::remove(tmp, error);
      return made.error();
    }
  }
  progress("test media ready in " + dir);
  return files;
}

}  // namespace ivs::app
