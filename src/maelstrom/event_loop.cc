#include "maelstrom/event_loop.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <iostream>

#include "maelstrom/line_reader.h"

namespace raftkv::maelstrom {
namespace {

std::atomic<bool> g_stop{false};

bool write_all(std::string_view data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(STDOUT_FILENO, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd p{STDOUT_FILENO, POLLOUT, 0};
        ::poll(&p, 1, 100);
        continue;
      }
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

bool blank(std::string_view s) {
  return s.find_first_not_of(" \t\r") == std::string_view::npos;
}

// A line the node never sees as a line (over --max-line-bytes) still gets
// error 12 when its src and msg_id were recovered: the node answers it
// through Node::handle_unparseable(const ParseResult&). Until the node has
// that method this only logs (the detection keeps both states building).
template <class N>
void hand_unparseable(N& node, const ParseResult& r) {
  if constexpr (requires { node.handle_unparseable(r); }) {
    node.handle_unparseable(r);
  } else {
    if (r.msg_id && !r.src.empty()) {
      std::cerr << "raftkv: cannot answer msg_id " << *r.msg_id << " from " << r.src
                << ": this node has no handle_unparseable" << std::endl;
    }
  }
}

}  // namespace

void request_stop() {
  g_stop = true;
}

bool Output::flush() {
  if (buf_.empty()) return true;
  bool ok = write_all(buf_);
  buf_.clear();
  return ok;
}

int run_event_loop(Node& node, Output& out, const LoopOptions& o) {
  using Clock = std::chrono::steady_clock;
  ::fcntl(STDIN_FILENO, F_SETFL, ::fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
  LineReader reader(o.max_line_bytes);
  auto on_line = [&](std::string_view line) {
    if (!blank(line)) node.handle_line(line);
  };
  auto on_oversized = [&](size_t n, const ParseResult& r) {
    std::cerr << "raftkv: dropped a " << n << "-byte line (limit " << o.max_line_bytes
              << " bytes; see --max-line-bytes)" << std::endl;
    hand_unparseable(node, r);
  };
  const auto tick = std::chrono::milliseconds(o.tick_ms);
  auto next_tick = Clock::now() + tick;
  auto next_stats = Clock::now() + std::chrono::milliseconds(o.stats_interval_ms);
  bool eof = false;
  Clock::time_point drain_deadline{};
  std::string buf(1 << 16, '\0');

  while (!g_stop) {
    auto now = Clock::now();
    int timeout = next_tick > now
                      ? static_cast<int>(
                            std::chrono::ceil<std::chrono::milliseconds>(next_tick - now).count())
                      : 0;
    pollfd p{STDIN_FILENO, POLLIN, 0};
    int ready = ::poll(&p, eof ? 0 : 1, timeout);
    if (ready > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
      // Bounded per turn so a flood of input cannot starve ticks.
      for (int i = 0; i < 64; ++i) {
        ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
        if (n > 0) {
          reader.feed(std::string_view(buf.data(), static_cast<size_t>(n)), on_line, on_oversized);
          continue;
        }
        if (n == 0) {
          reader.finish(on_line, on_oversized);
          eof = true;
          drain_deadline = Clock::now() + std::chrono::milliseconds(o.drain_ms);
        } else if (errno == EINTR) {
          continue;
        }
        break;
      }
    }
    now = Clock::now();
    if (now >= next_tick) {
      node.tick();
      next_tick += tick;
      // After a stall (e.g. SIGSTOP) do not replay every missed tick at once.
      if (next_tick < now) next_tick = now + tick;
    }
    node.drive();
    if (!out.flush()) {
      std::cerr << "raftkv: stdout is closed; exiting" << std::endl;
      return 1;
    }
    if (node.fatal()) return 1;
    if (o.stats_interval_ms > 0 && now >= next_stats) {
      std::cerr << "raftkv stats: " << node.stats() << std::endl;
      next_stats = now + std::chrono::milliseconds(o.stats_interval_ms);
    }
    if (eof && (node.pending() == 0 || Clock::now() >= drain_deadline)) return 0;
  }
  out.flush();
  return 0;
}

}  // namespace raftkv::maelstrom
