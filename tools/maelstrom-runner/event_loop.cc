#include "event_loop.h"

#include <cerrno>

#include "clock.h"

namespace runner {

void EventLoop::at(int64_t t_ns, Callback cb) {
  uint64_t seq = next_seq_++;
  timers_.push({t_ns, seq});
  timer_cbs_.emplace(seq, std::move(cb));
}

void EventLoop::after(int64_t dt_ns, Callback cb) {
  at(mono_ns() + dt_ns, std::move(cb));
}

void EventLoop::watch(int fd, short events, FdCallback cb) {
  watches_[fd] = Watch{events, next_generation_++, std::move(cb)};
}

void EventLoop::set_events(int fd, short events) {
  auto it = watches_.find(fd);
  if (it != watches_.end()) it->second.events = events;
}

void EventLoop::unwatch(int fd) {
  watches_.erase(fd);
}

void EventLoop::run_once(int64_t max_wait_ns) {
  int64_t now = mono_ns();
  int64_t wait = max_wait_ns;
  if (!timers_.empty()) wait = std::min(wait, std::max<int64_t>(0, timers_.top().t - now));

  std::vector<pollfd> fds;
  std::vector<uint64_t> gens;
  fds.reserve(watches_.size());
  for (auto& [fd, w] : watches_) {
    fds.push_back(pollfd{fd, w.events, 0});
    gens.push_back(w.generation);
  }
  // Round up so a timer 0.3 ms away does not turn into a busy loop of 0 ms polls.
  int timeout_ms = static_cast<int>((wait + 999'999) / 1'000'000);
  int n = poll(fds.data(), fds.size(), timeout_ms);
  if (n > 0) {
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      // A callback may have closed or replaced another watch meanwhile.
      auto it = watches_.find(fds[i].fd);
      if (it == watches_.end() || it->second.generation != gens[i]) continue;
      FdCallback cb = it->second.cb;
      cb(fds[i].revents);
    }
  }

  now = mono_ns();
  while (!timers_.empty() && timers_.top().t <= now) {
    Timer t = timers_.top();
    timers_.pop();
    auto it = timer_cbs_.find(t.seq);
    Callback cb = std::move(it->second);
    timer_cbs_.erase(it);
    cb();
  }
  for (auto& tick : ticks_) tick();
}

void EventLoop::run_until(const std::function<bool()>& done) {
  while (!done()) run_once();
}

}  // namespace runner
