// A single-threaded readiness loop on Linux epoll (level-triggered).
//
// Why epoll directly and not asio/libevent: the server core is
// single-threaded and driven by one loop turn at a time; there are only
// three kinds of fd (listening sockets, connections, a wake-up eventfd);
// and a thin loop adds no dependency, keeps every syscall visible and lets
// the caller decide when to tick and flush (group commit) instead of a
// callback scheduler deciding for it.
//
// Handlers may add, modify or remove any fd (their own included) while the
// loop dispatches: an event whose registration was removed or replaced
// during the same turn is not delivered (each registration carries a
// generation, so a reused fd number never receives a stale event).
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "net/socket.h"

namespace raftkv::net {

class EventLoop {
 public:
  // Receives the epoll event bits (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP...).
  using Handler = std::function<void(uint32_t events)>;

  EventLoop();  // throws std::runtime_error if epoll or eventfd fail
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // The loop does not own `fd`: remove it before closing it.
  void add(int fd, uint32_t events, Handler handler);
  void modify(int fd, uint32_t events);
  void remove(int fd);
  bool watching(int fd) const { return handlers_.count(fd) > 0; }

  // Waits up to timeout_ms (-1: forever, 0: poll) and dispatches what is
  // ready. Returns the number of events dispatched (0 on timeout or wake).
  int run_once(int timeout_ms);

  // Makes a waiting or the next run_once return at once. Async-signal-safe
  // and callable from any thread.
  void wake();

 private:
  struct Registration {
    uint32_t generation;
    std::shared_ptr<Handler> handler;  // kept alive while it runs
  };

  Fd epoll_;
  Fd wake_fd_;  // eventfd
  uint32_t next_generation_ = 1;
  std::unordered_map<int, Registration> handlers_;
  std::vector<epoll_event> events_;
};

}  // namespace raftkv::net
