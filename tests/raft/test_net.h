// A hand-driven network of Raft state machines for unit tests: every
// message is delivered (or dropped) explicitly, so each test pins down one
// behaviour. Nodes n1..nN; the first `voters` of them bootstrap the cluster,
// the rest start with no configuration (joining servers).
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "raft/raft.h"

namespace raftkv::raft {

struct Net {
  std::vector<std::unique_ptr<Raft>> nodes;
  std::deque<Message> inflight;
  std::function<bool(const Message&)> drop;  // true: lose the message
  std::vector<Message> delivered;            // everything stepped, in order
  std::vector<std::vector<Entry>> applied;

  explicit Net(int n, const std::function<void(Config&)>& tweak = {}, int voters = -1) {
    if (voters < 0) voters = n;
    applied.resize(n);
    for (int i = 0; i < n; ++i) {
      Config c;
      c.id = id(i);
      if (i < voters) {
        for (int j = 0; j < voters; ++j) c.voters.push_back(id(j));
      }
      c.seed = static_cast<uint64_t>(i + 1);
      if (tweak) tweak(c);
      nodes.push_back(std::make_unique<Raft>(c, Restored{}));
    }
  }
  static NodeId id(int i) {
    NodeId s = "n";  // (not "n" + ...: a GCC 12 -Wrestrict false positive)
    return s += std::to_string(i + 1);
  }
  static int idx(const NodeId& id) { return std::stoi(id.substr(1)) - 1; }
  Raft& operator[](int i) { return *nodes[i]; }

  // Handles every pending Ready: "persist", queue messages, apply, advance.
  void flush() {
    for (bool any = true; any;) {
      any = false;
      for (size_t i = 0; i < nodes.size(); ++i) {
        while (nodes[i]->has_ready()) {
          any = true;
          Ready rd = nodes[i]->ready();
          for (Message& m : rd.messages) inflight.push_back(std::move(m));
          for (const Entry& e : rd.committed) applied[i].push_back(e);
          nodes[i]->advance(rd);
        }
      }
    }
  }
  // Delivers one queued message (dropping it if `drop` says so).
  bool deliver_one() {
    if (inflight.empty()) return false;
    Message m = std::move(inflight.front());
    inflight.pop_front();
    if (!drop || !drop(m)) {
      delivered.push_back(m);
      nodes[idx(m.to)]->step(m);
    }
    flush();
    return true;
  }
  void settle(int max_messages = 1'000'000) {
    flush();
    while (max_messages-- > 0 && deliver_one()) {
    }
  }
  void tick_all(int n) {
    for (int k = 0; k < n; ++k) {
      for (auto& r : nodes) r->tick();
      settle();
    }
  }
  // Makes node i leader by campaigning and delivering everything.
  void elect(int i) {
    nodes[i]->campaign();
    settle();
    ASSERT_EQ(nodes[i]->role(), Role::kLeader);
  }
  size_t count(MsgType t, const NodeId& to) const {
    size_t n = 0;
    for (const Message& m : inflight) n += m.type == t && m.to == to;
    return n;
  }
};

}  // namespace raftkv::raft
