// Interaction tests of the pure Raft state machine, in the spirit of
// etcd-io/raft's datadriven tests: each file in testdata/ is a script of
// commands (add-nodes, campaign, tick, propose, stabilize, deliver-msgs,
// drop, isolate, crash, restart, read-index, compact, send-snapshot,
// report-snapshot-failure, status, log, ...), and under each command the
// golden output of what happened: the Ready of every node (hard state and
// entries persisted, snapshot chunks staged and installed, messages sent,
// entries committed, read states), the messages delivered or dropped, and
// the state asked for.
//
// The driver persists each Ready in memory before sending its messages, as
// the real node does, so `crash N` / `restart N` keep exactly what was
// persisted. Everything is deterministic (each node's seed is its id).
//
// File format: lines starting with '#' and blank lines are kept as they are;
// any other line is a command, followed by "----", its output, and a blank
// line. RAFTKV_REWRITE=1 rewrites the files with the output of this build
// (review the diff before committing it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "raft/raft.h"

namespace raftkv::raft {
namespace {

namespace fs = std::filesystem;

// ---- printing ---------------------------------------------------------------

std::string entry_text(const Entry& e) {
  std::string s = std::to_string(e.term) + "/" + std::to_string(e.index);
  if (e.type == EntryType::kNoop) return s + " noop";
  return s + " \"" + e.data + "\"";
}

std::string entries_text(const std::vector<Entry>& es) {
  std::string s = "[";
  for (size_t i = 0; i < es.size(); ++i) s += (i ? ", " : "") + entry_text(es[i]);
  return s + "]";
}

// One message: its type and the fields that are set.
std::string message_text(const Message& m) {
  std::string s =
      m.from + "->" + m.to + " " + to_string(m.type) + " term=" + std::to_string(m.term);
  auto field = [&](const char* name, uint64_t v) {
    if (v) s += std::string(" ") + name + "=" + std::to_string(v);
  };
  field("log_term", m.log_term);
  field("index", m.index);
  field("commit", m.commit);
  if (m.reject) s += " reject";
  field("hint", m.reject_hint);
  field("conflict_term", m.conflict_term);
  field("context", m.context);
  if (m.last) s += " last";
  if (!m.data.empty()) s += " data=\"" + m.data + "\"";
  if (!m.entries.empty()) s += " entries=" + entries_text(m.entries);
  return s;
}

const char* progress_state(Progress::State s) {
  switch (s) {
    case Progress::State::kProbe:
      return "probe";
    case Progress::State::kReplicate:
      return "replicate";
    case Progress::State::kSnapshot:
      return "snapshot";
  }
  return "?";
}

// ---- the cluster ------------------------------------------------------------

struct Node {
  Config cfg;
  std::unique_ptr<Raft> raft;  // null while crashed
  // What this node persisted (synced) so far: all a restart gets back.
  HardState hard_state;
  uint64_t base_index = 0;
  uint64_t base_term = 0;
  std::vector<Entry> log;  // base_index+1 ...
  uint64_t applied = 0;    // the state machine is durable on apply here
  // Snapshot requests the leader made of its driver: follower -> (index, term).
  std::map<NodeId, std::pair<uint64_t, uint64_t>> snapshot_requests;
  // Transfers this (leader) driver is streaming, one chunk in flight each.
  struct Sender {
    uint64_t index = 0;
    uint64_t term = 0;
    uint64_t chunks = 1;
    uint64_t next_seq = 0;
  };
  std::map<NodeId, Sender> senders;
  std::string reported;  // the role/leader/term last printed
};

class Cluster {
 public:
  // Runs one command line and returns its output (never empty).
  std::string run(const std::string& line) {
    out_.str("");
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    std::vector<std::string> args;
    for (std::string a; in >> a;) args.push_back(a);
    dispatch(cmd, args);
    std::string s = out_.str();
    if (s.empty()) s = "ok\n";
    return s;
  }

 private:
  std::map<NodeId, Node> nodes_;  // ordered: "1" < "2" < ... for up to 9 nodes
  std::deque<Message> network_;
  std::set<NodeId> isolated_;
  std::ostringstream out_;

  [[noreturn]] static void fail(const std::string& what) { throw std::runtime_error(what); }

  static uint64_t num(const std::string& s) {
    size_t pos = 0;
    uint64_t v = std::stoull(s, &pos);
    if (pos != s.size()) fail("not a number: " + s);
    return v;
  }

  Node& node(const std::string& id) {
    auto it = nodes_.find(id);
    if (it == nodes_.end()) fail("no node " + id);
    return it->second;
  }
  Raft& up(const std::string& id) {
    Node& n = node(id);
    if (!n.raft) fail("node " + id + " is down");
    return *n.raft;
  }

  // key=value options after the positional arguments.
  static std::map<std::string, std::string> options(const std::vector<std::string>& args,
                                                    size_t from) {
    std::map<std::string, std::string> o;
    for (size_t i = from; i < args.size(); ++i) {
      auto eq = args[i].find('=');
      if (eq == std::string::npos) fail("expected key=value: " + args[i]);
      o[args[i].substr(0, eq)] = args[i].substr(eq + 1);
    }
    return o;
  }

  void need(const std::vector<std::string>& args, size_t n, const char* usage) {
    if (args.size() < n) fail(std::string("usage: ") + usage);
  }

  void dispatch(const std::string& cmd, const std::vector<std::string>& a) {
    if (cmd == "add-nodes") {
      need(a, 1,
           "add-nodes N [election=T] [heartbeat=T] [pre-vote=0|1] [check-quorum=0|1] "
           "[max-inflight=N] [max-entries=N]");
      add_nodes(static_cast<int>(num(a[0])), options(a, 1));
    } else if (cmd == "campaign") {
      need(a, 1, "campaign N");
      up(a[0]).campaign();
      print_state(a[0]);
    } else if (cmd == "tick") {
      need(a, 1, "tick N [count]");
      const uint64_t k = a.size() > 1 ? num(a[1]) : 1;
      for (uint64_t i = 0; i < k; ++i) up(a[0]).tick();
      print_state(a[0]);
    } else if (cmd == "tick-election") {
      need(a, 1, "tick-election N");
      tick_election(a[0]);
    } else if (cmd == "propose") {
      need(a, 2, "propose N data");
      auto p = up(a[0]).propose(a[1]);
      if (p) {
        out_ << "proposed " << p->term << "/" << p->index << "\n";
      } else {
        out_ << "refused: " << a[0] << " is not the leader\n";
      }
    } else if (cmd == "read-index") {
      need(a, 2, "read-index N context");
      out_ << (up(a[0]).read_index(num(a[1])) ? "started" : "refused: not the leader") << "\n";
    } else if (cmd == "process-ready") {
      need(a, 1, "process-ready N");
      if (!process_ready(a[0])) out_ << a[0] << ": no Ready\n";
    } else if (cmd == "deliver-msgs") {
      need(a, 1, "deliver-msgs N [from=M]");
      auto o = options(a, 1);
      deliver(a[0], o.count("from") ? o["from"] : "");
    } else if (cmd == "stabilize") {
      stabilize();
    } else if (cmd == "drop") {
      need(a, 1, "drop FROM->TO");
      auto arrow = a[0].find("->");
      if (arrow == std::string::npos) fail("usage: drop FROM->TO");
      drop(a[0].substr(0, arrow), a[0].substr(arrow + 2));
    } else if (cmd == "isolate") {
      need(a, 1, "isolate N");
      isolated_.insert(a[0]);
    } else if (cmd == "heal") {
      isolated_.clear();
    } else if (cmd == "crash") {
      need(a, 1, "crash N");
      Node& n = node(a[0]);
      n.raft.reset();
      n.snapshot_requests.clear();
      n.senders.clear();
      n.reported.clear();
      out_ << a[0] << " crashed; on disk: " << disk_text(n) << "\n";
    } else if (cmd == "restart") {
      need(a, 1, "restart N");
      restart(a[0]);
    } else if (cmd == "compact") {
      need(a, 2, "compact N index");
      compact(a[0], num(a[1]));
    } else if (cmd == "send-snapshot") {
      need(a, 2, "send-snapshot LEADER FOLLOWER [chunks=N]");
      auto o = options(a, 2);
      send_snapshot(a[0], a[1], o.count("chunks") ? num(o["chunks"]) : 1);
    } else if (cmd == "report-snapshot-failure") {
      need(a, 2, "report-snapshot-failure LEADER FOLLOWER");
      node(a[0]).senders.erase(a[1]);
      up(a[0]).report_snapshot(a[1], false);
      status(a[0], node(a[0]));
    } else if (cmd == "status") {
      for (auto& [id, n] : nodes_) {
        if (a.empty() || std::find(a.begin(), a.end(), id) != a.end()) status(id, n);
      }
    } else if (cmd == "log") {
      need(a, 1, "log N");
      log(a[0]);
    } else {
      fail("unknown command " + cmd);
    }
  }

  void add_nodes(int count, std::map<std::string, std::string> o) {
    const int first = static_cast<int>(nodes_.size()) + 1;
    if (first + count - 1 > 9) fail("at most 9 nodes");
    std::vector<NodeId> voters;
    for (int i = 1; i < first + count; ++i) voters.push_back(std::to_string(i));
    for (int i = first; i < first + count; ++i) {
      Config c;
      c.id = std::to_string(i);
      c.voters = voters;
      c.seed = static_cast<uint64_t>(i);
      c.election_tick = 10;
      c.heartbeat_tick = 1;
      if (o.count("election")) c.election_tick = static_cast<int>(num(o["election"]));
      if (o.count("heartbeat")) c.heartbeat_tick = static_cast<int>(num(o["heartbeat"]));
      if (o.count("pre-vote")) c.pre_vote = num(o["pre-vote"]) != 0;
      if (o.count("check-quorum")) c.check_quorum = num(o["check-quorum"]) != 0;
      if (o.count("max-inflight")) c.max_inflight_msgs = num(o["max-inflight"]);
      if (o.count("max-entries")) c.max_entries_per_msg = num(o["max-entries"]);
      Node& n = nodes_[c.id];
      n.cfg = c;
      n.raft = std::make_unique<Raft>(c, Restored{});
      out_ << c.id << ": voters=(";
      for (size_t k = 0; k < voters.size(); ++k) out_ << (k ? " " : "") << voters[k];
      out_ << ") election=" << c.election_tick << " heartbeat=" << c.heartbeat_tick
           << " pre-vote=" << c.pre_vote << " check-quorum=" << c.check_quorum << "\n";
    }
  }

  std::string state_text(const Raft& r) {
    std::string s = std::string(to_string(r.role())) + " term=" + std::to_string(r.term());
    if (!r.leader().empty()) s += " lead=" + r.leader();
    return s;
  }

  // Prints the node's role, term and leader if they changed since last shown.
  void print_state(const NodeId& id, const char* indent = "") {
    Node& n = node(id);
    if (!n.raft) return;
    std::string s = state_text(*n.raft);
    if (s == n.reported) return;
    n.reported = s;
    out_ << indent << id << " is " << s << "\n";
  }

  // Ticks a follower or (pre-)candidate until its election timeout fires,
  // that is until it has something to send (its randomized timeout is below
  // twice election_tick).
  void tick_election(const NodeId& id) {
    Raft& r = up(id);
    if (r.role() == Role::kLeader) fail("tick-election: " + id + " is the leader");
    if (r.has_ready()) fail("tick-election: " + id + " has a Ready to process first");
    int ticks = 0;
    while (!r.has_ready() && ticks < 2 * node(id).cfg.election_tick) {
      r.tick();
      ++ticks;
    }
    out_ << ticks << " ticks\n";
    print_state(id);
  }

  std::string disk_text(const Node& n) {
    std::ostringstream s;
    s << "term=" << n.hard_state.term
      << " vote=" << (n.hard_state.vote.empty() ? "-" : n.hard_state.vote)
      << " commit=" << n.hard_state.commit << " log=" << n.base_term << "/" << n.base_index << "+"
      << n.log.size() << " applied=" << n.applied;
    return s.str();
  }

  // Handles one Ready of node `id` like the real driver: persist the hard
  // state and entries, then send the messages, then apply the committed
  // entries and record read states. Returns false if there was none.
  bool process_ready(const NodeId& id) {
    Node& n = node(id);
    if (!n.raft || !n.raft->has_ready()) return false;
    Ready rd = n.raft->ready();
    out_ << "> " << id << " handling Ready\n";
    print_state(id, "  ");
    for (const SnapshotChunk& c : rd.snapshot_chunks) {
      out_ << "  StageChunk from=" << c.from << " term=" << c.leader_term << " snapshot=" << c.term
           << "/" << c.index << " seq=" << c.seq << (c.last ? " last" : "") << " data=\"" << c.data
           << "\"\n";
    }
    if (rd.install_snapshot) {
      // The state machine becomes the snapshot, then the log restarts at its
      // point, written together with the hard state.
      const auto& in = *rd.install_snapshot;
      n.applied = in.index;
      n.base_index = in.index;
      n.base_term = in.term;
      n.log.clear();
      n.hard_state = in.hard_state;
      out_ << "  InstallSnapshot " << in.term << "/" << in.index
           << " with HardState term=" << in.hard_state.term
           << " vote=" << (in.hard_state.vote.empty() ? "-" : in.hard_state.vote)
           << " commit=" << in.hard_state.commit << "\n";
    }
    if (rd.hard_state) {
      n.hard_state = *rd.hard_state;
      out_ << "  HardState term=" << rd.hard_state->term
           << " vote=" << (rd.hard_state->vote.empty() ? "-" : rd.hard_state->vote)
           << " commit=" << rd.hard_state->commit;
      // Shown only where it tells more than the commit index (HardState).
      if (rd.hard_state->leader_commit > rd.hard_state->commit) {
        out_ << " leader_commit=" << rd.hard_state->leader_commit;
      }
      out_ << "\n";
    }
    if (!rd.entries.empty()) {
      const uint64_t from = rd.entries.front().index;
      if (from <= n.base_index) fail("entries before the compaction point");
      n.log.resize(std::min<uint64_t>(n.log.size(), from - n.base_index - 1));
      if (n.base_index + n.log.size() + 1 != from) fail("a gap in the persisted log");
      out_ << "  Entries:\n";
      for (const Entry& e : rd.entries) {
        n.log.push_back(e);
        out_ << "    " << entry_text(e) << "\n";
      }
    }
    if (!rd.messages.empty()) {
      out_ << "  Messages:\n";
      for (const Message& m : rd.messages) {
        if (m.type == MsgType::kSnapshot) {
          // For the driver, not the network: see send-snapshot.
          n.snapshot_requests[m.to] = {m.index, m.log_term};
          out_ << "    " << message_text(m) << " (to the driver)\n";
          continue;
        }
        out_ << "    " << message_text(m) << "\n";
        network_.push_back(m);
      }
    }
    if (!rd.committed.empty()) {
      out_ << "  Committed:\n";
      for (const Entry& e : rd.committed) out_ << "    " << entry_text(e) << "\n";
      n.applied = rd.committed.back().index;
    }
    for (const ReadState& rs : rd.read_states) {
      out_ << "  ReadState context=" << rs.context << " index=" << rs.index << "\n";
    }
    for (uint64_t ctx : rd.dropped_reads) out_ << "  DroppedRead context=" << ctx << "\n";
    n.raft->advance(rd);
    return true;
  }

  bool cut(const Message& m) const { return isolated_.count(m.from) || isolated_.count(m.to); }

  // Steps one message into its recipient, or drops it.
  void step(const Message& m) {
    Node& to = node(m.to);
    if (cut(m)) {
      out_ << "  dropped (isolated) " << message_text(m) << "\n";
    } else if (!to.raft) {
      out_ << "  dropped (" << m.to << " is down) " << message_text(m) << "\n";
    } else {
      out_ << "  " << message_text(m) << "\n";
      to.raft->step(m);
      if (m.type == MsgType::kSnapshotResp) on_snapshot_ack(m.to, m);
    }
  }

  // The leader's driver: the next chunk once the last one is acknowledged,
  // and report_snapshot once the final one is.
  void on_snapshot_ack(const NodeId& leader, const Message& m) {
    Node& l = node(leader);
    auto it = l.senders.find(m.from);
    if (it == l.senders.end()) return;
    if (l.raft->role() != Role::kLeader || m.term != l.raft->term() || m.reject) {
      l.senders.erase(it);  // on a refusal Raft has gone back to probing itself
      out_ << "  (" << leader << "'s driver ends the transfer to " << m.from << ")\n";
      return;
    }
    Node::Sender& s = it->second;
    if (m.context + 1 != s.next_seq) return;  // a duplicate or stale ack
    if (s.next_seq == s.chunks) {
      l.senders.erase(it);
      l.raft->report_snapshot(m.from, true);
      out_ << "  (" << leader << "'s driver: snapshot to " << m.from << " done, reported)\n";
      return;
    }
    send_chunk(leader, m.from, s);
  }

  void send_chunk(const NodeId& leader, const NodeId& to, Node::Sender& s) {
    Message c;
    c.type = MsgType::kSnapshotChunk;
    c.from = leader;
    c.to = to;
    c.term = up(leader).term();
    c.index = s.index;
    c.log_term = s.term;
    c.context = s.next_seq++;
    c.last = s.next_seq == s.chunks;
    c.data = "part" + std::to_string(c.context + 1) + "/" + std::to_string(s.chunks);
    // The first chunk carries the configuration at the snapshot point, as
    // the server core's sender does (not printed: it is the leader's own).
    if (c.context == 0) c.config = up(leader).membership_at(s.index).encode();
    network_.push_back(c);
  }

  // Delivers every queued message to `to` (only those from `from` if set).
  void deliver(const NodeId& to, const NodeId& from) {
    std::deque<Message> keep;
    std::vector<Message> now;
    for (Message& m : network_) {
      if (m.to == to && (from.empty() || m.from == from)) {
        now.push_back(std::move(m));
      } else {
        keep.push_back(std::move(m));
      }
    }
    network_ = std::move(keep);
    if (now.empty()) {
      out_ << "no messages\n";
      return;
    }
    out_ << "> delivering to " << to << "\n";
    for (const Message& m : now) step(m);
    print_state(to, "  ");
  }

  void drop(const NodeId& from, const NodeId& to) {
    std::deque<Message> keep;
    int dropped = 0;
    for (Message& m : network_) {
      if (m.from == from && m.to == to) {
        out_ << "dropped " << message_text(m) << "\n";
        ++dropped;
      } else {
        keep.push_back(std::move(m));
      }
    }
    network_ = std::move(keep);
    if (!dropped) out_ << "no messages\n";
  }

  // Handles every Ready and delivers every message until nothing is left.
  void stabilize() {
    for (int round = 0; round < 10000; ++round) {
      bool any = false;
      for (auto& [id, n] : nodes_) {
        while (process_ready(id)) any = true;
      }
      std::set<NodeId> targets;
      for (const Message& m : network_) targets.insert(m.to);
      for (const NodeId& to : targets) {
        deliver(to, "");
        any = true;
      }
      if (!any) return;
    }
    fail("stabilize: no quiet state after 10000 rounds");
  }

  void restart(const NodeId& id) {
    Node& n = node(id);
    if (n.raft) fail("node " + id + " is up");
    Restored r;
    r.hard_state = n.hard_state;
    r.base_index = n.base_index;
    r.base_term = n.base_term;
    r.entries = n.log;
    r.applied = n.applied;
    n.raft = std::make_unique<Raft>(n.cfg, std::move(r));
    out_ << id << " restarted from " << disk_text(n) << "\n";
    print_state(id);
  }

  void compact(const NodeId& id, uint64_t index) {
    Node& n = node(id);
    Raft& r = up(id);
    if (index <= n.base_index || index > n.applied)
      fail("compact: index must be in (base, applied]");
    r.compact(index);
    n.base_term = n.log[index - n.base_index - 1].term;
    n.log.erase(n.log.begin(), n.log.begin() + static_cast<long>(index - n.base_index));
    n.base_index = index;
    out_ << id << " log: " << r.log().base_term() << "/" << r.log().base_index() << " then "
         << r.log().first_index() << ".." << r.log().last_index() << "\n";
  }

  // The leader's driver starts streaming the snapshot it was asked for: its
  // chunks travel as kSnapshotChunk messages, one in flight, the next sent
  // when the follower acknowledges the last (see on_snapshot_ack).
  void send_snapshot(const NodeId& leader, const NodeId& follower, uint64_t chunks) {
    Node& l = node(leader);
    up(leader);
    auto it = l.snapshot_requests.find(follower);
    if (it == l.snapshot_requests.end()) fail("no snapshot requested for " + follower);
    if (chunks == 0) fail("chunks must be at least 1");
    Node::Sender& s = l.senders[follower];
    s = Node::Sender{it->second.first, it->second.second, chunks, 0};
    l.snapshot_requests.erase(it);
    send_chunk(leader, follower, s);
    out_ << leader << " sends snapshot " << s.term << "/" << s.index << " to " << follower << " in "
         << chunks << " chunk(s)\n";
  }

  void status(const NodeId& id, Node& n) {
    if (!n.raft) {
      out_ << id << ": down; on disk: " << disk_text(n) << "\n";
      return;
    }
    const Raft& r = *n.raft;
    out_ << id << ": " << state_text(r) << " vote=" << (r.vote().empty() ? "-" : r.vote())
         << " commit=" << r.commit_index() << " applied=" << r.applied_index()
         << " log=" << r.log().first_index() << ".." << r.log().last_index()
         << " stable=" << r.log().stable_index() << "\n";
    if (r.role() != Role::kLeader) return;
    for (const auto& [peer, pr] : r.progress()) {
      out_ << "  " << peer << ": " << progress_state(pr.state) << " match=" << pr.match
           << " next=" << pr.next << " inflight=" << pr.inflight.size();
      if (pr.state == Progress::State::kSnapshot)
        out_ << " pending_snapshot=" << pr.pending_snapshot;
      out_ << "\n";
    }
  }

  void log(const NodeId& id) {
    Node& n = node(id);
    out_ << id << " on disk: " << disk_text(n) << "\n";
    for (const Entry& e : n.log) out_ << "  " << entry_text(e) << "\n";
  }
};

// ---- the script files -------------------------------------------------------

struct Block {
  std::vector<std::string> before;  // comments and blank lines before the command
  std::string command;
  size_t line = 0;
  std::string want;  // expected output (lines joined with '\n', trailing '\n')
};

std::vector<Block> parse_script(const std::string& text, std::vector<std::string>* trailer) {
  std::vector<Block> blocks;
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  Block cur;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.empty() || l[0] == '#') {
      cur.before.push_back(l);
      continue;
    }
    cur.command = l;
    cur.line = i + 1;
    if (i + 1 < lines.size() && lines[i + 1] == "----") {
      i += 2;
      for (; i < lines.size() && !lines[i].empty(); ++i) cur.want += lines[i] + "\n";
      --i;  // the blank line that ends the output goes before the next command
    }
    blocks.push_back(std::move(cur));
    cur = Block{};
  }
  *trailer = cur.before;
  return blocks;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// A line diff of one block: "-" lines only in want, "+" only in got (longest
// common subsequence, which is small here).
std::string diff(const std::string& want, const std::string& got) {
  auto a = lines_of(want), b = lines_of(got);
  std::vector<std::vector<int>> lcs(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;) {
    for (size_t j = b.size(); j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::string out;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      out += "  " + a[i++] + "\n";
      ++j;
    } else if (j < b.size() && (i == a.size() || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out += "+ " + b[j++] + "\n";
    } else {
      out += "- " + a[i++] + "\n";
    }
  }
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<std::string> script_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(TESTDATA_DIR)) {
    if (e.path().extension() == ".txt") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class Interaction : public testing::TestWithParam<std::string> {};

TEST_P(Interaction, MatchesGoldenOutput) {
  const fs::path path = fs::path(TESTDATA_DIR) / (GetParam() + ".txt");
  std::vector<std::string> trailer;
  std::vector<Block> blocks = parse_script(read_file(path), &trailer);
  ASSERT_FALSE(blocks.empty()) << path << " has no commands";
  const char* env = std::getenv("RAFTKV_REWRITE");
  const bool rewrite = env && std::string(env) == "1";

  Cluster cluster;
  std::string regenerated;
  int mismatches = 0;
  for (const Block& b : blocks) {
    std::string got;
    try {
      got = cluster.run(b.command);
    } catch (const std::exception& e) {
      got = std::string("error: ") + e.what() + "\n";
    }
    // A blank line separates an output from the next command.
    if (&b != &blocks.front() && (b.before.empty() || !b.before.front().empty())) {
      regenerated += "\n";
    }
    for (const std::string& l : b.before) regenerated += l + "\n";
    regenerated += b.command + "\n----\n" + got;
    if (!rewrite && got != b.want) {
      ++mismatches;
      ADD_FAILURE() << path.string() << ":" << b.line << ": " << b.command
                    << "\noutput differs (- want, + got):\n"
                    << diff(b.want, got);
    }
  }
  for (const std::string& l : trailer) regenerated += l + "\n";
  if (rewrite) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << regenerated;
    std::cout << "rewrote " << path.string() << "\n";
  } else if (mismatches) {
    std::cout << "to accept the new output: RAFTKV_REWRITE=1 " << testing::internal::GetArgvs()[0]
              << " --gtest_filter='*" << GetParam() << "*'\n";
  }
}

INSTANTIATE_TEST_SUITE_P(Scripts, Interaction, testing::ValuesIn(script_names()),
                         [](const testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (char& c : n) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace raftkv::raft
