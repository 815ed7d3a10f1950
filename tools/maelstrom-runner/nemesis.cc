#include "nemesis.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "clock.h"
#include "member_nemesis.h"
#include "random_pick.h"

namespace runner {
namespace {

std::vector<std::string> shuffled(std::vector<std::string> v, std::mt19937_64& rng) {
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}

size_t majority(size_t n) {
  return n / 2 + 1;
}

nlohmann::json grudge_json(const Grudge& g) {
  nlohmann::json j = nlohmann::json::object();
  for (auto& [dest, srcs] : g) j[dest] = std::vector<std::string>(srcs.begin(), srcs.end());
  return j;
}

}  // namespace

Grudge complete_grudge(const std::vector<std::vector<std::string>>& components) {
  Grudge g;
  for (size_t i = 0; i < components.size(); ++i)
    for (size_t j = 0; j < components.size(); ++j)
      if (i != j)
        for (auto& dest : components[i])
          for (auto& src : components[j]) g[dest].insert(src);
  return g;
}

Grudge partition_grudge(const std::string& spec, const std::vector<std::string>& nodes,
                        std::mt19937_64& rng) {
  auto s = shuffled(nodes, rng);
  if (spec == "majorities-ring") {
    // Ring order; every node hears only its nearest neighbours, enough of them
    // to make a majority, so every node sees a (different) majority.
    size_t n = s.size();
    size_t reach = majority(n) / 2;  // neighbours on each side
    Grudge g;
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) {
        size_t d = (i + n - j) % n;
        d = std::min(d, n - d);
        if (d > reach) g[s[i]].insert(s[j]);
      }
    }
    return g;
  }
  size_t cut = 0;
  if (spec == "one")
    cut = 1;
  else if (spec == "minority-third")
    cut = s.size() / 3;
  else
    cut = s.size() / 2;  // "majority": a bisection, the smaller half first
  std::vector<std::string> a(s.begin(), s.begin() + std::min(cut, s.size()));
  std::vector<std::string> b(s.begin() + std::min(cut, s.size()), s.end());
  return complete_grudge({a, b});
}

std::vector<std::string> node_targets(const std::string& spec,
                                      const std::vector<std::string>& nodes, std::mt19937_64& rng) {
  auto s = shuffled(nodes, rng);
  size_t k = s.size();
  if (spec == "one")
    k = 1;
  else if (spec == "minority")
    k = majority(s.size()) - 1;
  else if (spec == "majority")
    k = majority(s.size());
  s.resize(std::min(k, s.size()));
  return s;
}

Nemesis::Nemesis(EventLoop& loop, std::mt19937_64& rng, ClusterControl& cluster,
                 HistoryLog& history, std::set<std::string> faults, double interval_s)
    : loop_(loop),
      rng_(rng),
      cluster_(cluster),
      history_(history),
      faults_(faults.begin(), faults.end()),
      interval_s_(interval_s) {}

void Nemesis::start(int64_t end_ns) {
  if (faults_.empty()) return;
  end_ns_ = end_ns;
  running_ = true;
  schedule_next();
}

void Nemesis::schedule_next() {
  double gap = std::uniform_real_distribution<double>(0, 2 * interval_s_)(rng_);
  loop_.after(static_cast<int64_t>(gap * kSec), [this] { fire(); });
}

void Nemesis::fire() {
  if (!running_ || mono_ns() >= end_ns_) return;
  const std::string& kind = pick(faults_, rng_);
  if (kind == "member") {
    // Not a start/stop fault: each pick is one membership change.
    if (member_) member_->random_action();
    schedule_next();
    return;
  }
  bool active = kind == "partition" ? partitioned_
                : kind == "kill"    ? !killed_.empty()
                : kind == "power"   ? !powered_off_.empty()
                                    : !paused_.empty();
  if (active)
    stop_fault(kind);
  else
    start_fault(kind);
  schedule_next();
}

void Nemesis::start_fault(const std::string& kind) {
  const auto& nodes = cluster_.node_ids();
  if (kind == "partition") {
    partition_spec_ = pick(
        std::vector<std::string>{"one", "minority-third", "majority", "majorities-ring"}, rng_);
    Grudge g = partition_grudge(partition_spec_, nodes, rng_);
    cluster_.partition(g);
    partitioned_ = true;
    history_.nemesis("start-partition", {{"spec", partition_spec_}, {"grudge", grudge_json(g)}});
    return;
  }
  std::string spec = pick(std::vector<std::string>{"one", "minority", "majority", "all"}, rng_);
  auto targets = node_targets(spec, nodes, rng_);
  if (kind == "kill") {
    for (auto& n : targets) cluster_.kill(n);
    killed_ = targets;
  } else if (kind == "power") {
    // A node already down (killed) loses power too: its disk drops what
    // it had not synced.
    for (auto& n : targets) cluster_.power_cut(n, rng_());
    powered_off_ = targets;
    for (auto& n : targets) std::erase(killed_, n);
  } else {
    for (auto& n : targets) cluster_.pause(n);
    paused_ = targets;
  }
  history_.nemesis("start-" + kind, {{"spec", spec}, {"nodes", targets}});
}

void Nemesis::stop_fault(const std::string& kind) {
  if (kind == "partition") {
    cluster_.heal_partition();
    partitioned_ = false;
    history_.nemesis("stop-partition", nullptr);
  } else if (kind == "kill") {
    auto nodes = killed_;
    killed_.clear();
    for (auto& n : nodes) cluster_.restart(n);
    history_.nemesis("stop-kill", {{"nodes", nodes}});
  } else if (kind == "power") {
    auto nodes = powered_off_;
    powered_off_.clear();
    for (auto& n : nodes) cluster_.restart(n);
    history_.nemesis("stop-power", {{"nodes", nodes}});
  } else {
    auto nodes = paused_;
    paused_.clear();
    for (auto& n : nodes) cluster_.resume(n);
    history_.nemesis("stop-pause", {{"nodes", nodes}});
  }
}

void Nemesis::heal_all() {
  running_ = false;
  if (member_) member_->stop();
  if (partitioned_) stop_fault("partition");
  if (!paused_.empty()) stop_fault("pause");
  if (!killed_.empty()) stop_fault("kill");
  if (!powered_off_.empty()) stop_fault("power");
}

std::string Nemesis::describe_active() const {
  std::vector<std::string> parts;
  if (partitioned_) parts.push_back(fmt::format("partition({})", partition_spec_));
  if (!killed_.empty()) parts.push_back(fmt::format("killed[{}]", fmt::join(killed_, ",")));
  if (!paused_.empty()) parts.push_back(fmt::format("paused[{}]", fmt::join(paused_, ",")));
  if (!powered_off_.empty())
    parts.push_back(fmt::format("power-off[{}]", fmt::join(powered_off_, ",")));
  if (member_ && !member_->describe_active().empty()) parts.push_back(member_->describe_active());
  return parts.empty() ? "none" : fmt::format("{}", fmt::join(parts, " "));
}

}  // namespace runner
