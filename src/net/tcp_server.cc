#include "net/tcp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <iostream>

namespace raftkv::net {

LogFn stderr_log(std::string prefix) {
  return [prefix = std::move(prefix)](std::string_view line) {
    std::cerr << prefix << ": " << line << '\n';
  };
}

namespace {

Fd open_spare() {
  return Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

std::string address_text(const sockaddr_in& addr) {
  char ip[INET_ADDRSTRLEN] = "?";
  ::inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(addr.sin_port));
}

}  // namespace

TcpServer::TcpServer(EventLoop& loop, TcpCallbacks callbacks, TcpServerOptions options)
    : loop_(loop), callbacks_(std::move(callbacks)), options_(std::move(options)) {
  if (!options_.log) options_.log = [](std::string_view) {};
  read_buf_.resize(options_.read_chunk_bytes);
}

TcpServer::~TcpServer() {
  stop_accepting();
  for (auto& [id, c] : conns_) loop_.remove(c->fd.get());
}

void TcpServer::listen(const std::string& host, uint16_t port) {
  Fd fd = listen_tcp(host, port);
  port_ = local_port(fd.get());
  stop_accepting();
  listener_ = std::move(fd);
  spare_ = open_spare();
  accept_paused_ = false;
  loop_.add(listener_.get(), EPOLLIN, [this](uint32_t) { on_listener_ready(); });
}

void TcpServer::stop_accepting() {
  if (!listener_) return;
  loop_.remove(listener_.get());
  listener_.reset();
  spare_.reset();
}

void TcpServer::on_listener_ready() {
  for (int i = 0; i < options_.accepts_per_event && listener_; ++i) {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    int fd = ::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      open(Fd(fd), address_text(addr));
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EMFILE || errno == ENFILE) {
      accept_one_refused();
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      options_.log("accept: " + errno_text(errno));
    }
    return;
  }
}

// Out of fds: free the spare, take the waiting connection and close it, so
// its client sees a clean close instead of hanging in the backlog.
void TcpServer::accept_one_refused() {
  spare_.reset();
  int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
  bool still_no_fds = fd < 0 && (errno == EMFILE || errno == ENFILE);
  if (fd >= 0) ::close(fd);
  spare_ = open_spare();
  if (++stats_.refused_no_fds == 1 || stats_.refused_no_fds % 1000 == 0) {
    options_.log("out of file descriptors: refused " + std::to_string(stats_.refused_no_fds) +
                 " connection(s) so far (raise RLIMIT_NOFILE)");
  }
  if (still_no_fds || !spare_) {
    // Not even the spare trick works: stop watching until an fd frees up.
    accept_paused_ = true;
    loop_.modify(listener_.get(), 0);
  }
}

void TcpServer::resume_accepting() {
  if (!accept_paused_ || !listener_) return;
  accept_paused_ = false;
  if (!spare_) spare_ = open_spare();
  loop_.modify(listener_.get(), EPOLLIN);
}

void TcpServer::open(Fd fd, std::string peer) {
  ConnId id = next_id_++;
  auto c = std::make_unique<Conn>();
  c->events = EPOLLIN;
  c->peer = std::move(peer);
  int raw = fd.get();
  set_nodelay_keepalive(raw);  // replies leave at once; dead clients eventually error out
  c->fd = std::move(fd);
  try {
    loop_.add(raw, EPOLLIN, [this, id](uint32_t events) { on_conn_ready(id, events); });
  } catch (const std::exception& e) {
    options_.log(std::string("cannot watch a new connection: ") + e.what());
    return;  // c (and its fd) goes away
  }
  conns_.emplace(id, std::move(c));
  ++stats_.accepted;
  if (callbacks_.on_open) callbacks_.on_open(id);
}

TcpServer::Conn* TcpServer::find(ConnId id) {
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : it->second.get();
}

void TcpServer::on_conn_ready(ConnId id, uint32_t events) {
  Conn* c = find(id);
  if (!c) return;
  if (events & EPOLLOUT) {
    if (!write_some(id, *c)) return close(id);
  }
  if (events & EPOLLERR) return close(id);
  if (events & (EPOLLIN | EPOLLHUP)) {
    if (!c->reading()) {
      if (events & EPOLLHUP) return close(id);  // gone, and we are not reading
    } else {
      read_some(id);
    }
  }
  if ((c = find(id))) update_events(id, *c);
}

// The client shut down its sending side (e.g. `printf 'PING\r\n' | nc -N`):
// it may still read, so its answers are not thrown away.
void TcpServer::read_closed(ConnId id) {
  Conn* c = find(id);
  c->read_closed = true;
  if (callbacks_.on_read_closed) return callbacks_.on_read_closed(id);
  close_after_flush(id);
}

void TcpServer::read_some(ConnId id) {
  for (int i = 0; i < options_.reads_per_event; ++i) {
    Conn* c = find(id);
    if (!c || !c->reading()) return;
    ssize_t n = ::recv(c->fd.get(), read_buf_.data(), read_buf_.size(), 0);
    if (n > 0) {
      stats_.bytes_in += n;
      if (callbacks_.on_data) callbacks_.on_data(id, std::string_view(read_buf_.data(), n));
      if (static_cast<size_t>(n) < read_buf_.size()) return;  // drained
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return read_closed(id);
    return close(id);  // ECONNRESET and friends
  }
}

bool TcpServer::write_some(ConnId id, Conn& c) {
  while (c.out_offset < c.out.size()) {
    ssize_t n =
        ::send(c.fd.get(), c.out.data() + c.out_offset, c.out.size() - c.out_offset, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_offset += n;
      stats_.bytes_out += n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return false;  // EPIPE, ECONNRESET...
  }
  if (c.out_offset == c.out.size()) {
    c.out.clear();
    c.out_offset = 0;
  } else if (c.out_offset > (1 << 20) && c.out_offset * 2 > c.out.size()) {
    c.out.erase(0, c.out_offset);  // keep the buffer from growing without end
    c.out_offset = 0;
  }
  (void)id;
  return true;
}

void TcpServer::update_events(ConnId id, Conn& c) {
  bool pending = c.out_offset < c.out.size();
  if (c.closing && !pending) return close(id);
  uint32_t want = (c.reading() ? uint32_t{EPOLLIN} : 0u) | (pending ? uint32_t{EPOLLOUT} : 0u);
  if (want != c.events) {
    c.events = want;
    loop_.modify(c.fd.get(), want);
  }
}

void TcpServer::send(ConnId id, std::string_view bytes) {
  Conn* c = find(id);
  if (!c || bytes.empty()) return;
  c->out.append(bytes);
  update_events(id, *c);
}

void TcpServer::flush(ConnId id) {
  Conn* c = find(id);
  if (!c) return;
  if (!write_some(id, *c)) return close(id);
  update_events(id, *c);
}

void TcpServer::close_after_flush(ConnId id) {
  Conn* c = find(id);
  if (!c) return;
  c->closing = true;
  update_events(id, *c);
}

void TcpServer::close(ConnId id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  loop_.remove(it->second->fd.get());
  conns_.erase(it);  // closes the fd
  resume_accepting();
  if (callbacks_.on_close) callbacks_.on_close(id);
}

void TcpServer::pause_reading(ConnId id, bool paused) {
  Conn* c = find(id);
  if (!c) return;
  c->paused = paused;
  update_events(id, *c);
}

size_t TcpServer::pending_output(ConnId id) const {
  auto it = conns_.find(id);
  return it == conns_.end() ? 0 : it->second->out.size() - it->second->out_offset;
}

std::string TcpServer::peer_address(ConnId id) const {
  auto it = conns_.find(id);
  return it == conns_.end() ? std::string() : it->second->peer;
}

}  // namespace raftkv::net
