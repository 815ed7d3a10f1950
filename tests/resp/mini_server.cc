#include "mini_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <type_traits>

#include "resp/command.h"
#include "resp/encode.h"
#include "resp/errors.h"
#include "resp/number.h"
#include "resp/replies.h"
#include "resp/request_parser.h"

namespace raftkv::resp::testing {

struct MiniServer::Connection {
  int fd = -1;
  int64_t id = 0;
  RequestParser parser;
  std::string out;
  std::string name;
  bool closing = false;
};

MiniServer::MiniServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("MiniServer: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

MiniServer::~MiniServer() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::vector<std::vector<std::string>> MiniServer::commands() {
  std::lock_guard lock(mu_);
  return commands_;
}

std::vector<std::string> MiniServer::protocol_errors() {
  std::lock_guard lock(mu_);
  return protocol_errors_;
}

void MiniServer::serve() {
  std::vector<std::unique_ptr<Connection>> conns;
  while (!stop_) {
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
    for (auto& c : conns) fds.push_back({c->fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd >= 0) {
        conns.push_back(std::make_unique<Connection>());
        conns.back()->fd = fd;
        conns.back()->id = next_client_id_++;
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Connection& c = *conns[i - 1];
      if (!handle_readable(c)) {
        ::close(c.fd);
        c.fd = -1;
      }
    }
    std::erase_if(conns, [](const auto& c) { return c->fd < 0; });
  }
  for (auto& c : conns) ::close(c->fd);
}

bool MiniServer::handle_readable(Connection& c) {
  char buf[16384];
  ssize_t n = ::read(c.fd, buf, sizeof buf);
  if (n <= 0) return false;
  c.parser.feed(std::string_view(buf, static_cast<size_t>(n)));
  while (!c.closing) {
    auto args = c.parser.next();
    if (!args) break;
    {
      std::lock_guard lock(mu_);
      commands_.push_back(*args);
    }
    execute(c, *args);
  }
  if (c.parser.failed()) {
    append_error(c.out, c.parser.error());
    std::lock_guard lock(mu_);
    protocol_errors_.push_back(c.parser.error());
    c.closing = true;
  }
  // Blocking write: test clients read their replies.
  for (size_t at = 0; at < c.out.size();) {
    ssize_t w = ::write(c.fd, c.out.data() + at, c.out.size() - at);
    if (w <= 0) return false;
    at += static_cast<size_t>(w);
  }
  c.out.clear();
  return !c.closing;
}

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace

void MiniServer::execute(Connection& c, const std::vector<std::string>& args) {
  ParsedCommand parsed = parse_command(args);
  if (!parsed.ok()) return append_error(c.out, parsed.error);
  std::string& out = c.out;
  auto find = [&](const std::string& key) -> const std::string* {
    auto it = data_.find(key);
    return it == data_.end() ? nullptr : &it->second;
  };
  std::visit(Overloaded{
                 [&](const Get& g) {
                   const std::string* v = find(g.key);
                   v ? append_bulk(out, *v) : append_null(out);
                 },
                 [&](const Set& s) {
                   const std::string* old = find(s.key);
                   std::optional<std::string> previous = old ? std::optional(*old) : std::nullopt;
                   bool apply =
                       s.condition == Set::Condition::kAlways ||
                       (s.condition == Set::Condition::kIfAbsent && !old) ||
                       (s.condition == Set::Condition::kIfPresent && old) ||
                       (s.condition == Set::Condition::kIfEqual && old && *old == s.expected);
                   if (apply) data_[s.key] = s.value;
                   if (s.return_old) {
                     previous ? append_bulk(out, *previous) : append_null(out);
                   } else {
                     apply ? append_simple(out, "OK") : append_null(out);
                   }
                 },
                 [&](const Del& d) {
                   int64_t n = 0;
                   for (const auto& k : d.keys) n += static_cast<int64_t>(data_.erase(k));
                   append_integer(out, n);
                 },
                 [&](const Exists& e) {
                   int64_t n = 0;
                   for (const auto& k : e.keys) n += find(k) ? 1 : 0;
                   append_integer(out, n);
                 },
                 [&](const IncrBy& i) {
                   const std::string* v = find(i.key);
                   auto current = v ? parse_int64_strict(*v) : std::optional<int64_t>(0);
                   if (!current) return append_error(out, errors::kNotInteger);
                   int64_t next;
                   if (__builtin_add_overflow(*current, i.delta, &next)) {
                     return append_error(out, errors::kOverflow);
                   }
                   data_[i.key] = std::to_string(next);
                   append_integer(out, next);
                 },
                 [&](const Ping& p) {
                   p.message ? append_bulk(out, *p.message) : append_simple(out, "PONG");
                 },
                 [&](const Echo& e) { append_bulk(out, e.message); },
                 [&](const Quit&) {
                   append_simple(out, "OK");
                   c.closing = true;
                 },
                 [&](const Hello& h) {
                   if (h.setname) c.name = *h.setname;
                   HelloFields f;
                   f.id = c.id;
                   append_hello_reply(out, f);
                 },
                 [&](const CommandIntrospect& ci) {
                   ci.sub == CommandIntrospect::Sub::kCount ? append_integer(out, 0)
                                                            : append_array_header(out, 0);
                 },
                 [&](const ClientSetName& n) {
                   c.name = n.name;
                   append_simple(out, "OK");
                 },
                 [&](const ClientGetName&) {
                   c.name.empty() ? append_null(out) : append_bulk(out, c.name);
                 },
                 [&](const ClientId&) { append_integer(out, c.id); },
                 [&](const ClientSetInfo&) { append_simple(out, "OK"); },
                 [&](const Select&) { append_simple(out, "OK"); },
                 [&](const Info& info) {
                   append_info_reply(out, info, {{"Server", {{"redis_version", "7.0.0"}}}});
                 },
                 [&](const DbSize&) { append_integer(out, static_cast<int64_t>(data_.size())); },
                 [&](const auto&) { append_error(out, "ERR not served by the test server"); },
             },
             *parsed.command);
}

}  // namespace raftkv::resp::testing
