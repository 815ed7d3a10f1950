// Single-threaded poll() loop with a timer heap. Everything in the runner
// (pipes, network delivery, clients, nemesis) runs as callbacks here, so no
// state is shared across threads.
#pragma once

#include <poll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <queue>
#include <vector>

namespace runner {

class EventLoop {
 public:
  using Callback = std::function<void()>;
  using FdCallback = std::function<void(short revents)>;

  // Runs cb at monotonic time t_ns (or as soon as possible after).
  void at(int64_t t_ns, Callback cb);
  void after(int64_t dt_ns, Callback cb);

  // Watches fd for events; replaces any previous watch of fd.
  void watch(int fd, short events, FdCallback cb);
  void set_events(int fd, short events);
  void unwatch(int fd);

  // Called once per iteration, e.g. to reap children.
  void add_tick(Callback cb) { ticks_.push_back(std::move(cb)); }

  // One iteration: waits for I/O or the next timer, but at most max_wait_ns.
  void run_once(int64_t max_wait_ns = 20'000'000);
  // Iterates until done() returns true.
  void run_until(const std::function<bool()>& done);

 private:
  struct Timer {
    int64_t t;
    uint64_t seq;  // keeps equal-time timers in insertion order
    bool operator>(const Timer& o) const { return t != o.t ? t > o.t : seq > o.seq; }
  };
  struct Watch {
    short events;
    uint64_t generation;
    FdCallback cb;
  };

  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::map<uint64_t, Callback> timer_cbs_;
  uint64_t next_seq_ = 0;
  std::map<int, Watch> watches_;
  uint64_t next_generation_ = 0;
  std::vector<Callback> ticks_;
};

}  // namespace runner
