// Helpers for the net tests: a clock, a loop driver, and blocking client
// sockets on 127.0.0.1 that the test thread drives between loop turns.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>

#include "net/event_loop.h"
#include "net/socket.h"

namespace raftkv::net::testing {

inline int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Turns the loop (calling `each_turn` with the time) until `done` or the
// timeout; returns done().
inline bool run_until(EventLoop& loop, const std::function<bool()>& done, int timeout_ms = 3000,
                      const std::function<void(int64_t)>& each_turn = {}) {
  int64_t deadline = now_ms() + timeout_ms;
  while (!done()) {
    if (now_ms() > deadline) return false;
    loop.run_once(5);
    if (each_turn) each_turn(now_ms());
  }
  return true;
}

// A blocking connect to 127.0.0.1:port; the socket is then made
// non-blocking so the test can poll it between loop turns.
inline Fd connect_client(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Fd();
  }
  ::fcntl(fd.get(), F_SETFL, O_NONBLOCK);
  return fd;
}

inline void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) bytes.remove_prefix(n);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return;
  }
}

// Non-blocking read of what is there: appends to *got; returns false once
// the other side closed (EOF or reset).
inline bool read_available(int fd, std::string* got) {
  char buf[65536];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      got->append(buf, n);
      continue;
    }
    if (n == 0) return false;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }
}

// Runs the loop until the server closes `fd`.
inline bool closed_by_server(EventLoop& loop, int fd, int timeout_ms = 3000) {
  std::string ignored;
  return run_until(
      loop, [&] { return !read_available(fd, &ignored); }, timeout_ms);
}

}  // namespace raftkv::net::testing
