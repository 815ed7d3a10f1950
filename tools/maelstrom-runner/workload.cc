#include "workload.h"

#include <fmt/format.h>

#include "clock.h"

namespace runner {

Workload::Workload(EventLoop& loop, Network& net, std::mt19937_64& rng, OpGenerator& gen,
                   HistoryLog& history, const std::vector<std::string>& nodes, int concurrency,
                   double rate, int64_t timeout_ns)
    : loop_(loop),
      rng_(rng),
      gen_(gen),
      history_(history),
      concurrency_(concurrency),
      rate_(rate),
      timeout_ns_(timeout_ns) {
  workers_.resize(concurrency);
  for (int i = 0; i < concurrency; ++i) {
    Worker& w = workers_[i];
    w.index = i;
    w.client = std::make_unique<Client>(loop, net, fmt::format("c{}", i));
    w.node = nodes[i % nodes.size()];
    w.process = i;
    max_process_ = std::max<int64_t>(max_process_, i);
  }
}

void Workload::start(int64_t end_ns) {
  end_ns_ = end_ns;
  generating_ = true;
  loop_.at(end_ns, [this] { generating_ = false; });
  if (rate_ == 0) {
    for (auto& w : workers_) invoke(w);
  } else {
    next_tick_ = mono_ns();
    schedule_tick(next_tick_);
  }
}

bool Workload::finished() const {
  if (generating_) return false;
  for (auto& w : workers_)
    if (w.busy) return false;
  return true;
}

Workload::Worker* Workload::free_worker() {
  std::vector<Worker*> free;
  for (auto& w : workers_)
    if (!w.busy) free.push_back(&w);
  if (free.empty()) return nullptr;
  return free[std::uniform_int_distribution<size_t>(0, free.size() - 1)(rng_)];
}

void Workload::schedule_tick(int64_t at) {
  loop_.at(at, [this] { tick(); });
}

void Workload::tick() {
  if (!generating_ || mono_ns() >= end_ns_) return;
  Worker* w = free_worker();
  if (!w) {
    // Every worker is busy: the op waits for the first one to free up.
    tick_pending_ = true;
    return;
  }
  invoke(*w);
  // A schedule that fell behind while every worker was busy restarts from
  // now rather than catching up in a burst: the offered rate never exceeds
  // --rate, and a saturated system simply shows lower throughput.
  next_tick_ =
      std::max(next_tick_, mono_ns()) +
      static_cast<int64_t>(std::uniform_real_distribution<double>(0, 2.0 / rate_)(rng_) * kSec);
  schedule_tick(next_tick_);
}

void Workload::invoke(Worker& w) {
  if (!generating_ || mono_ns() >= end_ns_) return;
  OpSpec op = gen_.next(w.index, w.process);
  if (op.key.is_number_integer()) keys_.insert(op.key.get<int64_t>());
  size_t index = history_.invoke(w.process, op.f, op.key, op.value, w.node, false);
  w.busy = true;
  w.client->rpc(w.node, request_body(op), timeout_ns_,
                [this, &w, op, index](const std::optional<Message>& reply) {
                  on_complete(w, op, index, reply);
                });
}

void Workload::on_complete(Worker& w, const OpSpec& op, size_t op_index,
                           const std::optional<Message>& reply) {
  Outcome o = classify(op, reply);
  history_.complete(op_index, o.type, o.value);
  w.busy = false;
  switch (o.type) {
    case lin::EventType::kOk:
      ++counts_.ok;
      break;
    case lin::EventType::kFail:
      ++counts_.fail;
      break;
    default:
      ++counts_.info;
      break;
  }
  if (o.type == lin::EventType::kInfo) {
    // The op may still take effect, so this process can never issue another
    // (processes are sequential); the worker carries on as a new one.
    w.process += concurrency_;
    max_process_ = std::max(max_process_, w.process);
  }
  if (rate_ == 0) {
    loop_.after(0, [this, &w] { invoke(w); });
  } else if (tick_pending_) {
    tick_pending_ = false;
    loop_.after(0, [this] { tick(); });
  }
}

}  // namespace runner
