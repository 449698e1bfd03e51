#include "app/roles/demo_children.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>

extern char** environ;

namespace ivs::app::demo {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The signals the supervisor takes with sigtimedwait(): the three that mean "stop the demo", and
// SIGCHLD, which says a child ended.
sigset_t supervisor_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) {
    sigaddset(&set, signal);
  }
  return set;
}

// Closes the descriptor when it goes out of scope.
struct FileDescriptor {
  explicit FileDescriptor(int value) : fd(value) {}
  ~FileDescriptor() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int fd;
};

// argv and envp for execve(), built before fork() because the child may only make
// async-signal-safe calls (no allocation) until exec.
struct ExecImage {
  std::vector<std::string> strings;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

ExecImage exec_image(const ChildSpec& spec) {
  Environment environment = process_environment();
  for (const auto& [name, value] : spec.environment) {
    environment[name] = value;
  }
  ExecImage image;
  image.strings.reserve(spec.args.size() + 1 + environment.size());
  image.strings.emplace_back("media-server");
  image.strings.insert(image.strings.end(), spec.args.begin(), spec.args.end());
  const std::size_t argument_count = image.strings.size();
  for (const auto& [name, value] : environment) {
    std::string assignment = name;
    assignment += '=';
    assignment += value;
    image.strings.push_back(std::move(assignment));
  }
  for (std::size_t i = 0; i < image.strings.size(); ++i) {
    (i < argument_count ? image.argv : image.envp).push_back(image.strings[i].data());
  }
  image.argv.push_back(nullptr);
  image.envp.push_back(nullptr);
  return image;
}

// Runs in the forked child: only async-signal-safe calls until execve().
[[noreturn]] void exec_child(const ExecImage& image, int log, int null, pid_t parent) {
  ::setpgid(0, 0);
  // The kernel sends SIGTERM when the supervisor dies; the check closes the race in which it
  // died before the request was made.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) {
    ::_exit(1);
  }
  ::dup2(null, STDIN_FILENO);
  ::dup2(log, STDOUT_FILENO);
  ::dup2(log, STDERR_FILENO);
  // The role installs its own handlers; an ignored SIGINT/SIGTERM inherited from whoever started
  // the demo would survive exec and make the child unstoppable.
  struct sigaction action = {};
  action.sa_handler = SIG_DFL;
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) {
    ::sigaction(signal, &action, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // /proc/self/exe is this very binary, even if build/media-server was rebuilt meanwhile.
  ::execve("/proc/self/exe", image.argv.data(), image.envp.data());
  static const char kMessage[] = "media-server demo: execve(/proc/self/exe) failed\n";
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  ::_exit(127);
}

timespec to_timespec(milliseconds duration) {
  const auto count = std::max<milliseconds::rep>(duration.count(), 0);
  return timespec{static_cast<time_t>(count / 1000), static_cast<long>(count % 1000) * 1000000};
}

// Waits until `fd` has `events` or `until` passes.
bool wait_fd(int fd, short events, Clock::time_point until) {
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd entry = {fd, events, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(left.count()));
    if (ready > 0) {
      return true;
    }
    if (ready < 0 && errno != EINTR) {
      return false;
    }
  }
}

// "HTTP/1.1 200 OK\r\n..." -> 200; 0 for anything else.
int parse_status_line(const std::string& head) {
  if (head.size() < 12 || head.compare(0, 7, "HTTP/1.") != 0) {
    return 0;
  }
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (head[i] < '0' || head[i] > '9') {
      return 0;
    }
    status = status * 10 + (head[i] - '0');
  }
  return status;
}

bool connect_loopback(int fd, std::uint16_t port, Clock::time_point until) {
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 &&
      errno != EINPROGRESS) {
    return false;
  }
  int error = 0;
  socklen_t length = sizeof error;
  return wait_fd(fd, POLLOUT, until) &&
         ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0;
}

}  // namespace

void block_supervisor_signals() {
  const sigset_t set = supervisor_signals();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

int http_get_status(std::uint16_t port, const std::string& path, milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  const FileDescriptor socket(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (socket.fd < 0 || !connect_loopback(socket.fd, port, until)) {
    return 0;
  }
  const std::string request = "GET " + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                              "\r\nConnection: close\r\n\r\n";
  // A request this small fits the empty send buffer of a new connection in one call.
  if (::send(socket.fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return 0;
  }
  std::string head;
  while (head.find("\r\n") == std::string::npos && head.size() < 1024) {
    if (!wait_fd(socket.fd, POLLIN, until)) {
      return 0;
    }
    char buffer[512];
    const ssize_t received = ::recv(socket.fd, buffer, sizeof buffer, 0);
    if (received == 0 || (received < 0 && errno != EAGAIN && errno != EINTR)) {
      break;
    }
    if (received > 0) {
      head.append(buffer, static_cast<std::size_t>(received));
    }
  }
  return parse_status_line(head);
}

Children::Children(std::string log_dir) : log_dir_(std::move(log_dir)) {}

Status Children::start(const ChildSpec& spec) {
  const std::string path = log_dir_ + "/" + spec.name + ".log";
  const FileDescriptor log(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (log.fd < 0) {
    return make_error("cannot write " + path + ": " + std::strerror(errno) +
                      " (set DEMO_LOG_DIR to a writable directory)");
  }
  const FileDescriptor null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const ExecImage image = exec_image(spec);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    exec_child(image, log.fd, null.fd, parent);
  }
  if (pid < 0) {
    return make_error("cannot start " + spec.name + ": fork: " + std::strerror(errno));
  }
  // Also set here: whichever of parent and child runs first, the group exists before the
  // supervisor might signal it.
  ::setpgid(pid, pid);
  children_.push_back(Child{spec, pid, std::nullopt});
  return Ok{};
}

std::optional<std::size_t> Children::reap() {
  std::optional<std::size_t> first;
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      return first;
    }
    for (std::size_t i = 0; i < children_.size(); ++i) {
      if (children_[i].pid == pid && !children_[i].exit) {
        children_[i].exit = status;
        first = first ? first : std::optional<std::size_t>(i);
      }
    }
  }
}

Event Children::wait_event(milliseconds timeout) {
  if (auto ended = reap()) {
    return Event{Event::Kind::kChildEnded, 0, *ended};
  }
  const sigset_t set = supervisor_signals();
  const timespec wait = to_timespec(timeout);
  siginfo_t info = {};
  const int signal = ::sigtimedwait(&set, &info, &wait);
  if (signal == SIGCHLD) {
    if (auto ended = reap()) {
      return Event{Event::Kind::kChildEnded, 0, *ended};
    }
  } else if (signal > 0) {
    return Event{Event::Kind::kStopSignal, signal, 0};
  }
  return Event{};
}

Result<Event> Children::wait_ready(std::size_t index, std::chrono::seconds deadline) {
  const ChildSpec& spec = children_.at(index).spec;
  const auto until = Clock::now() + deadline;
  for (;;) {
    if (http_get_status(spec.health_port, spec.health_path, milliseconds(500)) == 200) {
      return Event{Event::Kind::kReady, 0, index};
    }
    const Event event = wait_event(milliseconds(100));
    if (event.kind != Event::Kind::kTimeout) {
      return event;
    }
    if (Clock::now() >= until) {
      return make_error(spec.name + " did not answer 200 at http://127.0.0.1:" +
                        std::to_string(spec.health_port) + spec.health_path + " within " +
                        std::to_string(deadline.count()) + " s");
    }
  }
}

bool Children::stop_one(std::size_t index, std::chrono::seconds grace, bool& hurry) {
  Child& child = children_.at(index);
  // The whole group: the test publisher may have an ffmpeg child generating test media.
  ::kill(-child.pid, SIGTERM);
  const auto until = Clock::now() + grace;
  while (!child.exit) {
    if (hurry || Clock::now() >= until) {
      ::kill(-child.pid, SIGKILL);
      int status = 0;
      while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
      }
      child.exit = status;
      return false;
    }
    const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now());
    if (wait_event(std::min(left, milliseconds(200))).kind == Event::Kind::kStopSignal) {
      std::printf("==> a second stop signal: killing the rest now\n");
      hurry = true;
    }
  }
  return true;
}

void Children::stop_all(std::chrono::seconds grace) {
  bool hurry = false;
  for (std::size_t i = children_.size(); i-- > 0;) {
    if (!running(i)) {
      continue;
    }
    const auto started = Clock::now();
    const bool in_time = stop_one(i, grace, hurry);
    const std::chrono::duration<double> took = Clock::now() - started;
    std::printf("    %-12s %s after %.2f s%s\n", name(i).c_str(), how_it_ended(i).c_str(),
                took.count(), in_time ? "" : " (did not stop on SIGTERM in time: SIGKILL)");
  }
}

bool Children::exited_cleanly(std::size_t index) const {
  const auto& exit = children_.at(index).exit;
  return exit && WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0;
}

std::string Children::how_it_ended(std::size_t index) const {
  const auto& exit = children_.at(index).exit;
  if (!exit) {
    return "still running";
  }
  if (WIFEXITED(*exit)) {
    return "exit code " + std::to_string(WEXITSTATUS(*exit));
  }
  const int signal = WTERMSIG(*exit);
  const char* text = ::strsignal(signal);
  return "killed by signal " + std::to_string(signal) +
         (text ? std::string(" (") + text + ")" : "");
}

std::string Children::log_path(std::size_t index) const {
  return log_dir_ + "/" + name(index) + ".log";
}

std::string Children::log_tail(std::size_t index, std::size_t lines) const {
  std::ifstream file(log_path(index));
  std::deque<std::string> tail;
  for (std::string line; std::getline(file, line);) {
    tail.push_back(std::move(line));
    if (tail.size() > lines) {
      tail.pop_front();
    }
  }
  std::string text;
  for (const std::string& line : tail) {
    text += "    " + line + "\n";
  }
  return text;
}

std::string Children::running_names() const {
  std::string names;
  for (std::size_t i = 0; i < children_.size(); ++i) {
    if (running(i)) {
      names += (names.empty() ? "" : ", ") + name(i) + " (pid " + std::to_string(pid(i)) + ")";
    }
  }
  return names;
}

}  // namespace ivs::app::demo
