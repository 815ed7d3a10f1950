// Small POSIX socket helpers shared by TcpServer and PeerTransport. IPv4
// only; every socket is non-blocking and close-on-exec.
#pragma once

#include <cstdint>
#include <string>

namespace raftkv::net {

// An owned file descriptor: closed on destruction, movable.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A listening socket on host:port (port 0: the kernel picks one), with
// SO_REUSEADDR so a restarted server can rebind while old connections sit in
// TIME_WAIT. Throws std::runtime_error naming the address and the reason.
Fd listen_tcp(const std::string& host, uint16_t port, int backlog = 4096);
// The port a bound socket ended up on.
uint16_t local_port(int fd);

// Starts a non-blocking connect. Returns the socket (connected or, usually,
// in progress: wait for writability, then check connect_error()); an empty
// Fd and *error on immediate failure (bad address, no fds).
Fd start_connect(const std::string& host, uint16_t port, std::string* error);
// 0 when an in-progress connect succeeded, else its errno.
int connect_error(int fd);

// TCP_NODELAY (small Raft messages must not wait for Nagle) and SO_KEEPALIVE
// (a vanished peer's half-open connection eventually errors out).
void set_nodelay_keepalive(int fd);

// Raises RLIMIT_NOFILE's soft limit to its hard limit (or `want`, if lower).
// Returns the resulting soft limit.
uint64_t raise_fd_limit(uint64_t want = UINT64_MAX);

// "strerror(errno)" without the thread-safety caveat.
std::string errno_text(int err);

}  // namespace raftkv::net
