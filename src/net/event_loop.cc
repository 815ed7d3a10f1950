#include "net/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace raftkv::net {
namespace {

// epoll's user data: the fd in the low half, its generation in the high half.
uint64_t pack(int fd, uint32_t generation) {
  return (static_cast<uint64_t>(generation) << 32) | static_cast<uint32_t>(fd);
}
constexpr uint32_t kWakeGeneration = 0;  // registrations start at 1

}  // namespace

EventLoop::EventLoop()
    : epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      events_(256) {
  if (!epoll_ || !wake_fd_) {
    throw std::runtime_error("event loop: epoll/eventfd: " + errno_text(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = pack(wake_fd_.get(), kWakeGeneration);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev) != 0) {
    throw std::runtime_error("event loop: epoll_ctl: " + errno_text(errno));
  }
}

EventLoop::~EventLoop() = default;

void EventLoop::add(int fd, uint32_t events, Handler handler) {
  uint32_t generation = next_generation_++;
  if (next_generation_ == kWakeGeneration) next_generation_ = 1;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = pack(fd, generation);
  int op = handlers_.count(fd) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  int rc = ::epoll_ctl(epoll_.get(), op, fd, &ev);
  // A registered fd closed without remove() left epoll by itself.
  if (rc != 0 && op == EPOLL_CTL_MOD && errno == ENOENT) {
    rc = ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
  }
  if (rc != 0) {
    throw std::runtime_error("event loop: cannot watch fd " + std::to_string(fd) + ": " +
                             errno_text(errno));
  }
  handlers_[fd] = Registration{generation, std::make_shared<Handler>(std::move(handler))};
}

void EventLoop::modify(int fd, uint32_t events) {
  auto it = handlers_.find(fd);
  if (it == handlers_.end()) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = pack(fd, it->second.generation);
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::remove(int fd) {
  if (handlers_.erase(fd) == 0) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

int EventLoop::run_once(int timeout_ms) {
  int n = ::epoll_wait(epoll_.get(), events_.data(), static_cast<int>(events_.size()), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return 0;
    throw std::runtime_error("event loop: epoll_wait: " + errno_text(errno));
  }
  int dispatched = 0;
  for (int i = 0; i < n; ++i) {
    int fd = static_cast<int>(events_[i].data.u64 & 0xFFFFFFFFu);
    uint32_t generation = static_cast<uint32_t>(events_[i].data.u64 >> 32);
    if (generation == kWakeGeneration) {
      uint64_t count;
      while (::read(wake_fd_.get(), &count, sizeof count) > 0) {
      }
      continue;
    }
    auto it = handlers_.find(fd);
    if (it == handlers_.end() || it->second.generation != generation) continue;  // stale
    std::shared_ptr<Handler> handler = it->second.handler;
    (*handler)(events_[i].events);
    ++dispatched;
  }
  if (n == static_cast<int>(events_.size())) events_.resize(events_.size() * 2);
  return dispatched;
}

void EventLoop::wake() {
  uint64_t one = 1;
  // An eventfd write is async-signal-safe; a full counter already wakes us.
  ssize_t ignored = ::write(wake_fd_.get(), &one, sizeof one);
  (void)ignored;
}

}  // namespace raftkv::net
