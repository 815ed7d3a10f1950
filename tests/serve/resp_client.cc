#include "resp_client.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "resp/encode.h"

namespace raftkv::test {

using Clock = std::chrono::steady_clock;

int connect_tcp(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

std::string show(const resp::Reply& r) {
  return resp::to_display(r);
}

RespClient::RespClient(uint16_t port, Millis timeout) : timeout_(timeout) {
  fd_ = connect_tcp(port);
  if (fd_ < 0) {
    throw std::runtime_error(
        fmt::format("cannot connect to 127.0.0.1:{}: {}", port, std::strerror(errno)));
  }
}

RespClient::~RespClient() {
  if (fd_ >= 0) close(fd_);
}

RespClient::RespClient(RespClient&& other) noexcept
    : fd_(other.fd_), timeout_(other.timeout_), parser_(std::move(other.parser_)) {
  other.fd_ = -1;
}

resp::Reply RespClient::call(std::initializer_list<std::string_view> args) {
  std::string out;
  resp::append_bulk_array(out, args);
  send_raw(out);
  auto r = read_reply();
  if (!r) throw std::runtime_error("no reply: " + error_);
  return *r;
}

resp::Reply RespClient::call(const std::vector<std::string>& args) {
  std::string out;
  resp::append_bulk_array(out, args);
  send_raw(out);
  auto r = read_reply();
  if (!r) throw std::runtime_error("no reply: " + error_);
  return *r;
}

void RespClient::send_raw(std::string_view bytes) {
  auto deadline = Clock::now() + timeout_;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    }
    auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
    if (left <= 0) throw std::runtime_error("send: timed out");
    pollfd p{fd_, POLLOUT, 0};
    poll(&p, 1, static_cast<int>(left));
  }
}

bool RespClient::receive(Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
    if (left < 0) {
      error_ = "timed out";
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      error_ = "timed out";
      return false;
    }
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      parser_.feed(std::string_view(buf, static_cast<size_t>(n)));
      return true;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    error_ = n == 0 ? "connection closed by server" : std::string("recv: ") + std::strerror(errno);
    return false;
  }
}

std::optional<resp::Reply> RespClient::read_reply() {
  auto deadline = Clock::now() + timeout_;
  for (;;) {
    if (auto r = parser_.next()) return r;
    if (parser_.failed()) {
      error_ = parser_.error();
      return std::nullopt;
    }
    if (!receive(deadline)) return std::nullopt;
  }
}

std::vector<resp::Reply> RespClient::read_replies(size_t n) {
  std::vector<resp::Reply> out;
  while (out.size() < n) {
    auto r = read_reply();
    if (!r) {
      throw std::runtime_error("reply " + std::to_string(out.size()) + " of " + std::to_string(n) +
                               " missing: " + error_);
    }
    out.push_back(std::move(*r));
  }
  return out;
}

bool RespClient::wait_closed(Millis timeout) {
  auto deadline = Clock::now() + timeout;
  while (receive(deadline)) {
    while (parser_.next()) {
    }
  }
  return error_ != "timed out";
}

}  // namespace raftkv::test
