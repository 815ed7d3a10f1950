#include "process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "clock.h"

namespace runner {
namespace {

// Fixed-size table of live process groups, readable from a signal handler.
constexpr int kMaxChildren = 4096;
std::array<std::atomic<pid_t>, kMaxChildren> g_children{};

void register_child(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = 0;
    if (slot.compare_exchange_strong(expected, pid)) return;
  }
}

void unregister_child(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

void on_fatal_signal(int sig) {
  kill_all_children();
  signal(sig, SIG_DFL);
  raise(sig);
}

void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

}  // namespace

void kill_all_children() {
  for (auto& slot : g_children) {
    pid_t pid = slot.load();
    if (pid > 0) ::kill(-pid, SIGKILL);
  }
}

void install_child_cleanup() {
  // A node that dies mid-write must not kill the runner.
  signal(SIGPIPE, SIG_IGN);
  std::atexit(kill_all_children);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) signal(sig, on_fatal_signal);
}

void reap_children(const std::vector<NodeProcess*>& nodes) {
  while (true) {
    int status = 0;
    struct rusage ru {};
    pid_t pid = wait4(-1, &status, WNOHANG, &ru);
    if (pid <= 0) return;
    for (NodeProcess* n : nodes) {
      if (n->pid() == pid) n->handle_exit(status, ru);
    }
  }
}

NodeProcess::NodeProcess(EventLoop& loop, NodeSpec spec, LineCallback on_line, ExitCallback on_exit)
    : loop_(loop),
      spec_(std::move(spec)),
      on_line_(std::move(on_line)),
      on_exit_(std::move(on_exit)) {}

NodeProcess::~NodeProcess() {
  if (running()) kill();
  if (log_) fclose(log_);
}

void NodeProcess::log_marker(const std::string& text) {
  if (!log_) return;
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%F %T", std::localtime(&t));
  fmt::print(log_, "---- maelstrom-runner {}: {} ----\n", buf, text);
  fflush(log_);
}

bool NodeProcess::start(std::string* error) {
  if (!log_) log_ = fopen(spec_.log_path.c_str(), "a");
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    *error = fmt::format("pipe: {}", strerror(errno));
    return false;
  }
  // Build argv before fork: the child may only call async-signal-safe code.
  std::vector<std::string> argv_s{spec_.bin};
  argv_s.insert(argv_s.end(), spec_.args.begin(), spec_.args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t parent = getpid();

  pid_t pid = fork();
  if (pid < 0) {
    *error = fmt::format("fork: {}", strerror(errno));
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
    return false;
  }
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    // An ignored SIGPIPE would survive exec; nodes expect the default.
    signal(SIGPIPE, SIG_DFL);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) signal(sig, SIG_DFL);
    dup2(in[0], 0);
    dup2(spec_.stdout_to_log ? err[1] : out[1], 1);
    dup2(err[1], 2);
    if (!spec_.netns.empty()) {
      int ns = open(spec_.netns.c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
        const char msg[] = "maelstrom-runner: cannot enter the node's network namespace\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(127);
      }
    }
    if (chdir(spec_.dir.c_str()) != 0) {
      const char msg[] = "maelstrom-runner: chdir to node directory failed\n";
      (void)!write(2, msg, sizeof msg - 1);
      _exit(127);
    }
    execv(argv[0], argv.data());
    const char msg[] = "maelstrom-runner: exec of node binary failed\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  // Also set the group from the parent so kill(-pid) works even if the child
  // has not run yet.
  setpgid(pid, pid);
  register_child(pid);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  in_fd_ = in[1];
  out_fd_ = out[0];
  err_fd_ = err[0];
  for (int fd : {in_fd_, out_fd_, err_fd_}) set_nonblocking(fd);
  pid_ = pid;
  paused_ = false;
  in_buf_.clear();
  in_off_ = 0;
  out_buf_.clear();
  ++starts_;
  log_marker(fmt::format("{} {} (pid {})", starts_ == 1 ? "started" : "restarted", spec_.id, pid));
  loop_.watch(out_fd_, POLLIN, [this](short r) { on_stdout(r); });
  loop_.watch(err_fd_, POLLIN, [this](short r) { on_stderr(r); });
  loop_.watch(in_fd_, 0, [this](short r) { on_stdin(r); });
  return true;
}

void NodeProcess::send_line(std::string_view line) {
  if (!running() || in_fd_ < 0) return;
  in_buf_.append(line);
  in_buf_.push_back('\n');
  on_stdin(POLLOUT);
}

void NodeProcess::on_stdin(short) {
  while (in_fd_ >= 0 && in_off_ < in_buf_.size()) {
    ssize_t n = write(in_fd_, in_buf_.data() + in_off_, in_buf_.size() - in_off_);
    if (n > 0) {
      in_off_ += n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    // EPIPE: the node closed stdin or died; what it did not read is lost.
    in_buf_.clear();
    in_off_ = 0;
    close_fd(&in_fd_);
    return;
  }
  if (in_off_ == in_buf_.size()) {
    in_buf_.clear();
    in_off_ = 0;
  } else if (in_off_ > (1 << 20)) {
    in_buf_.erase(0, in_off_);
    in_off_ = 0;
  }
  if (in_fd_ >= 0) loop_.set_events(in_fd_, in_buf_.empty() ? 0 : POLLOUT);
}

void NodeProcess::on_stdout(short) {
  char buf[65536];
  while (out_fd_ >= 0) {
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n > 0) {
      out_buf_.append(buf, n);
      size_t start = 0, nl;
      while ((nl = out_buf_.find('\n', start)) != std::string::npos) {
        std::string line = out_buf_.substr(start, nl - start);
        start = nl + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) on_line_(spec_.id, std::move(line));
      }
      out_buf_.erase(0, start);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    close_fd(&out_fd_);  // EOF or error
  }
}

void NodeProcess::on_stderr(short) {
  char buf[65536];
  while (err_fd_ >= 0) {
    ssize_t n = read(err_fd_, buf, sizeof buf);
    if (n > 0) {
      if (log_) fwrite(buf, 1, n, log_);
      scan_stderr(std::string_view(buf, n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    close_fd(&err_fd_);
  }
  if (log_) fflush(log_);
}

void NodeProcess::scan_stderr(std::string_view chunk) {
  // Whole lines only, so lines of different nodes never interleave.
  err_line_.append(chunk);
  size_t start = 0, nl;
  int64_t now = mono_ns();
  while ((nl = err_line_.find('\n', start)) != std::string::npos) {
    std::string_view line = std::string_view(err_line_).substr(start, nl - start);
    if (spec_.echo_stderr) fmt::print(stderr, "[{}] {}\n", spec_.id, line);
    if (auto fields = parse_stats_line(line)) stats_.push_back({now, starts_, std::move(*fields)});
    start = nl + 1;
  }
  err_line_.erase(0, start);
  // A node that never ends its lines must not grow this without bound.
  if (err_line_.size() > (1 << 16)) err_line_.clear();
}

double NodeProcess::cpu_seconds() const {
  return dead_cpu_s_ + (running() ? proc_cpu_seconds(pid_).value_or(0) : 0);
}

void NodeProcess::reaped(const struct rusage& ru) {
  dead_cpu_s_ += rusage_cpu_seconds(ru);
}

void NodeProcess::close_fd(int* fd) {
  if (*fd < 0) return;
  loop_.unwatch(*fd);
  close(*fd);
  *fd = -1;
}

void NodeProcess::drain_and_close() {
  // Lines written before death were really sent; deliver them.
  on_stdout(POLLIN);
  on_stderr(POLLIN);
  close_fd(&in_fd_);
  close_fd(&out_fd_);
  close_fd(&err_fd_);
  in_buf_.clear();
  in_off_ = 0;
  out_buf_.clear();
  err_line_.clear();  // a dead process's unfinished last line
}

void NodeProcess::kill() {
  if (!running()) return;
  pid_t pid = pid_;
  ::kill(-pid, SIGKILL);
  int status;
  struct rusage ru {};
  if (wait4(pid, &status, 0, &ru) == pid) reaped(ru);
  unregister_child(pid);
  pid_ = -1;
  paused_ = false;
  drain_and_close();
  log_marker(fmt::format("killed {} (SIGKILL)", spec_.id));
}

void NodeProcess::pause() {
  if (!running() || paused_) return;
  ::kill(-pid_, SIGSTOP);
  paused_ = true;
}

void NodeProcess::resume() {
  if (!running() || !paused_) return;
  ::kill(-pid_, SIGCONT);
  paused_ = false;
}

void NodeProcess::handle_exit(int status, const struct rusage& ru) {
  pid_t pid = pid_;
  reaped(ru);
  // Other members of the group (a wrapper script's children) go too.
  ::kill(-pid, SIGKILL);
  unregister_child(pid);
  pid_ = -1;
  paused_ = false;
  drain_and_close();
  std::string how = WIFEXITED(status) ? fmt::format("exited with status {}", WEXITSTATUS(status))
                                      : fmt::format("died of signal {}", WTERMSIG(status));
  log_marker(fmt::format("{} {}", spec_.id, how));
  if (on_exit_) on_exit_(spec_.id, status);
}

}  // namespace runner
