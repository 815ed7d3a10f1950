#include "tcp_transport.h"

#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "clock.h"

namespace runner {

using raftkv::maelstrom::Json;

namespace {

// A client whose connect failed waits this long before the next attempt, so
// a worker bound to a dead server does not spin.
constexpr int64_t kConnectBackoff = 100 * kMs;

}  // namespace

TcpTransport::TcpTransport(EventLoop& loop, Network& net, Problems& problems,
                           SocketFactory make_socket, std::map<std::string, sockaddr_in> servers,
                           CasStyle cas)
    : loop_(loop),
      net_(net),
      problems_(problems),
      make_socket_(std::move(make_socket)),
      servers_(std::move(servers)),
      cas_(cas) {}

TcpTransport::~TcpTransport() {
  for (auto& [id, c] : conns_) {
    if (c.fd < 0) continue;
    loop_.unwatch(c.fd);
    close(c.fd);
  }
}

void TcpTransport::send(Message m) {
  Conn& c = conns_[m.src];
  c.client = m.src;
  if (!c.pending.empty() || (c.fd >= 0 && c.node != m.dest)) {
    // The client gave up on its last request (it has one at a time): its late
    // reply would sit in front of this one, so start over on a new connection.
    if (c.fd >= 0) {
      ++counters_.abandoned;
      close_conn(c, "abandoned after a timeout");
    }
    c.pending.clear();
    c.out.clear();
  }
  c.node = m.dest;
  int64_t msg_id = m.msg_id().value_or(0);
  std::string f = m.type();
  std::string bytes = resp_request(m.body, cas_);
  if (bytes.empty() || !servers_.count(m.dest)) {
    reply(c.client, m.dest,
          maelstrom_error(msg_id, 10, fmt::format("cannot send '{}' over RESP", f)));
    return;
  }
  ++counters_.requests;
  Pending p{msg_id, f, 0, c.queued};
  c.out += bytes;
  c.queued += bytes.size();
  p.end = c.queued;
  c.pending.push_back(p);
  if (c.fd < 0) {
    open(c);
  } else if (c.connected) {
    flush(c);
  }
}

void TcpTransport::open(Conn& c) {
  int64_t now = mono_ns();
  if (now < c.next_connect_ns) {
    std::string client = c.client;
    loop_.at(c.next_connect_ns, [this, client] {
      Conn& again = conns_[client];
      if (again.fd < 0 && !again.pending.empty()) open(again);
    });
    return;
  }
  ++counters_.connects;
  if (c.ever_opened) ++counters_.reconnects;
  c.ever_opened = true;
  c.connected = false;
  c.written = c.queued - c.out.size();
  c.reader = RespReplyReader();
  c.fd = make_socket_();
  if (c.fd < 0) {
    problems_.add("client-socket", fmt::format("socket for {}: {}", c.client, strerror(errno)));
    close_conn(c, fmt::format("socket: {}", strerror(errno)));
    return;
  }
  const sockaddr_in& addr = servers_.at(c.node);
  int rc = connect(c.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  if (rc != 0 && errno != EINPROGRESS) {
    ++counters_.connect_failures;
    c.next_connect_ns = mono_ns() + kConnectBackoff;
    close_conn(c, fmt::format("connect: {}", strerror(errno)));
    return;
  }
  Conn* cp = &c;  // map nodes are stable
  loop_.watch(c.fd, POLLOUT, [this, cp](short revents) { on_event(*cp, revents); });
  if (rc == 0) finish_connect(c);
}

void TcpTransport::finish_connect(Conn& c) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    ++counters_.connect_failures;
    c.next_connect_ns = mono_ns() + kConnectBackoff;
    close_conn(c, fmt::format("connect: {}", strerror(err)));
    return;
  }
  c.connected = true;
  flush(c);
}

void TcpTransport::on_event(Conn& c, short revents) {
  if (c.fd < 0) return;
  if (!c.connected) {
    finish_connect(c);
    return;
  }
  if (revents & (POLLIN | POLLERR | POLLHUP)) read_replies(c);
  if (c.fd >= 0 && (revents & POLLOUT)) flush(c);
}

void TcpTransport::flush(Conn& c) {
  while (c.fd >= 0 && !c.out.empty()) {
    ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out.erase(0, n);
      c.written += n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    ++counters_.closed_by_server;
    close_conn(c, fmt::format("send: {}", strerror(errno)));
    return;
  }
  update_events(c);
}

void TcpTransport::update_events(Conn& c) {
  if (c.fd >= 0) loop_.set_events(c.fd, POLLIN | (c.out.empty() ? 0 : POLLOUT));
}

void TcpTransport::read_replies(Conn& c) {
  char buf[16384];
  while (c.fd >= 0) {
    ssize_t n = recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      c.reader.feed(std::string_view(buf, n));
      while (auto r = c.reader.next()) {
        ++counters_.replies;
        if (c.pending.empty()) {
          problems_.add("unsolicited-reply",
                        fmt::format("{} sent {} a reply it did not ask for", c.node, c.client));
          continue;
        }
        Pending p = c.pending.front();
        c.pending.pop_front();
        reply(c.client, c.node, maelstrom_reply(p.f, p.msg_id, *r));
      }
      if (!c.reader.error().empty()) {
        problems_.add("bad-resp-reply",
                      fmt::format("{} to {}: {}", c.node, c.client, c.reader.error()));
        close_conn(c, "protocol error: " + c.reader.error());
        return;
      }
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    ++counters_.closed_by_server;
    close_conn(c,
               n == 0 ? "connection closed by server" : fmt::format("recv: {}", strerror(errno)));
    return;
  }
}

void TcpTransport::close_conn(Conn& c, const std::string& why) {
  if (c.fd >= 0) {
    loop_.unwatch(c.fd);
    close(c.fd);
    c.fd = -1;
  }
  c.connected = false;
  for (const Pending& p : c.pending) {
    bool sent = c.written > p.start;
    if (sent) ++counters_.lost_in_flight;
    reply(c.client, c.node, maelstrom_error(p.msg_id, sent ? 13 : 11, why));
  }
  c.pending.clear();
  c.out.clear();
  c.written = c.queued;
}

void TcpTransport::reply(const std::string& client, const std::string& node, Json body) {
  // Never from inside the client's own send: it is still setting up.
  loop_.after(0, [this, client, node, body = std::move(body)] {
    net_.deliver_reply(Message{node, client, body});
  });
}

nlohmann::json TcpTransport::summary() const {
  return {{"connects", counters_.connects},
          {"reconnects", counters_.reconnects},
          {"connect-failures", counters_.connect_failures},
          {"closed-by-server", counters_.closed_by_server},
          {"abandoned-after-timeout", counters_.abandoned},
          {"requests", counters_.requests},
          {"replies", counters_.replies},
          {"lost-in-flight", counters_.lost_in_flight}};
}

}  // namespace runner
