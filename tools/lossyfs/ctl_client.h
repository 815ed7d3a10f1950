// Client side of lossyfs's control socket: one command line in, one reply
// line out (see tools/lossyfs/README.md). Header-only so the runner and the
// tests can use it without linking libfuse.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace lossyfs {

// Sends `command` to the control socket at `socket_path` and returns the
// reply line (without the newline). On a connection error returns
// "error: <reason>". Replies start with "ok" on success.
inline std::string control(const std::string& socket_path, const std::string& command,
                           int timeout_s = 60) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("error: socket: ") + std::strerror(errno);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    ::close(fd);
    return "error: socket path too long";
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  // A reply can wait for the mount to come up (the control thread starts
  // once the kernel has initialised the filesystem) or for a cut to finish.
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::string e = std::string("error: connect ") + socket_path + ": " + std::strerror(errno);
    ::close(fd);
    return e;
  }
  std::string line = command + "\n";
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return std::string("error: write: ") + std::strerror(errno);
    }
    off += static_cast<size_t>(n);
  }
  std::string reply;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
    if (reply.find('\n') != std::string::npos) break;
  }
  ::close(fd);
  if (auto nl = reply.find('\n'); nl != std::string::npos) reply.resize(nl);
  if (reply.empty()) return "error: no reply";
  return reply;
}

}  // namespace lossyfs
