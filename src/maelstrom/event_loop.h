// The process's event loop: stdin lines and clock ticks in, stdout lines
// out. One thread; each turn reads whatever input is ready, lets the node
// handle it, ticks, drives Raft once for the whole batch (group commit) and
// writes all output with as few syscalls as possible.
#pragma once

#include <cstddef>
#include <string>

#include "maelstrom/node.h"

namespace raftkv::maelstrom {

struct LoopOptions {
  int tick_ms = 10;
  size_t max_line_bytes = 64 << 20;
  int stats_interval_ms = 0;  // 0: no stats lines on stderr
  int drain_ms = 500;         // after stdin closes, how long to wait for pending answers
};

// Outgoing lines collect here and leave in one write per loop turn.
class Output {
 public:
  void line(std::string s) {
    buf_ += s;
    buf_ += '\n';
  }
  bool flush();  // false when stdout is gone

 private:
  std::string buf_;
};

// Returns the process exit code: 0 after stdin closed, 1 on a fatal error.
int run_event_loop(Node& node, Output& out, const LoopOptions& options);

// Asks a running loop to stop (async-signal-safe).
void request_stop();

}  // namespace raftkv::maelstrom
