// One node's OS process: spawned in its own working directory and process
// group, stdout split into lines for the network, stderr appended to the
// node's log, stdin written without ever blocking the loop.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "event_loop.h"
#include "metrics.h"

namespace runner {

struct NodeSpec {
  std::string id;
  std::string bin;
  std::vector<std::string> args;
  std::string dir;       // working directory, kept across restarts
  std::string log_path;  // stderr goes here (appended)
  bool echo_stderr = false;
  // --net netns: the network namespace file (/run/netns/...) the process
  // runs in, and its stdout goes to the log like stderr (it speaks TCP).
  std::string netns;
  bool stdout_to_log = false;
};

class NodeProcess {
 public:
  using LineCallback = std::function<void(const std::string& node, std::string line)>;
  using ExitCallback = std::function<void(const std::string& node, int status)>;

  NodeProcess(EventLoop& loop, NodeSpec spec, LineCallback on_line, ExitCallback on_exit);
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  bool start(std::string* error);
  // SIGKILL the process group, drop pending input, keep what it already wrote.
  void kill();
  void pause();
  void resume();
  // Called by the reaper when wait4() reports this pid, with its rusage.
  void handle_exit(int status, const struct rusage& ru);

  // Queues one line (a newline is appended). Dropped while the node is down.
  void send_line(std::string_view line);

  const std::string& id() const { return spec_.id; }
  const NodeSpec& spec() const { return spec_; }
  // Takes effect at the next start (a replacement machine's command line).
  void set_args(std::vector<std::string> args) { spec_.args = std::move(args); }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  bool paused() const { return paused_; }
  int starts() const { return starts_; }
  // CPU seconds of every start of this node so far (dead ones from wait4's
  // rusage, the live one from /proc).
  double cpu_seconds() const;
  // "raftkv stats:" lines seen on stderr, with the time they were read.
  const std::vector<StatsSample>& stats_samples() const { return stats_; }

 private:
  void on_stdout(short revents);
  void on_stderr(short revents);
  void on_stdin(short revents);
  void drain_and_close();
  void close_fd(int* fd);
  void log_marker(const std::string& text);
  void scan_stderr(std::string_view chunk);
  void reaped(const struct rusage& ru);

  EventLoop& loop_;
  NodeSpec spec_;
  LineCallback on_line_;
  ExitCallback on_exit_;
  pid_t pid_ = -1;
  bool paused_ = false;
  int starts_ = 0;
  int in_fd_ = -1, out_fd_ = -1, err_fd_ = -1;
  std::string out_buf_;   // partial stdout line
  std::string err_line_;  // partial stderr line (echo and stats)
  std::string in_buf_;    // pending stdin bytes
  size_t in_off_ = 0;
  FILE* log_ = nullptr;
  double dead_cpu_s_ = 0;
  std::vector<StatsSample> stats_;
};

// Kills every live node process group; safe from signal handlers and atexit,
// so nodes never outlive the runner.
void kill_all_children();
void install_child_cleanup();

// Reaps exited children and routes them to their NodeProcess.
void reap_children(const std::vector<NodeProcess*>& nodes);

}  // namespace runner
