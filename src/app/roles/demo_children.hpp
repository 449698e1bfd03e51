// The process supervision behind `media-server demo` (demo_role.hpp): it starts other roles of
// this same executable as child processes with their output in log files, waits for each to
// answer on its health URL, notices a child that ends on its own, and stops them all in reverse
// start order.
//
// Everything here is plain POSIX on one thread, so that fork() is safe to call: SIGINT,
// SIGTERM, SIGHUP and SIGCHLD are blocked for the whole run and taken with sigtimedwait(), which
// also serves as the sleep between health probes. Each child runs in its own process group, so a
// Ctrl-C on the terminal reaches only the supervisor, which then decides the stop order (the
// media server must DELETE its stage sessions while the stage and the API server still listen).
// A child also gets SIGTERM from the kernel if the supervisor itself dies (PR_SET_PDEATHSIG), so
// no server outlives a killed demo.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app/roles/config.hpp"
#include "proto/result.hpp"

namespace ivs::app::demo {

// One child: `media-server <args...>` with `environment` added to the supervisor's own.
struct ChildSpec {
  std::string name;               // shown to the user; the log is <log dir>/<name>.log
  std::vector<std::string> args;  // the role and its arguments
  Environment environment;        // overrides of the inherited environment
  std::uint16_t health_port = 0;  // GET http://127.0.0.1:<port><path> answers 200 when ready
  std::string health_path;        // empty: the child has no readiness check
};

// What a wait for the next event returned.
struct Event {
  enum class Kind { kTimeout, kReady, kStopSignal, kChildEnded };
  Kind kind = Kind::kTimeout;
  int signal = 0;         // kStopSignal: which one
  std::size_t child = 0;  // kReady, kChildEnded: index in start order
};

// Blocks the signals the supervisor takes synchronously; call before starting any child.
void block_supervisor_signals();

// The status of GET http://127.0.0.1:<port><path>, or 0 when nothing answered in `timeout`.
int http_get_status(std::uint16_t port, const std::string& path, std::chrono::milliseconds timeout);

class Children {
 public:
  explicit Children(std::string log_dir);
  Children(const Children&) = delete;
  Children& operator=(const Children&) = delete;

  // Starts the child (fork + exec of /proc/self/exe). Errors say what could not be done.
  Status start(const ChildSpec& spec);
  // Waits up to `timeout` for a stop signal or for a child to end (reaped here).
  Event wait_event(std::chrono::milliseconds timeout);
  // Probes the child's health URL until it answers 200 (kReady), `deadline` passes (an error
  // naming the URL), a child ends or a stop signal arrives (both returned as the Event).
  Result<Event> wait_ready(std::size_t index, std::chrono::seconds deadline);
  // SIGTERM to each running child in reverse start order, waiting up to `grace` for each before
  // SIGKILL; a second stop signal meanwhile kills the rest at once. Prints one line per child.
  void stop_all(std::chrono::seconds grace);

  std::size_t count() const { return children_.size(); }
  const std::string& name(std::size_t index) const { return children_.at(index).spec.name; }
  pid_t pid(std::size_t index) const { return children_.at(index).pid; }
  bool running(std::size_t index) const { return !children_.at(index).exit.has_value(); }
  bool exited_cleanly(std::size_t index) const;
  // "exit code 1" or "killed by signal 9 (Killed)", for an ended child.
  std::string how_it_ended(std::size_t index) const;
  std::string log_path(std::size_t index) const;
  // The last `lines` lines of the child's log, for error reports.
  std::string log_tail(std::size_t index, std::size_t lines) const;
  // "stage (pid 12), media-server (pid 13)": the children still running, in start order.
  std::string running_names() const;

 private:
  struct Child {
    ChildSpec spec;
    pid_t pid = -1;
    std::optional<int> exit;  // the wait status once reaped
  };

  // Reaps every ended child; returns the index of the first one found, if any.
  std::optional<std::size_t> reap();
  bool stop_one(std::size_t index, std::chrono::seconds grace, bool& hurry);

  std::string log_dir_;
  std::vector<Child> children_;
};

}  // namespace ivs::app::demo
