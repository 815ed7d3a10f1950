#include "sim/sim.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <iostream>
#include <map>
#include <numeric>
#include <queue>
#include <random>
#include <sstream>
#include <unordered_map>
#include <variant>

#include "linearizability/checker.h"
#include "server/core.h"
#include "sim/quorum.h"
#include "storage/memory_kv_store.h"
#include "storage/memory_log_store.h"

namespace raftkv::sim {

using raft::Entry;
using raft::EntryType;
using raft::Message;
using raft::MsgType;
using raft::Role;

const char* to_string(Scenario s) {
  switch (s) {
    case Scenario::kBasic:
      return "basic";
    case Scenario::kLossy:
      return "lossy";
    case Scenario::kPartitions:
      return "partitions";
    case Scenario::kCrashes:
      return "crashes";
    case Scenario::kSkew:
      return "skew";
    case Scenario::kChaos:
      return "chaos";
  }
  return "?";
}

std::vector<Scenario> all_scenarios() {
  return {Scenario::kBasic,   Scenario::kLossy, Scenario::kPartitions,
          Scenario::kCrashes, Scenario::kSkew,  Scenario::kChaos};
}

std::optional<Scenario> parse_scenario(std::string_view name) {
  for (Scenario s : all_scenarios()) {
    if (name == to_string(s)) return s;
  }
  return std::nullopt;
}

namespace {

struct BugFlag {
  const char* name;
  bool raft::Config::Bugs::*field;
};
constexpr BugFlag kBugs[] = {
    {"concurrent_changes", &raft::Config::Bugs::concurrent_changes},
    {"config_on_commit", &raft::Config::Bugs::config_on_commit},
    {"removed_leader_serves", &raft::Config::Bugs::removed_leader_serves},
};

}  // namespace

std::vector<std::string> bug_names() {
  std::vector<std::string> names;
  for (const BugFlag& b : kBugs) names.push_back(b.name);
  return names;
}

std::optional<raft::Config::Bugs> parse_bug(std::string_view name) {
  for (const BugFlag& b : kBugs) {
    if (name != b.name) continue;
    raft::Config::Bugs bugs;
    bugs.*b.field = true;
    return bugs;
  }
  return std::nullopt;
}

std::string to_string(const raft::Config::Bugs& bugs) {
  std::string s;
  for (const BugFlag& b : kBugs) {
    if (bugs.*b.field) s += (s.empty() ? "" : ",") + std::string(b.name);
  }
  return s;
}

std::string replay_command(const Options& o, std::string_view binary) {
  std::ostringstream s;
  s << binary << " --seed " << o.seed << " --nodes " << o.nodes << " --scenario "
    << to_string(o.scenario) << " --steps " << o.ticks;
  Options d;
  if (o.quiet_ticks != d.quiet_ticks) s << " --quiet-steps " << o.quiet_ticks;
  if (o.clients != d.clients) s << " --clients " << o.clients;
  if (o.keys != d.keys) s << " --keys " << o.keys;
  if (o.election_tick != d.election_tick) s << " --election-tick " << o.election_tick;
  if (o.heartbeat_tick != d.heartbeat_tick) s << " --heartbeat-tick " << o.heartbeat_tick;
  if (o.max_inflight != d.max_inflight) s << " --max-inflight " << o.max_inflight;
  if (o.read_via_log != d.read_via_log) s << " --read-via-log " << o.read_via_log;
  if (o.delay_min_ns != d.delay_min_ns || o.delay_max_ns != d.delay_max_ns) {
    s << " --delay-us " << o.delay_min_ns / 1000 << "," << o.delay_max_ns / 1000;
  }
  if (!o.pre_vote) s << " --no-pre-vote";
  if (!o.check_quorum) s << " --no-check-quorum";
  if (o.membership) s << " --membership";
  if (!o.check_membership) s << " --no-membership-checks";
  for (const BugFlag& b : kBugs) {
    if (o.bugs.*b.field) s << " --bug " << b.name;
  }
  return s.str();
}

namespace {

constexpr int64_t kMs = 1'000'000;

// ---- client commands as log entries --------------------------------------

struct ClientOp {
  lin::Fn f = lin::Fn::kRead;
  int key = 0;
  int64_t a = 0;  // write: value; cas: from
  int64_t b = 0;  // cas: to
};

struct Reply {
  bool ok = false;
  bool indefinite = false;
  std::optional<int64_t> value;  // read: nullopt = key absent
  int leader_hint = -1;
  const char* why = "";
};

struct Packet {
  enum class Kind : uint8_t { kPeer, kRequest, kReply };
  Kind kind = Kind::kPeer;
  int from = -1;  // node index, or client index for kRequest
  int to = -1;    // node index, or client index for kReply
  // kPeer: the sender's and receiver's lives (see Node::life).
  uint64_t from_life = 0, to_life = 0;
  server::PeerMessage peer;
  uint64_t req = 0;
  ClientOp op;
  Reply reply;
};

enum class Ev : uint8_t {
  kDeliver,
  kTick,
  kDrive,
  kClientStart,
  kClientTimeout,
  kNemesis,
  kRestart,
  kQuiet,
};

struct Event {
  int64_t time;
  uint64_t seq;
  Ev kind;
  int target;
  uint64_t arg;
};

struct Later {
  bool operator()(const Event& a, const Event& b) const {
    return a.time != b.time ? a.time > b.time : a.seq > b.seq;
  }
};

struct SimClient {
  int idx = 0;
  int64_t process = 0;
  bool busy = false;
  uint64_t req = 0;
  ClientOp op;
  int target = -1;
  int hint = -1;
  std::map<int, int64_t> seen;  // last value observed per key (cas "from")
};

std::string fmt_time(int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%9.3fms", static_cast<double>(ns) / kMs);
  return buf;
}

std::string msg_str(const Message& m) {
  std::ostringstream s;
  s << m.from << "->" << m.to << " " << raft::to_string(m.type) << " t" << m.term;
  switch (m.type) {
    case MsgType::kAppend:
      s << " prev=" << m.index << "/t" << m.log_term << " commit=" << m.commit;
      if (!m.entries.empty()) {
        s << " [" << m.entries.front().index << ".." << m.entries.back().index << "]";
      }
      break;
    case MsgType::kAppendResp:
      s << " idx=" << m.index;
      if (m.reject) s << " REJECT hint=" << m.reject_hint << " cterm=" << m.conflict_term;
      break;
    case MsgType::kVote:
    case MsgType::kPreVote:
      s << " last=" << m.index << "/t" << m.log_term;
      break;
    case MsgType::kVoteResp:
    case MsgType::kPreVoteResp:
      s << (m.reject ? " reject" : " grant");
      break;
    case MsgType::kHeartbeat:
      s << " commit=" << m.commit << " ctx=" << m.context;
      break;
    case MsgType::kHeartbeatResp:
      s << " ctx=" << m.context;
      break;
    default:
      break;
  }
  return s.str();
}

const char* fn_name(lin::Fn f) {
  return lin::to_string(f);
}

}  // namespace

// ---- the simulation ---------------------------------------------------------

// Thrown at an armed crash point inside a node's core; the node is gone.
struct SimCrash {};

struct Simulation::Impl {
  struct Node;

  // Everything one node's core touches: its two stores (in memory, with
  // the RocksDB stores' crash contract), its outbox and the observer hook.
  // Each call is a point where an armed crash can land, and where the
  // persistence rules are checked.
  class Io final : public storage::LogStorage,
                   public storage::KvStorage,
                   public server::Outbox,
                   public server::CoreObserver {
   public:
    Io(Impl& sim, int idx) : sim_(sim), idx_(idx) {}

    // LogStorage
    raft::Restored load() override { return disk().load(); }
    void save(const std::optional<raft::HardState>& hs,
              const std::vector<raft::Entry>& entries) override {
      point("persisting");
      sim_.check_save(node(), hs, entries);
      disk().save(hs, entries);
    }
    void compact(uint64_t index, uint64_t term) override {
      point("compacting the log");
      sim_.check_compact(node(), index, term);
      disk().compact(index, term);
    }
    void reset_to_snapshot(uint64_t index, uint64_t term, const raft::HardState& hs) override {
      point("resetting the log to a snapshot");
      disk().reset_to_snapshot(index, term, hs);
    }
    std::optional<storage::ClusterIdentity> identity() override { return disk().identity(); }
    void set_identity(const storage::ClusterIdentity& id) override { disk().set_identity(id); }
    const raft::HardState& hard_state() const override { return cdisk().hard_state(); }
    uint64_t first_index() const override { return cdisk().first_index(); }
    uint64_t last_index() const override { return cdisk().last_index(); }
    uint64_t syncs() const override { return cdisk().syncs(); }
    uint64_t synced_entries() const override { return cdisk().synced_entries(); }

    // KvStorage
    std::optional<std::string> get(const std::string& key) override { return kv().get(key); }
    uint64_t applied_index() const override { return node().kv_disk.applied_index(); }
    uint64_t applied_term() const override { return node().kv_disk.applied_term(); }
    std::optional<std::string> membership() const override { return node().kv_disk.membership(); }
    using storage::KvStorage::apply;
    void apply(const storage::KvWrites& writes, uint64_t applied, uint64_t term,
               const std::optional<std::string>& membership) override {
      point("applying");
      kv().apply(writes, applied, term, membership);
    }
    void sync() override {
      point("syncing the KV store");
      kv().sync();
    }
    std::unique_ptr<SnapshotReader> read_snapshot() override { return kv().read_snapshot(); }
    using storage::KvStorage::begin_snapshot;
    std::unique_ptr<SnapshotWriter> begin_snapshot(uint64_t index, uint64_t term,
                                                   std::optional<std::string> membership) override {
      point("starting a snapshot install");
      return std::make_unique<Writer>(*this,
                                      kv().begin_snapshot(index, term, std::move(membership)));
    }

    // Outbox
    void send(const raft::NodeId& to, server::PeerMessage m) override {
      point("sending");
      sim_.send_peer(node(), to, std::move(m));
    }
    void reply(server::RequestId id, server::ClientReply r) override {
      point("replying");
      sim_.reply_client(node(), id, std::move(r));
    }

    // CoreObserver
    void on_ready(const raft::Raft& r, const raft::Ready& rd) override {
      sim_.check_ready(node(), r, rd);
    }
    void on_apply(std::span<const raft::Entry> entries) override {
      for (const raft::Entry& e : entries) sim_.check_apply(node(), e);
    }

   private:
    class Writer final : public SnapshotWriter {
     public:
      Writer(Io& io, std::unique_ptr<SnapshotWriter> w) : io_(io), w_(std::move(w)) {}
      void add(const storage::KvPairs& pairs) override {
        io_.point("staging a snapshot chunk");
        w_->add(pairs);
      }
      void commit() override {
        io_.point("installing a snapshot");
        w_->commit();
      }

     private:
      Io& io_;
      std::unique_ptr<SnapshotWriter> w_;
    };

    Node& node() const { return sim_.nodes[idx_]; }
    storage::MemoryLogStore& disk() { return node().log_disk; }
    const storage::MemoryLogStore& cdisk() const { return node().log_disk; }
    storage::MemoryKvStore& kv() { return node().kv_disk; }
    void point(const char* what) {
      Node& n = node();
      if (n.crash_countdown > 0 && --n.crash_countdown == 0) {
        n.crash_countdown = -1;
        n.crash_what = what;
        throw SimCrash{};
      }
    }

    Impl& sim_;
    int idx_;
  };

  struct Node {
    int idx = 0;
    raft::NodeId id;
    bool up = true;
    uint64_t inc = 0;   // incarnation; events of an older one are stale
    double rate = 1.0;  // clock skew: tick period multiplier
    storage::MemoryLogStore log_disk;
    storage::MemoryKvStore kv_disk;
    std::unique_ptr<Io> io;
    std::unique_ptr<server::Core> core;
    uint64_t applied = 0;  // as seen through the observer
    server::RequestId next_request = 0;
    std::map<server::RequestId, std::pair<int, uint64_t>> requests;  // -> (client, req)
    bool drive_pending = false;
    int crash_countdown = -1;  // crash at the n-th I/O point from now; -1: not armed
    const char* crash_what = "";
    uint64_t last_commit = 0;
    uint64_t commit_checked = 0;
    Role last_role = Role::kFollower;
    uint64_t last_term = 0;
    uint64_t drive_term = 0;  // Raft's term after the last drive (or restart)
    // Started as a joining server (no configuration until added); true for
    // the whole life of its stores, which record it (ClusterIdentity).
    bool join = false;
    // Bumped when the stores are wiped: the node is a new server then, and
    // messages to or from its previous life are never delivered (a new
    // process has new connections).
    uint64_t life = 0;
    const raft::Raft& raft() const { return core->raft(); }
  };

  struct Committed {
    uint64_t term;         // the entry's term
    uint64_t commit_term;  // term of the first node seen with commit >= its index
  };
  struct LogInfo {
    EntryType type;
    std::string data;
    uint64_t prev_term;
  };
  struct Applied {
    uint64_t term;
    EntryType type;
    std::string data;
  };

  // Nemesis tracks beyond 0 (partitions) and 1 (crashes, clocks): random
  // membership changes, and a one-off change right after one committed.
  static constexpr int kMembershipTrack = 2;
  static constexpr int kMembershipFollowUp = 3;
  // Node::requests' client for membership requests (-1: Simulation::write_via).
  static constexpr int kAdminClient = -2;
  // Replies to requests made by hand, by (node index, request id).
  std::map<std::pair<int, server::RequestId>, server::ClientReply> hand_replies;

  const Options given;  // as asked for; replay_command(given) replays the run
  Options o;            // in effect: `given` plus settings derived from the seed
  std::mt19937_64 rng;
  int64_t now = 0;
  uint64_t seq = 0;
  std::priority_queue<Event, std::vector<Event>, Later> queue;
  std::unordered_map<uint64_t, Packet> packets;
  uint64_t next_packet = 0;

  std::vector<Node> nodes;
  std::vector<SimClient> clients;
  std::vector<std::vector<char>> blocked;  // blocked[from][to]
  // Partitions cut clients too: client c cannot reach (nor hear from) node n
  // when cut[c][n].
  std::vector<std::vector<char>> cut;
  std::vector<std::vector<size_t>> appends_unanswered;

  // Network and clock faults; the quiet phase turns most of them off.
  double loss = 0, dup = 0, long_p = 0;
  int64_t delay_min = 0, delay_max = 0, long_max = 0;
  double skew = 0.02, jitter = 0.1;
  bool faults = true;
  bool partitions = false, crashes = false, reskew = false;
  bool partitioned = false;
  int64_t end_ns = 0, quiet_ns = 0, clients_stop_ns = 0;

  std::vector<lin::Event> history;
  int64_t next_process = 0;
  uint64_t req_counter = 0;
  int64_t value_counter = 0;
  server::ReadMode read_mode = server::ReadMode::kIndex;

  // Invariant state.
  std::map<uint64_t, int> term_leader;
  std::map<std::pair<uint64_t, uint64_t>, LogInfo> log_table;  // (index, term)
  std::vector<Committed> committed;                            // [i - 1]
  std::vector<Applied> applied_table;                          // [i - 1]

  std::string invariant, detail;
  Stats stats;
  std::deque<std::string> trace;

  explicit Impl(Options opt) : given(opt), o(std::move(opt)), rng(o.seed) {}

  // ---- randomness ----
  uint64_t uniform(uint64_t n) { return n == 0 ? 0 : rng() % n; }
  int64_t range(int64_t lo, int64_t hi) {  // inclusive
    return hi <= lo ? lo : lo + static_cast<int64_t>(uniform(static_cast<uint64_t>(hi - lo + 1)));
  }
  double unit() { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return p > 0 && unit() < p; }

  // ---- bookkeeping ----
  void log(std::string line) {
    line = fmt_time(now) + " " + line;
    if (o.trace) std::cerr << line << "\n";
    trace.push_back(std::move(line));
    while (trace.size() > o.trace_tail) trace.pop_front();
  }

  void fail(const std::string& inv, const std::string& what) {
    if (!invariant.empty()) return;
    invariant = inv;
    detail = what;
    log("VIOLATION " + inv + ": " + what);
  }

  int64_t election_ns() const { return o.election_tick * o.tick_ns; }

  void schedule(int64_t t, Ev kind, int target, uint64_t arg = 0) {
    queue.push(Event{t, seq++, kind, target, arg});
  }

  static int idx_of(const raft::NodeId& id) { return std::atoi(id.c_str() + 1) - 1; }

  // The production core's options, at the simulation's time scale.
  server::CoreOptions core_options(Node& n) {
    server::CoreOptions c;
    c.tick_ms = static_cast<int>(o.tick_ns / kMs);
    c.heartbeat_ms = o.heartbeat_tick * c.tick_ms;
    c.election_timeout_ms = o.election_tick * c.tick_ms;
    c.read_mode = read_mode;
    c.forward_timeout_ms = static_cast<int>(2 * o.client_timeout_ns / kMs);
    c.seed = rng();
    c.max_inflight = o.max_inflight;
    c.max_entries_per_msg = o.max_entries_per_msg;
    c.pre_vote = o.pre_vote;
    c.check_quorum = o.check_quorum;
    c.compact_threshold = o.compact_threshold;
    c.compact_max_lag = o.compact_max_lag;
    c.compact_bytes = o.compact_bytes;
    c.snapshot_chunk_bytes = o.snapshot_chunk_bytes;
    c.snapshot_timeout_ms = static_cast<int>(4 * election_ns() / kMs);
    c.raft_bugs = o.bugs;
    if (o.membership) {
      c.join = n.join;
      c.initial_members = founders();
    }
    c.observer = n.io.get();
    std::string who = n.id;
    c.log = [this, who](const std::string& line) { log(who + ": " + line); };
    return c;
  }

  std::vector<raft::NodeId> member_ids() const {
    std::vector<raft::NodeId> ids;
    for (const Node& m : nodes) ids.push_back(m.id);
    return ids;
  }

  int64_t ms() const { return now / kMs; }

  // ---- setup ----
  void setup() {
    delay_min = o.delay_min_ns;
    delay_max = std::max(o.delay_max_ns, o.delay_min_ns);
    switch (o.scenario) {
      case Scenario::kBasic:
        break;
      case Scenario::kLossy:
        loss = 0.02 + 0.15 * unit();
        dup = 0.05;
        long_p = 0.05;
        long_max = delay_max + 300 * kMs;
        break;
      case Scenario::kPartitions:
        partitions = true;
        break;
      case Scenario::kCrashes:
        crashes = true;
        break;
      case Scenario::kSkew:
        skew = 0.3;
        jitter = 0.5;
        reskew = true;
        break;
      case Scenario::kChaos:
        loss = 0.03;
        dup = 0.03;
        long_p = 0.02;
        long_max = delay_max + 200 * kMs;
        skew = 0.1;
        jitter = 0.3;
        partitions = crashes = reskew = true;
        break;
    }
    if (!o.nemesis_enabled) partitions = crashes = reskew = false;
    // ReadIndex must be safe without CheckQuorum, which only narrows the
    // window in which a deposed leader still thinks it leads (to under an
    // election timeout, too narrow for random testing to hit reliably). Half
    // the partition seeds and a fifth of the chaos seeds turn it off so that
    // the window stays open and read bugs show up as stale reads.
    if (o.vary_config && ((o.scenario == Scenario::kPartitions && chance(0.5)) ||
                          (o.scenario == Scenario::kChaos && chance(0.2)))) {
      o.check_quorum = false;
    }
    // Safety must not depend on PreVote either.
    if (o.vary_config && o.scenario == Scenario::kChaos && chance(0.15)) o.pre_vote = false;
    // Small batches and windows, on half the seeds with faults, so that
    // replication proceeds in many small steps (old-term entries arriving
    // without the new leader's no-op, probes racing pipelined appends).
    if (o.scenario != Scenario::kBasic && o.vary_config && chance(0.5)) {
      static const size_t kEntries[] = {1, 2, 3, 8};
      static const size_t kInflight[] = {1, 2, 4, 16};
      o.max_entries_per_msg = kEntries[uniform(4)];
      o.max_inflight = kInflight[uniform(4)];
    }
    // Compaction and snapshots: on most seeds the log is compacted every
    // few entries, a leader keeps little for lagging followers, and
    // snapshots travel in many tiny chunks, so crashed, partitioned and
    // slow followers catch up by InstallSnapshot again and again.
    if (o.vary_config && chance(0.7)) {
      o.compact_threshold = 1 + uniform(24);
      o.compact_max_lag = uniform(16);
      o.snapshot_chunk_bytes = 1 + uniform(48);
      if (chance(0.3)) o.compact_bytes = 16 + uniform(256);
    }
    if (chance(o.read_via_log)) read_mode = server::ReadMode::kLog;

    int n = o.membership ? kPoolSize : o.nodes;
    blocked.assign(n, std::vector<char>(n, 0));
    cut.assign(o.clients_enabled ? o.clients : 0, std::vector<char>(n, 0));
    appends_unanswered.assign(n, std::vector<size_t>(n, 0));
    nodes.resize(n);
    for (int i = 0; i < n; ++i) {
      nodes[i].idx = i;
      nodes[i].id = "n";
      nodes[i].id += std::to_string(i + 1);  // (not "n" + ...: a GCC 12 -Wrestrict false positive)
      nodes[i].join = o.membership && i >= o.nodes;
    }
    for (Node& nd : nodes) {
      nd.rate = 1.0 + skew * (2 * unit() - 1);
      nd.io = std::make_unique<Io>(*this, nd.idx);
      start_core(nd);
      schedule(static_cast<int64_t>(unit() * tick_period(nd)), Ev::kTick, nd.idx, nd.inc);
    }
    end_ns = static_cast<int64_t>(o.ticks) * o.tick_ns;
    quiet_ns = end_ns - static_cast<int64_t>(std::min(o.quiet_ticks, o.ticks)) * o.tick_ns;
    clients_stop_ns = end_ns - 3 * election_ns();
    if (o.clients_enabled) {
      clients.resize(o.clients);
      for (int c = 0; c < o.clients; ++c) {
        clients[c].idx = c;
        clients[c].process = c;
        schedule(range(0, o.think_max_ns), Ev::kClientStart, c);
      }
      next_process = o.clients;
    }
    if (partitions) schedule(range(election_ns(), 3 * election_ns()), Ev::kNemesis, 0);
    if (crashes || reskew) schedule(range(election_ns(), 3 * election_ns()), Ev::kNemesis, 1);
    if (o.membership && o.nemesis_enabled) {
      schedule(range(election_ns(), 2 * election_ns()), Ev::kNemesis, kMembershipTrack);
    }
    if (o.nemesis_enabled) schedule(quiet_ns, Ev::kQuiet, -1);
    log("start: " + replay_command(given) + " (entries/msg " +
        std::to_string(o.max_entries_per_msg) + ", inflight " + std::to_string(o.max_inflight) +
        (o.check_quorum ? "" : ", no check-quorum") + (o.pre_vote ? "" : ", no pre-vote") +
        (read_mode == server::ReadMode::kLog ? ", reads via the log" : "") +
        (o.membership ? ", membership changes" : "") +
        (to_string(o.bugs).empty() ? "" : ", BUG " + to_string(o.bugs)) +
        (o.compact_threshold < 1000
             ? ", compact over " + std::to_string(o.compact_threshold) + " entries, lag " +
                   std::to_string(o.compact_max_lag) + ", chunks of " +
                   std::to_string(o.snapshot_chunk_bytes) + " B"
             : std::string()) +
        ")");
  }

  int64_t tick_period(const Node& n) const {
    return static_cast<int64_t>(static_cast<double>(o.tick_ns) * n.rate);
  }

  // ---- network ----
  int64_t delay() {
    // Rarely, a message is held for seconds: it arrives terms later.
    if (chance(long_p / 20)) return range(long_max, long_max + 5 * election_ns());
    if (chance(long_p)) return range(delay_max, long_max);
    return range(delay_min, delay_max);
  }

  void transmit(Packet p) {
    // Messages between servers may be duplicated; client requests are not
    // (a duplicated request would be a second, different operation, which
    // no real client connection produces), but they may be lost.
    bool twice = p.kind == Packet::Kind::kPeer && chance(dup);
    if (chance(loss)) {
      if (!twice) return;
      twice = false;
    }
    for (int copy = 0; copy < (twice ? 2 : 1); ++copy) {
      uint64_t id = next_packet++;
      packets.emplace(id, p);
      schedule(now + delay(), Ev::kDeliver, -1, id);
    }
  }

  // The core sends a message to a peer.
  void send_peer(Node& n, const raft::NodeId& to, server::PeerMessage m) {
    if (auto* rm = std::get_if<Message>(&m)) {
      check_contract(n, *rm);
      if (rm->type == MsgType::kAppend) {
        ++stats.append_msgs;
        stats.appended_entries += rm->entries.size();
        stats.max_entries_in_append = std::max(stats.max_entries_in_append, rm->entries.size());
        size_t& u = appends_unanswered[n.idx][idx_of(to)];
        ++u;
        stats.max_appends_in_flight = std::max(stats.max_appends_in_flight, u);
      }
      if (rm->type == MsgType::kSnapshotChunk && rm->context == 0) ++stats.snapshots_started;
    } else {
      ++stats.forwards;
    }
    ++stats.messages_sent;
    Packet p;
    p.kind = Packet::Kind::kPeer;
    p.from = n.idx;
    p.to = idx_of(to);
    p.from_life = n.life;
    p.to_life = nodes[p.to].life;
    p.peer = std::move(m);
    if (blocked[p.from][p.to]) return;
    transmit(std::move(p));
  }

  // The core answers a client request.
  void reply_client(Node& n, server::RequestId id, server::ClientReply r) {
    auto it = n.requests.find(id);
    if (it == n.requests.end()) {
      fail("api", n.id + " answered request " + std::to_string(id) + " twice or never got it");
      return;
    }
    auto [client, req] = it->second;
    n.requests.erase(it);
    if (client == kAdminClient) return admin_reply(n, r);
    if (client < 0) {  // a request made by hand (Simulation::write_via): kept for reply_to
      hand_replies[{n.idx, id}] = std::move(r);
      return;
    }
    Reply rep;
    switch (r.code) {
      case server::ReplyCode::kOk:
        rep.ok = true;
        if (r.value) rep.value = std::stoll(*r.value);
        break;
      case server::ReplyCode::kKeyDoesNotExist:
        // An absent key is a read's valid answer; a cas fails definitely.
        rep.ok = clients[client].op.f == lin::Fn::kRead;
        rep.why = "key does not exist";
        break;
      case server::ReplyCode::kPreconditionFailed:
        if (r.value) rep.value = std::stoll(*r.value);
        rep.why = "precondition failed";
        break;
      case server::ReplyCode::kUnavailable:
        rep.why = "unavailable";
        break;
      case server::ReplyCode::kIndefinite:
        rep.indefinite = true;
        rep.why = "indefinite";
        break;
      case server::ReplyCode::kNotAnInteger:  // the simulation sends no incr
        fail("api", n.id + " answered a read, write or cas with 'not an integer'");
        return;
    }
    Packet p;
    p.kind = Packet::Kind::kReply;
    p.from = n.idx;
    p.to = client;
    p.req = req;
    p.reply = rep;
    transmit(std::move(p));
  }

  void deliver(uint64_t id) {
    auto it = packets.find(id);
    Packet p = std::move(it->second);
    packets.erase(it);
    switch (p.kind) {
      case Packet::Kind::kPeer: {
        Node& n = nodes[p.to];
        if (!n.up || blocked[p.from][p.to]) return;
        if (n.life != p.to_life || nodes[p.from].life != p.from_life) return;
        ++stats.messages_delivered;
        if (auto* rm = std::get_if<Message>(&p.peer)) {
          if (rm->type == MsgType::kAppendResp) appends_unanswered[p.to][p.from] = 0;
          if (rm->type != MsgType::kHeartbeat && rm->type != MsgType::kHeartbeatResp) {
            log("deliver " + msg_str(*rm));
          }
        }
        call(n, [&] { n.core->peer_message(nodes[p.from].id, std::move(p.peer), ms()); });
        request_drive(n);
        return;
      }
      case Packet::Kind::kRequest: {
        Node& n = nodes[p.to];
        if (!n.up || cut[p.from][p.to]) return;
        server::RequestId rid = ++n.next_request;
        n.requests[rid] = {p.from, p.req};
        call(n, [&] { n.core->client_request(rid, to_request(p.op), ms()); });
        request_drive(n);
        return;
      }
      case Packet::Kind::kReply:
        if (cut[p.to][p.from]) return;
        client_reply(clients[p.to], p);
        return;
    }
  }

  static server::ClientRequest to_request(const ClientOp& op) {
    server::ClientRequest r;
    r.key = std::to_string(op.key);
    switch (op.f) {
      case lin::Fn::kRead:
        r.op = server::ClientRequest::Op::kRead;
        break;
      case lin::Fn::kWrite:
        r.op = server::ClientRequest::Op::kWrite;
        r.value = std::to_string(op.a);
        break;
      case lin::Fn::kCas:
        r.op = server::ClientRequest::Op::kCas;
        r.from = std::to_string(op.a);
        r.value = std::to_string(op.b);
        break;
    }
    return r;
  }

  // Runs f against n's core; an armed crash point that fires inside it
  // takes the node down, and a storage error is a violation (the stores
  // keep their contract, so the core must never see one here).
  template <class F>
  void call(Node& n, F&& f) {
    if (!n.up) return;
    try {
      f();
    } catch (const SimCrash&) {
      ++stats.crashes_mid_ready;
      crash(n, std::string("while ") + n.crash_what);
    } catch (const storage::StorageError& e) {
      fail("storage", n.id + ": " + e.what());
    }
  }

  // Like the production event loop, a node handles some input and then
  // drives Raft; sometimes several inputs are stepped before one drive.
  void request_drive(Node& n) {
    if (n.drive_pending || !n.up) return;
    if (chance(0.6)) return drive(n);
    n.drive_pending = true;
    schedule(now + range(0, kMs), Ev::kDrive, n.idx, n.inc);
  }

  void drive(Node& n) {
    n.drive_pending = false;
    if (!invariant.empty()) return;
    call(n, [&] { n.core->drive(); });
    if (n.up) n.drive_term = n.raft().term();
  }

  // ---- persistence contract ----
  // Messages may not depend on what is not durable yet, except that a
  // leader sending before it persists may carry entries it has not synced.
  void check_contract(const Node& n, const Message& m) {
    const raft::HardState& hs = n.log_disk.durable_hard_state();
    auto bad = [&](const std::string& why) {
      fail("persistence-contract", n.id + " sent " + msg_str(m) + " but " + why);
    };
    bool future_term =
        m.type == MsgType::kPreVote || (m.type == MsgType::kPreVoteResp && !m.reject);
    if (!future_term && m.term > hs.term) {
      bad("its disk has term " + std::to_string(hs.term));
    }
    if (m.type == MsgType::kPreVote && m.term > hs.term + 1) {
      bad("its disk has term " + std::to_string(hs.term));
    }
    // A vote must be durable before it is announced: the disk holds it, or
    // a later term (then this node can never vote in m.term again). That
    // happens when a vote and a higher term are stepped before one Ready.
    if (m.type == MsgType::kVote && hs.term == m.term && hs.vote != n.id) {
      bad("its own vote is not on disk");
    }
    if (m.type == MsgType::kVoteResp && !m.reject && hs.term == m.term && hs.vote != m.to) {
      bad("the vote is not on disk (disk: term " + std::to_string(hs.term) + " vote '" + hs.vote +
          "')");
    }
    if (m.type == MsgType::kAppendResp && !m.reject && m.index > 0) {
      // Entries acknowledged must be durable (or compacted: then the KV
      // store holds them durably).
      auto mine = n.raft().log().term_at(m.index);
      auto durable = n.log_disk.durable_term_at(m.index);
      bool compacted = m.index < n.log_disk.first_index() - 1;
      if (!compacted && (!durable || (mine && *durable != *mine))) {
        bad("entries up to " + std::to_string(m.index) + " are not on disk (disk last " +
            std::to_string(n.log_disk.durable_last_index()) + ")");
      }
    }
  }

  // ---- ready checks ----
  void check_entry(const Node& n, const Entry& e, uint64_t prev_term, const char* where) {
    auto [it, fresh] =
        log_table.emplace(std::make_pair(e.index, e.term), LogInfo{e.type, e.data, prev_term});
    if (!fresh && (it->second.type != e.type || it->second.data != e.data ||
                   it->second.prev_term != prev_term)) {
      fail("log-matching", n.id + " " + where + " has entry " + std::to_string(e.index) + "/t" +
                               std::to_string(e.term) + " '" + e.data + "' after term " +
                               std::to_string(prev_term) + ", but another log has '" +
                               it->second.data + "' after term " +
                               std::to_string(it->second.prev_term));
    }
  }

  void check_ready(Node& n, const raft::Raft& r, const raft::Ready& rd) {
    if (!rd.entries.empty()) {
      uint64_t first = rd.entries.front().index;
      uint64_t prev_term = r.log().term_at(first - 1).value_or(0);
      for (size_t k = 0; k < rd.entries.size(); ++k) {
        const Entry& e = rd.entries[k];
        if (e.index != first + k) {
          fail("ready", n.id + ": Ready entries not contiguous at " + std::to_string(e.index));
        }
        if (e.term < prev_term) fail("ready", n.id + ": Ready entry terms go backwards");
        check_entry(n, e, prev_term, "(Ready)");
        prev_term = e.term;
        // A committed entry a node holds must never be replaced. (A stale
        // leader may still append at an index committed elsewhere.)
        auto held = n.log_disk.term_at(e.index);
        if (e.index <= committed.size() && committed[e.index - 1].term != e.term && held &&
            *held == committed[e.index - 1].term) {
          fail("state-machine-safety", n.id + " overwrites committed entry " +
                                           std::to_string(e.index) + "/t" +
                                           std::to_string(committed[e.index - 1].term) + " with t" +
                                           std::to_string(e.term));
        }
      }
    }
    if (!rd.committed.empty()) {
      uint64_t start = rd.install_snapshot ? rd.install_snapshot->index : n.applied;
      if (rd.committed.front().index != start + 1) {
        fail("ready", n.id + ": committed entries start at " +
                          std::to_string(rd.committed.front().index) + " but applied is " +
                          std::to_string(start));
      }
      if (rd.committed.back().index > r.commit_index()) {
        fail("applied<=commit", n.id + ": Ready applies beyond the commit index");
      }
    }
    for (const raft::SnapshotChunk& c : rd.snapshot_chunks) {
      // Only the leader of the node's current term may feed it a snapshot.
      // (It may have moved to a later term since it stepped the chunk, if
      // the drive came after another message: not before the last drive.)
      auto l = term_leader.find(c.leader_term);
      if (c.leader_term < n.drive_term || c.leader_term > r.term() || l == term_leader.end() ||
          nodes[l->second].id != c.from) {
        fail("snapshot", n.id + " (term " + std::to_string(r.term()) + ") accepts chunk " +
                             std::to_string(c.seq) + " from " + c.from + " of term " +
                             std::to_string(c.leader_term) + ", not from its current leader");
      }
    }
    if (rd.install_snapshot) check_install(n, *rd.install_snapshot);
  }

  // A snapshot installed must be of committed state, at its true term, and
  // move the state machine forward.
  void check_install(Node& n, const raft::Ready::Install& in) {
    ++stats.snapshots_installed;
    std::string what = n.id + " installs a snapshot at " + std::to_string(in.index) + "/t" +
                       std::to_string(in.term);
    if (in.index <= n.applied) {
      fail("snapshot", what + " but has applied " + std::to_string(n.applied));
    } else if (in.index > committed.size()) {
      fail("snapshot",
           what + " beyond anything committed (" + std::to_string(committed.size()) + ")");
    } else if (committed[in.index - 1].term != in.term) {
      fail("snapshot",
           what + " but t" + std::to_string(committed[in.index - 1].term) + " was committed there");
    } else if (in.index <= applied_table.size() && applied_table[in.index - 1].term != in.term) {
      fail("snapshot", what + " but t" + std::to_string(applied_table[in.index - 1].term) +
                           " was applied there");
    }
    n.applied = in.index;
  }

  // What LogStorage::save is asked to persist must make sense.
  void check_save(Node& n, const std::optional<raft::HardState>& hs,
                  const std::vector<Entry>& entries) {
    const raft::HardState& d = n.log_disk.hard_state();
    if (hs) {
      if (hs->term < d.term) fail("persistence", n.id + ": term on disk goes backwards");
      if (hs->term == d.term && !d.vote.empty() && hs->vote != d.vote) {
        fail("persistence", n.id + ": vote changed within term " + std::to_string(hs->term) +
                                " from " + d.vote + " to '" + hs->vote + "'");
      }
    }
    if (!entries.empty() && entries.front().index > n.log_disk.last_index() + 1) {
      fail("persistence", n.id + ": entries start at " + std::to_string(entries.front().index) +
                              " leaving a gap after disk last " +
                              std::to_string(n.log_disk.last_index()));
    }
    uint64_t last = entries.empty() ? n.log_disk.last_index() : entries.back().index;
    if (hs && hs->commit > last) {
      fail("persistence", n.id + ": commit " + std::to_string(hs->commit) +
                              " on disk beyond its last log index " + std::to_string(last));
    }
  }

  // The log prefix may go only once the KV store holds it durably.
  void check_compact(Node& n, uint64_t index, uint64_t term) {
    ++stats.compactions;
    uint64_t c = n.raft().commit_index();
    if (c > committed.size() && c <= n.raft().log().last_index()) record_commits(n, c);
    if (n.kv_disk.durable_applied_index() < index) {
      fail("compaction", n.id + " compacts its log to " + std::to_string(index) +
                             " but its KV store is durable only to " +
                             std::to_string(n.kv_disk.durable_applied_index()));
    }
    if (index > committed.size() || committed[index - 1].term != term) {
      fail("compaction", n.id + " compacts to " + std::to_string(index) + "/t" +
                             std::to_string(term) + ", which is not the committed entry there");
    }
  }

  // ---- state machine ----
  void check_apply(Node& n, const Entry& e) {
    if (e.index != n.applied + 1) {
      fail("state-machine-safety",
           n.id + " applies " + std::to_string(e.index) + " after " + std::to_string(n.applied));
      return;
    }
    if (e.index > applied_table.size()) {
      applied_table.resize(e.index, Applied{0, EntryType::kNormal, ""});
    }
    Applied& a = applied_table[e.index - 1];
    if (a.term == 0) {
      a = Applied{e.term, e.type, e.data};
    } else if (a.term != e.term || a.type != e.type || a.data != e.data) {
      fail("state-machine-safety", n.id + " applies " + std::to_string(e.index) + "/t" +
                                       std::to_string(e.term) + " '" + e.data +
                                       "' but another node applied t" + std::to_string(a.term) +
                                       " '" + a.data + "'");
    }
    if (e.index <= committed.size() && committed[e.index - 1].term != e.term) {
      fail("state-machine-safety",
           n.id + " applies " + std::to_string(e.index) + "/t" + std::to_string(e.term) + " but t" +
               std::to_string(committed[e.index - 1].term) + " was committed there");
    }
    n.applied = e.index;
  }

  // ---- clients ----
  void record(const SimClient& c, lin::EventType type, const nlohmann::json& value) {
    lin::Event e;
    e.process = c.process;
    e.type = type;
    e.f = c.op.f;
    e.key = c.op.key;
    e.value = value;
    e.time = now;
    history.push_back(std::move(e));
  }

  void client_start(SimClient& c) {
    if (now >= clients_stop_ns) return;
    c.busy = true;
    c.req = ++req_counter;
    ClientOp op;
    // Even-numbered clients mostly read, the others mostly write.
    uint64_t r = c.idx % 2 == 0 ? (chance(0.8) ? 0 : 4 + uniform(6)) : uniform(10);
    op.key = static_cast<int>(uniform(static_cast<uint64_t>(o.keys)));
    nlohmann::json value;
    if (r < 4) {
      op.f = lin::Fn::kRead;
    } else if (r < 7) {
      op.f = lin::Fn::kWrite;
      op.a = ++value_counter;
      value = op.a;
    } else {
      op.f = lin::Fn::kCas;
      auto s = c.seen.find(op.key);
      op.a = s != c.seen.end() && chance(0.8) ? s->second : range(1, value_counter + 1);
      op.b = ++value_counter;
      value = nlohmann::json::array({op.a, op.b});
    }
    c.op = op;
    // Mostly the node that answered last; followers forward to the leader.
    c.target = c.hint >= 0 && chance(0.7) ? c.hint : static_cast<int>(uniform(nodes.size()));
    record(c, lin::EventType::kInvoke, value);
    log("client p" + std::to_string(c.process) + " invokes " + fn_name(op.f) + " k" +
        std::to_string(op.key) + " " + value.dump() + " at " + nodes[c.target].id);
    Packet p;
    p.kind = Packet::Kind::kRequest;
    p.from = c.idx;
    p.to = c.target;
    p.req = c.req;
    p.op = op;
    transmit(std::move(p));
    // Clients give up after a random while (at most client_timeout_ns), so
    // after a partition some find the new leader quickly.
    schedule(now + range(o.client_timeout_ns / 5, o.client_timeout_ns), Ev::kClientTimeout, c.idx,
             c.req);
  }

  void client_done(SimClient& c) {
    c.busy = false;
    schedule(now + range(0, o.think_max_ns), Ev::kClientStart, c.idx);
  }

  void client_reply(SimClient& c, const Packet& p) {
    if (!c.busy || p.req != c.req) return;  // late reply to an op already given up on
    const Reply& r = p.reply;
    nlohmann::json value;
    lin::EventType type;
    if (r.ok) {
      type = lin::EventType::kOk;
      ++stats.ops_ok;
      switch (c.op.f) {
        case lin::Fn::kRead:
          ++stats.reads_ok;
          if (r.value) {
            value = *r.value;
            c.seen[c.op.key] = *r.value;
          }
          break;
        case lin::Fn::kWrite:
          ++stats.writes_ok;
          value = c.op.a;
          c.seen[c.op.key] = c.op.a;
          break;
        case lin::Fn::kCas:
          ++stats.cas_ok;
          value = nlohmann::json::array({c.op.a, c.op.b});
          c.seen[c.op.key] = c.op.b;
          break;
      }
      c.hint = c.target;
    } else if (r.indefinite) {
      type = lin::EventType::kInfo;
      ++stats.ops_info;
    } else {
      type = lin::EventType::kFail;
      ++stats.ops_fail;
      if (c.op.f == lin::Fn::kCas && r.value) c.seen[c.op.key] = *r.value;
      c.hint = -1;
      if (c.op.f == lin::Fn::kWrite) value = c.op.a;
      if (c.op.f == lin::Fn::kCas) value = nlohmann::json::array({c.op.a, c.op.b});
    }
    record(c, type, value);
    log("client p" + std::to_string(c.process) + " " + lin::to_string(type) + " " +
        fn_name(c.op.f) + " k" + std::to_string(c.op.key) + " " + value.dump() +
        (r.ok ? "" : std::string(" (") + r.why + ")"));
    if (type == lin::EventType::kInfo) c.process = next_process++;
    client_done(c);
  }

  void client_timeout(SimClient& c, uint64_t req) {
    if (!c.busy || c.req != req) return;
    // The op may have been proposed and may still commit: indefinite. Like a
    // Jepsen client, carry on as a new process.
    nlohmann::json value;
    if (c.op.f == lin::Fn::kWrite) value = c.op.a;
    if (c.op.f == lin::Fn::kCas) value = nlohmann::json::array({c.op.a, c.op.b});
    record(c, lin::EventType::kInfo, value);
    ++stats.ops_info;
    log("client p" + std::to_string(c.process) + " info (timeout) " + fn_name(c.op.f) + " k" +
        std::to_string(c.op.key));
    c.process = next_process++;
    c.hint = -1;
    client_done(c);
  }

  // ---- crashes ----
  // Power loss: the core and everything not durable in its stores is gone.
  void crash(Node& n, const std::string& how) {
    if (!n.up) return;
    n.up = false;
    ++n.inc;
    n.core.reset();
    n.requests.clear();
    n.drive_pending = false;
    n.crash_countdown = -1;
    n.log_disk.crash(rng);
    n.kv_disk.crash(rng);
    for (auto& row : appends_unanswered) row[n.idx] = 0;
    ++stats.crashes;
    if (crashes && faults) schedule_restart(n);
    const raft::HardState& hs = n.log_disk.hard_state();
    log("CRASH " + n.id + " " + how + " (disk: term " + std::to_string(hs.term) + " vote '" +
        hs.vote + "' commit " + std::to_string(hs.commit) + " log " +
        std::to_string(n.log_disk.first_index()) + ".." + std::to_string(n.log_disk.last_index()) +
        " kv applied " + std::to_string(n.kv_disk.applied_index()) + ")");
  }

  // Recovery is the core's own (what the binary does at start-up).
  void start_core(Node& n) {
    try {
      n.core = std::make_unique<server::Core>(core_options(n), n.id, member_ids(), *n.io, *n.io,
                                              *n.io, ms());
    } catch (const storage::StorageError& e) {
      fail("persistence", n.id + " cannot restart: " + e.what());
      n.up = false;
      return;
    }
    n.applied = n.raft().applied_index();
    n.last_commit = n.raft().commit_index();
    n.commit_checked = std::min(n.commit_checked, n.last_commit);
    n.last_role = Role::kFollower;
    n.last_term = n.raft().term();
    n.drive_term = n.raft().term();
  }

  void restart(Node& n) {
    if (n.up) return;
    n.up = true;
    start_core(n);
    if (!n.up) return;
    log("RESTART " + n.id + " term " + std::to_string(n.raft().term()) + " commit " +
        std::to_string(n.raft().commit_index()) + " applied " + std::to_string(n.applied));
    schedule(now + static_cast<int64_t>(unit() * tick_period(n)), Ev::kTick, n.idx, n.inc);
    drive(n);
  }

  // ---- nemesis ----
  void do_heal() {
    for (auto& row : blocked) std::fill(row.begin(), row.end(), 0);
    for (auto& row : cut) std::fill(row.begin(), row.end(), 0);
  }

  void do_split(const std::vector<int>& side) {
    std::vector<char> in(nodes.size(), 0);
    for (int i : side) in[i] = 1;
    for (size_t a = 0; a < nodes.size(); ++a) {
      for (size_t b = 0; b < nodes.size(); ++b) {
        if (in[a] != in[b]) blocked[a][b] = 1;
      }
    }
    // Each client ends up on one side, like a client near some servers:
    // that is how a stale leader's readers see stale data.
    for (auto& row : cut) {
      bool with_side = chance(0.5);
      for (size_t b = 0; b < nodes.size(); ++b) row[b] = (in[b] != 0) != with_side;
    }
    ++stats.partitions;
  }

  std::string side_str(const std::vector<int>& side) {
    std::string s;
    for (int i : side) s += (s.empty() ? "" : ",") + nodes[i].id;
    return "{" + s + "}";
  }

  int current_leader() const {
    int best = -1;
    for (const Node& n : nodes) {
      if (n.up && n.raft().role() == Role::kLeader &&
          (best < 0 || n.raft().term() > nodes[best].raft().term())) {
        best = n.idx;
      }
    }
    return best;
  }

  void schedule_restart(Node& n) {
    schedule(now + range(election_ns() / 10, 3 * election_ns()), Ev::kRestart, n.idx, n.inc);
  }

  // Two independent tracks. Track 0 alternates partitions, held for 1-6
  // election timeouts (long enough for the majority to elect a new leader
  // while the old one may still think it leads), with healed periods.
  // Track 1 crashes and restarts nodes and changes clock rates.
  void nemesis(int track) {
    if (!faults) return;
    if (track >= kMembershipTrack) return membership_nemesis(track);
    int n = static_cast<int>(nodes.size());
    std::vector<std::pair<int, int>> menu;  // (action, weight)
    if (track == 0 && partitioned) {
      menu.push_back({0, 1});
    } else if (track == 0) {
      menu.insert(menu.end(), {{1, 3}, {2, 3}, {3, 2}, {4, 1}});
    } else {
      if (crashes) {
        menu.insert(menu.end(), {{10, 3}, {11, 2}, {12, 2}, {13, 2}});
        if (chance(0.1)) menu.push_back({14, 1});
      }
      if (reskew) menu.push_back({20, 1});
    }
    int total = 0;
    for (auto& [a, w] : menu) total += w;
    int pick = static_cast<int>(uniform(static_cast<uint64_t>(total)));
    int action = 0;
    for (auto& [a, w] : menu) {
      if (pick < w) {
        action = a;
        break;
      }
      pick -= w;
    }
    switch (action) {
      case 0:
        do_heal();
        log("NEMESIS heal");
        break;
      case 1: {  // a random minority against the majority
        std::vector<int> all(n);
        for (int i = 0; i < n; ++i) all[i] = i;
        std::shuffle(all.begin(), all.end(), rng);
        all.resize(1 + uniform(static_cast<uint64_t>(n / 2)));
        do_heal();
        do_split(all);
        log("NEMESIS split " + side_str(all) + " from the rest");
        break;
      }
      case 2: {  // isolate the leader
        int l = current_leader();
        if (l < 0) l = static_cast<int>(uniform(n));
        do_heal();
        do_split({l});
        log("NEMESIS isolate " + nodes[l].id);
        break;
      }
      case 3: {  // one-way links
        int k = 1 + static_cast<int>(uniform(static_cast<uint64_t>(n)));
        std::string what;
        for (int i = 0; i < k; ++i) {
          int a = static_cast<int>(uniform(n)), b = static_cast<int>(uniform(n));
          if (a == b) continue;
          blocked[a][b] = 1;
          what += " " + nodes[a].id + "-/->" + nodes[b].id;
        }
        ++stats.partitions;
        log("NEMESIS one-way" + what);
        break;
      }
      case 4: {  // the leader can send but not receive (or the reverse)
        int l = current_leader();
        if (l < 0) l = static_cast<int>(uniform(n));
        bool deaf = chance(0.5);
        do_heal();
        for (int i = 0; i < n; ++i) {
          if (i != l) (deaf ? blocked[i][l] : blocked[l][i]) = 1;
        }
        ++stats.partitions;
        log(std::string("NEMESIS ") + nodes[l].id + (deaf ? " deaf" : " mute"));
        break;
      }
      case 10:
      case 11:
      case 12: {  // crash a random node / the leader / mid-Ready
        int l = action == 11 ? current_leader() : -1;
        if (l < 0) l = static_cast<int>(uniform(n));
        Node& nd = nodes[l];
        if (!nd.up) break;
        if (action == 12) {
          // Somewhere in its next few writes, sends or snapshot steps.
          nd.crash_countdown = 1 + static_cast<int>(uniform(12));
          log("NEMESIS arm a crash at " + nd.id + "'s I/O point " +
              std::to_string(nd.crash_countdown) + " from now");
        } else {
          crash(nd, "(nemesis)");
        }
        break;
      }
      case 13: {  // restart a crashed node now
        for (Node& nd : nodes) {
          if (!nd.up) {
            restart(nd);
            break;
          }
        }
        break;
      }
      case 14: {  // the whole cluster crashes and comes back
        log("NEMESIS crash all");
        for (Node& nd : nodes) {
          crash(nd, "(crash all)");
        }
        break;
      }
      case 20: {
        Node& nd = nodes[uniform(n)];
        nd.rate = 1.0 + skew * (2 * unit() - 1);
        log("NEMESIS clock of " + nd.id + " now runs at " + std::to_string(nd.rate));
        break;
      }
    }
    if (track == 0) {
      partitioned = action != 0;
      int64_t hold = partitioned ? range(election_ns(), 6 * election_ns())
                                 : range(election_ns() / 2, 3 * election_ns());
      schedule(now + hold, Ev::kNemesis, 0);
    } else {
      schedule(now + range(election_ns() / 2, 3 * election_ns()), Ev::kNemesis, 1);
    }
  }

  void quiet() {
    faults = false;
    do_heal();
    loss = 0;
    long_p = 0;
    for (Node& n : nodes) {
      n.crash_countdown = -1;
      if (!n.up) restart(n);
    }
    log("QUIET: healed, all nodes up, no loss or long delays");
  }

  // ---- membership changes ----
  // A third nemesis track: every so often, ask the leader (sometimes another
  // node, which must refuse) for one change, sometimes for a burst of them
  // (the leader must refuse all but one), and sometimes for the next change
  // right after one commits (admin_reply).
  void membership_nemesis(int track) {
    if (track == kMembershipTrack) {
      schedule(now + range(election_ns() / 4, 2 * election_ns()), Ev::kNemesis, kMembershipTrack);
    }
    membership_change();
    if (track == kMembershipTrack && chance(0.25)) {
      for (uint64_t k = 1 + uniform(2); k > 0; --k) membership_change();
    }
  }

  void membership_change() {
    int l = current_leader();
    if (l < 0) return;
    const raft::Membership config = nodes[l].raft().membership();
    std::vector<int> voters, learners, outsiders;
    for (const Node& x : nodes) {
      if (config.is_voter(x.id)) {
        voters.push_back(x.idx);
      } else if (config.is_learner(x.id)) {
        learners.push_back(x.idx);
      } else {
        outsiders.push_back(x.idx);
      }
    }
    // Weights that let the cluster wander over every size from 1 to the pool.
    const int weights[] = {
        outsiders.empty() ? 0 : (voters.size() <= 2 ? 4 : 2),                     // add
        learners.empty() ? 0 : 3,                                                 // promote
        voters.size() + learners.size() <= 1 ? 0 : (voters.size() >= 5 ? 4 : 2),  // remove
        voters.size() >= 2 ? 1 : 0,                                               // transfer
    };
    int pick = static_cast<int>(
        uniform(static_cast<uint64_t>(std::accumulate(std::begin(weights), std::end(weights), 0))));
    int action = 0;
    while (pick >= weights[action]) pick -= weights[action++];
    auto any = [&](const std::vector<int>& v) { return v[uniform(v.size())]; };
    server::AdminRequest req;
    using Op = server::AdminRequest::Op;
    switch (action) {
      case 0: {
        Node& x = nodes[any(outsiders)];
        if (has_history(x) && chance(0.6)) {
          if (wipe_is_safe(x)) {
            wipe(x);
          } else {
            log("NEMESIS would wipe " + x.id + ", but a configuration in use still has it vote");
          }
        }
        req.op = chance(0.15) ? Op::kAddVoter : Op::kAddLearner;
        req.node = x.id;
        break;
      }
      case 1:
        req.op = Op::kPromote;
        req.node = nodes[any(learners)].id;
        break;
      case 2: {
        std::vector<int> removable = learners;
        if (voters.size() >= 2) removable.insert(removable.end(), voters.begin(), voters.end());
        req.op = Op::kRemove;
        req.node = nodes[voters.size() >= 2 && chance(0.25) ? l : any(removable)].id;
        break;
      }
      default: {
        std::vector<int> others;
        for (int v : voters) {
          if (v != l) others.push_back(v);
        }
        req.op = Op::kTransferLeader;
        req.node = nodes[any(others)].id;
        break;
      }
    }
    int at = chance(0.1) ? static_cast<int>(uniform(nodes.size())) : l;
    admin_at(nodes[at], req);
  }

  static const char* op_name(server::AdminRequest::Op op) {
    switch (op) {
      case server::AdminRequest::Op::kAddLearner:
        return "add-learner";
      case server::AdminRequest::Op::kAddVoter:
        return "add-voter";
      case server::AdminRequest::Op::kPromote:
        return "promote";
      case server::AdminRequest::Op::kRemove:
        return "remove";
      case server::AdminRequest::Op::kTransferLeader:
        return "transfer-leader";
    }
    return "?";
  }

  bool admin_at(Node& n, const server::AdminRequest& req) {
    if (!n.up) return false;
    server::RequestId rid = ++n.next_request;
    n.requests[rid] = {kAdminClient, 0};
    ++stats.admin_requests;
    log("ADMIN " + std::string(op_name(req.op)) + " " + req.node + " asked of " + n.id);
    call(n, [&] { n.core->admin_request(rid, req, ms()); });
    request_drive(n);
    return true;
  }

  void admin_reply(Node& n, const server::ClientReply& r) {
    log("ADMIN reply from " + n.id + ": " +
        (r.code == server::ReplyCode::kOk ? std::string("ok") : "refused: " + r.text));
    if (r.code != server::ReplyCode::kOk) return;
    ++stats.admin_ok;
    if (faults && o.nemesis_enabled && chance(0.3)) {
      schedule(now + range(0, 2 * kMs), Ev::kNemesis, kMembershipFollowUp);
    }
  }

  // Whether the node's stores hold anything (then re-adding it "fresh"
  // means wiping them first).
  static bool has_history(const Node& n) {
    return !n.join || n.log_disk.hard_state().term > 0 || n.log_disk.last_index() > 0;
  }

  // A wiped server forgets its votes, so it may only be wiped once no node
  // could count its vote: it is a voter in no configuration any node uses
  // or could fall back to, and in none travelling in a message. (Raft
  // assumes votes survive; an operator re-adding a server with an empty
  // disk must ensure the same, or use a new identity.)
  bool wipe_is_safe(const Node& x) {
    for (Node& m : nodes) {
      if (m.idx == x.idx) continue;
      for (const raft::Membership& c : possible_configs(m)) {
        if (c.is_voter(x.id)) return false;
      }
    }
    for (const auto& [id, p] : packets) {
      const auto* m = std::get_if<Message>(&p.peer);
      if (p.kind != Packet::Kind::kPeer || !m) continue;
      if (m->type == MsgType::kSnapshotChunk && !m->config.empty()) {
        auto c = raft::Membership::decode(m->config);
        if (c && c->is_voter(x.id)) return false;
      }
      for (const Entry& e : m->entries) {
        if (e.type != EntryType::kConfig) continue;
        auto c = raft::Membership::decode(e.data);
        if (c && c->is_voter(x.id)) return false;
      }
    }
    return true;
  }

  // Every configuration node m uses or could fall back to without new
  // messages: the one in effect, the one at its commit index and each
  // configuration entry after it (an uncommitted suffix may be cut off).
  // For a node that is down, what its stores would give it on restart.
  std::vector<raft::Membership> possible_configs(Node& m) {
    std::vector<raft::Membership> out;
    auto add_entry = [&](const Entry& e) {
      if (e.type != EntryType::kConfig) return;
      if (auto c = raft::Membership::decode(e.data)) out.push_back(std::move(*c));
    };
    if (m.up) {
      const raft::Raft& r = m.raft();
      uint64_t from = std::max(r.commit_index(), r.log().base_index());
      out.push_back(r.membership());
      out.push_back(r.membership_at(from));
      for (uint64_t i = from + 1; i <= r.log().last_index(); ++i) add_entry(r.log().at(i));
      return out;
    }
    if (!m.join) out.push_back(raft::Membership::of_voters(founders()));
    if (auto blob = m.kv_disk.membership()) {
      if (auto c = raft::Membership::decode(*blob)) out.push_back(std::move(*c));
    }
    raft::Restored disk = m.log_disk.load();  // conservative: every entry on disk
    for (const Entry& e : disk.entries) add_entry(e);
    return out;
  }

  std::vector<raft::NodeId> founders() const {
    std::vector<raft::NodeId> ids;
    for (int i = 0; i < std::min(o.nodes, static_cast<int>(nodes.size())); ++i) {
      ids.push_back(nodes[i].id);
    }
    return ids;
  }

  // A fresh server in place of x: its stores are gone (and with them its
  // votes and its record of having founded the cluster); it restarts as a
  // joining server, waiting to be added.
  void wipe(Node& x) {
    crash(x, "(to be wiped)");
    x.log_disk = storage::MemoryLogStore{};
    x.kv_disk = storage::MemoryKvStore{};
    x.join = true;
    ++x.life;
    x.applied = x.last_commit = x.commit_checked = 0;
    ++stats.wipes;
    log("WIPE " + x.id + ": its stores are gone; it restarts as a new, joining server");
    restart(x);
  }

  // ---- membership checks ----
  // The configurations that can still form a quorum: the committed one (in
  // effect at the highest commit index seen), and the ones used by live
  // nodes whose logs hold every committed entry (membership(), and the
  // newest in the log should that differ). A node lacking a committed entry
  // can never be elected again (leader completeness), so whatever it uses
  // is harmless; counting it would flag correct runs (a lagging node still
  // on a configuration two changes old). With one change at a time, all of
  // these are the committed configuration or one change from it, so every
  // two of them have intersecting majorities; see README.md.
  struct ConfigInUse {
    enum class Where { kCommitted, kInEffect, kNewestInLog } where;
    int node;  // kInEffect, kNewestInLog
    const raft::Membership* config;
  };

  void check_config_quorums() {
    uint64_t k = committed.size();
    std::vector<ConfigInUse> in_use;
    for (const Node& n : nodes) {
      if (!n.up || !holds_committed_prefix(n, k)) continue;
      const raft::Raft& r = n.raft();
      if (in_use.empty()) {
        const raft::Membership& c = r.membership_at(k);
        in_use.push_back({ConfigInUse::Where::kCommitted, n.idx, &c});
        int v = static_cast<int>(c.voter_count());
        stats.min_voters = stats.min_voters == 0 ? v : std::min(stats.min_voters, v);
        stats.max_voters = std::max(stats.max_voters, v);
      }
      in_use.push_back({ConfigInUse::Where::kInEffect, n.idx, &r.membership()});
      const raft::Membership& newest = r.membership_at(r.log().last_index());
      if (&newest != &r.membership()) {
        in_use.push_back({ConfigInUse::Where::kNewestInLog, n.idx, &newest});
      }
    }
    for (size_t a = 0; a < in_use.size(); ++a) {
      for (size_t b = a + 1; b < in_use.size(); ++b) {
        if (*in_use[a].config == *in_use[b].config) continue;
        std::string why;
        if (!disjoint_majorities_possible(*in_use[a].config, *in_use[b].config, &why)) continue;
        fail("config-quorum-overlap", describe(in_use[a], k) + " and " + describe(in_use[b], k) +
                                          " have disjoint majorities " + why);
        return;
      }
    }
  }

  std::string describe(const ConfigInUse& c, uint64_t k) const {
    std::string what;
    switch (c.where) {
      case ConfigInUse::Where::kCommitted:
        what = "the committed configuration (at " + std::to_string(k) + ")";
        break;
      case ConfigInUse::Where::kInEffect:
        what = nodes[c.node].id + "'s configuration in effect";
        break;
      case ConfigInUse::Where::kNewestInLog:
        what = "the newest configuration in " + nodes[c.node].id + "'s log";
        break;
    }
    return what + " " + raft::to_string(*c.config);
  }

  bool holds_committed_prefix(const Node& n, uint64_t k) const {
    const raft::RaftLog& lg = n.raft().log();
    if (k == 0 || k <= lg.base_index()) return true;
    return k <= lg.last_index() && lg.term_at(k) == committed[k - 1].term;
  }

  // May n stand for election: a voter in the configuration in effect, or in
  // the one at its commit index (see check_roles).
  static bool may_stand(const Node& n) {
    const raft::Raft& r = n.raft();
    return r.membership().is_voter(n.id) ||
           r.membership_at(std::max(r.commit_index(), r.log().base_index())).is_voter(n.id);
  }

  // Only voters campaign, and a leader whose own removal has committed
  // (in its log) no longer leads. "Voter" is in the configuration in effect
  // or in the one at the node's commit index: the thesis (4.2.2) lets a
  // server whose removal is not committed yet campaign, since the committed
  // configuration may still need it.
  void check_roles(const Node& n) {
    const raft::Raft& r = n.raft();
    if (r.membership().is_voter(n.id)) return;
    bool campaigning = r.role() == Role::kPreCandidate || r.role() == Role::kCandidate;
    if (campaigning && !may_stand(n)) {
      fail("non-voter-campaigns", n.id + " is " + raft::to_string(r.role()) + " in term " +
                                      std::to_string(r.term()) + " but not a voter in " +
                                      raft::to_string(r.membership()));
    } else if (r.role() == Role::kLeader && r.membership_index() <= r.commit_index() &&
               r.transferee().empty()) {
      // Handing over (a transfer to a voter, proposals stopped) is how it
      // leaves; Raft ends the transfer, and its leadership, within an
      // election timeout.
      fail("removed-leader-steps-down",
           n.id + " still leads term " + std::to_string(r.term()) + " though its removal (" +
               raft::to_string(r.membership()) + " at " + std::to_string(r.membership_index()) +
               ") is committed (commit " + std::to_string(r.commit_index()) + ")");
    }
  }

  // ---- invariants ----
  void check_invariants() {
    for (Node& n : nodes) {
      if (!n.up) continue;
      const raft::Raft& r = n.raft();
      if (r.role() != n.last_role || r.term() != n.last_term) {
        log(n.id + " is " + raft::to_string(r.role()) + " in term " + std::to_string(r.term()) +
            " (last " + std::to_string(r.log().last_index()) + " commit " +
            std::to_string(r.commit_index()) + ")");
        n.last_role = r.role();
        n.last_term = r.term();
        stats.max_term = std::max(stats.max_term, r.term());
      }
      if (r.role() == Role::kLeader) {
        auto [it, fresh] = term_leader.emplace(r.term(), n.idx);
        if (!fresh && it->second != n.idx) {
          fail("election-safety", n.id + " and " + nodes[it->second].id +
                                      " are both leaders of term " + std::to_string(r.term()));
        }
        if (fresh) {
          ++stats.elections;
          check_new_leader(n);
          if (o.membership && o.check_membership && !may_stand(n)) {
            fail("non-voter-campaigns", n.id + " became leader of term " +
                                            std::to_string(r.term()) + " but is not a voter in " +
                                            raft::to_string(r.membership()));
          }
        }
      }
      if (o.membership && o.check_membership) check_roles(n);
      uint64_t c = r.commit_index();
      if (c < n.last_commit) {
        fail("commit-monotonic", n.id + "'s commit went from " + std::to_string(n.last_commit) +
                                     " to " + std::to_string(c));
      }
      n.last_commit = c;
      if (r.applied_index() > c || n.applied > c) {
        fail("applied<=commit", n.id + " applied " + std::to_string(r.applied_index()) +
                                    " > commit " + std::to_string(c));
      }
      // (A snapshot's last chunk moves Raft's applied point when stepped;
      // the state machine follows at the next drive.)
      if (n.applied != r.applied_index() && !n.drive_pending) {
        fail("applied", n.id + ": state machine applied " + std::to_string(n.applied) +
                            " but Raft says " + std::to_string(r.applied_index()));
      }
      if (c > r.log().last_index()) {
        fail("commit<=last", n.id + "'s commit " + std::to_string(c) + " beyond its last index " +
                                 std::to_string(r.log().last_index()));
        continue;
      }
      if (c > committed.size()) record_commits(n, c);
      for (uint64_t i = n.commit_checked + 1; i <= c; ++i) {
        if (i > r.log().base_index() && r.log().term_at(i) != committed[i - 1].term) {
          fail("state-machine-safety",
               n.id + " has commit " + std::to_string(c) + " with entry " + std::to_string(i) +
                   "/t" + std::to_string(r.log().term_at(i).value_or(0)) + " but t" +
                   std::to_string(committed[i - 1].term) + " was committed there");
        }
      }
      n.commit_checked = std::max(n.commit_checked, c);
      stats.max_commit = std::max(stats.max_commit, c);
    }
    if (o.membership && o.check_membership && invariant.empty()) check_config_quorums();
    if (o.paranoid || stats.events % 4096 == 0) full_log_scan();
  }

  void record_commits(const Node& n, uint64_t c) {
    uint64_t from = committed.size() + 1;
    for (uint64_t i = from; i <= c; ++i) {
      committed.push_back(Committed{*n.raft().log().term_at(i), n.raft().term()});
    }
    // Leader completeness, for leaders that exist right now.
    for (const Node& l : nodes) {
      if (!l.up || l.raft().role() != Role::kLeader) continue;
      for (uint64_t i = from; i <= c; ++i) {
        if (l.raft().term() >= committed[i - 1].commit_term) check_leader_has(l, i);
      }
    }
  }

  void check_leader_has(const Node& l, uint64_t i) {
    auto t = l.raft().log().term_at(i);
    if (i <= l.raft().log().base_index()) return;
    if (t != committed[i - 1].term) {
      fail("leader-completeness",
           l.id + " is leader of term " + std::to_string(l.raft().term()) + " but lacks entry " +
               std::to_string(i) + "/t" + std::to_string(committed[i - 1].term) +
               " committed in term " + std::to_string(committed[i - 1].commit_term) + " (it has " +
               (t ? "t" + std::to_string(*t) : std::string("nothing")) + ")");
    }
  }

  void check_new_leader(const Node& l) {
    log(l.id + " became LEADER of term " + std::to_string(l.raft().term()));
    for (uint64_t i = 1; i <= committed.size(); ++i) {
      if (committed[i - 1].commit_term < l.raft().term()) check_leader_has(l, i);
    }
  }

  void full_log_scan() {
    for (const Node& n : nodes) {
      if (!n.up) continue;
      const raft::RaftLog& lg = n.raft().log();
      for (uint64_t i = lg.first_index(); i <= lg.last_index(); ++i) {
        check_entry(n, lg.at(i), *lg.term_at(i - 1), "(memory)");
      }
    }
  }

  // ---- main loop ----
  bool step() {
    if (queue.empty() || !invariant.empty()) return false;
    Event ev = queue.top();
    queue.pop();
    now = ev.time;
    ++stats.events;
    if (stats.events > o.max_events || queue.size() > o.max_pending_events) {
      fail("runaway-work", std::to_string(stats.events) + " events handled, " +
                               std::to_string(queue.size()) + " pending at tick " +
                               std::to_string(now / o.tick_ns) +
                               ": more work than any healthy run does (a message storm?)");
      return false;
    }
    switch (ev.kind) {
      case Ev::kDeliver:
        deliver(ev.arg);
        break;
      case Ev::kTick: {
        Node& n = nodes[ev.target];
        if (!n.up || n.inc != ev.arg) break;
        call(n, [&] { n.core->tick(ms()); });
        request_drive(n);
        if (!n.up || n.inc != ev.arg) break;  // crashed inside that drive: restart() ticks anew
        double j = 1.0 + jitter * (2 * unit() - 1);
        schedule(now + std::max<int64_t>(1, static_cast<int64_t>(tick_period(n) * j)), Ev::kTick,
                 n.idx, n.inc);
        break;
      }
      case Ev::kDrive: {
        Node& n = nodes[ev.target];
        if (n.up && n.inc == ev.arg && n.drive_pending) drive(n);
        break;
      }
      case Ev::kClientStart:
        client_start(clients[ev.target]);
        break;
      case Ev::kClientTimeout:
        client_timeout(clients[ev.target], ev.arg);
        break;
      case Ev::kNemesis:
        nemesis(ev.target);
        break;
      case Ev::kRestart: {
        Node& n = nodes[ev.target];
        if (faults && !n.up && n.inc == ev.arg) restart(n);
        break;
      }
      case Ev::kQuiet:
        quiet();
        break;
    }
    check_invariants();
    return invariant.empty();
  }

  void run_until(int64_t t) {
    while (!queue.empty() && queue.top().time <= t && step()) {
    }
    if (invariant.empty()) now = std::max(now, t);
  }

  // ---- final checks ----
  // After the quiet phase: one leader that has committed in its term, and
  // every node caught up with it. (Without PreVote, liveness is only likely:
  // a stale node's candidacies reset the others' election timers although it
  // cannot win; with PreVote it cannot even become a candidate.)
  bool check_liveness() {
    std::string problem = liveness_problem();
    if (!problem.empty()) fail("liveness", problem);
    return problem.empty();
  }

  // Why the cluster is not live and caught up, or empty.
  std::string liveness_problem() const {
    int l = current_leader();
    if (l < 0) return "no leader at the end of the quiet phase" + node_states();
    const raft::Raft& lr = nodes[l].raft();
    if (lr.log().term_at(lr.commit_index()) != lr.term()) {
      return nodes[l].id + " leads term " + std::to_string(lr.term()) +
             " but has not committed an entry of it";
    }
    for (const Node& n : nodes) {
      // Servers outside the leader's configuration (removed, or never
      // added) owe nothing.
      if (o.membership && !lr.membership().contains(n.id)) continue;
      if (!n.up) return n.id + " is down at the end";
      if (n.raft().term() != lr.term() || n.applied != lr.commit_index() ||
          n.kv_disk.contents() != nodes[l].kv_disk.contents()) {
        return n.id + " has not caught up with leader " + nodes[l].id + ": term " +
               std::to_string(n.raft().term()) + " vs " + std::to_string(lr.term()) + ", applied " +
               std::to_string(n.applied) + " vs commit " + std::to_string(lr.commit_index());
      }
    }
    return "";
  }

  // With membership changes a server re-added late may have thousands of
  // entries to replay (on seeds with one entry per append and no
  // compaction, slower than clients add them until they stop): give the
  // cluster up to 20 more election timeouts, fault-free, to get there.
  void settle_for_liveness() {
    for (int k = 0; k < 20 && invariant.empty() && !liveness_problem().empty(); ++k) {
      run_until(now + election_ns());
    }
  }

  // Each live node's role, term, log and configuration, for a liveness
  // failure's detail.
  std::string node_states() const {
    std::string s;
    for (const Node& n : nodes) {
      if (!n.up) continue;
      const raft::Raft& r = n.raft();
      if (o.membership && r.membership().empty()) continue;
      s += "\n    " + n.id + ": " + raft::to_string(r.role()) + " t" + std::to_string(r.term()) +
           " last " + std::to_string(r.log().last_index()) + " commit " +
           std::to_string(r.commit_index()) + ", " + raft::to_string(r.membership()) + " at " +
           std::to_string(r.membership_index());
    }
    return s;
  }

  bool check_linearizability() {
    lin::CheckOptions co;
    co.budget = std::chrono::seconds(20);
    lin::CheckReport rep = lin::check(history, co);
    stats.lin_verdict = lin::to_string(rep.verdict);
    stats.lin_seconds = rep.seconds;
    if (rep.verdict == lin::Verdict::kInvalid) {
      std::string what;
      for (const lin::KeyReport& k : rep.keys) {
        if (k.verdict == lin::Verdict::kInvalid) {
          what = "key " + k.key.dump() + ": " + k.explanation;
          break;
        }
      }
      fail("linearizability", what);
      return false;
    }
    return true;
  }
};

// ---- facade -----------------------------------------------------------------

Simulation::Simulation(Options o) : impl_(std::make_unique<Impl>(std::move(o))) {
  impl_->setup();
}
Simulation::~Simulation() = default;

void Simulation::run_until(int64_t t_ns) {
  impl_->run_until(t_ns);
}

bool Simulation::run_until(const std::function<bool()>& pred, int64_t deadline_ns) {
  if (pred()) return true;
  while (!impl_->queue.empty() && impl_->queue.top().time <= deadline_ns) {
    if (!impl_->step()) return false;
    if (pred()) return true;
  }
  return false;
}

Result Simulation::run_all() {
  Impl& m = *impl_;
  m.run_until(m.end_ns);
  // Liveness needs a quiet phase long enough for messages held back by long
  // delays to land and for an election or two.
  if (m.invariant.empty() && m.o.check_liveness && m.o.nemesis_enabled &&
      m.end_ns - m.quiet_ns >= 8 * m.election_ns()) {
    // A removed server that never learnt of its removal keeps campaigning;
    // only PreVote or the leader lease (CheckQuorum) stop it from deposing
    // leader after leader (thesis 4.2.3), so without both, membership runs
    // are checked for safety only.
    bool disruptable = m.o.membership && !m.o.pre_vote && !m.o.check_quorum;
    if (m.o.membership && !disruptable) m.settle_for_liveness();
    if (m.invariant.empty() && !disruptable) m.check_liveness();
  }
  if (m.invariant.empty() && m.o.check_linearizability && !m.history.empty()) {
    m.check_linearizability();
  }
  Result r;
  r.ok = m.invariant.empty();
  r.invariant = m.invariant;
  r.detail = m.detail;
  r.trace_tail = trace_tail();
  r.replay = replay_command(m.given);
  r.stats = m.stats;
  return r;
}

int64_t Simulation::now() const {
  return impl_->now;
}
int64_t Simulation::ticks_to_ns(double ticks) const {
  return static_cast<int64_t>(ticks * static_cast<double>(impl_->o.tick_ns));
}
const Options& Simulation::options() const {
  return impl_->o;
}
int Simulation::size() const {
  return static_cast<int>(impl_->nodes.size());
}
bool Simulation::up(int i) const {
  return impl_->nodes[i].up;
}
const raft::Raft& Simulation::raft(int i) const {
  return impl_->nodes[i].raft();
}
int Simulation::leader() const {
  return impl_->current_leader();
}
int Simulation::run_until_settled_leader(double within_ticks) {
  auto settled = [&] {
    int l = leader();
    return l >= 0 && raft(l).log().term_at(raft(l).commit_index()) == raft(l).term();
  };
  return run_until(settled, now() + ticks_to_ns(within_ticks)) ? leader() : -1;
}
bool Simulation::ok() const {
  return impl_->invariant.empty();
}
const std::string& Simulation::invariant() const {
  return impl_->invariant;
}
const std::string& Simulation::detail() const {
  return impl_->detail;
}
const Stats& Simulation::stats() const {
  return impl_->stats;
}
std::vector<std::string> Simulation::trace_tail() const {
  return {impl_->trace.begin(), impl_->trace.end()};
}

void Simulation::isolate(int i) {
  impl_->do_split({i});
  impl_->log("isolate " + impl_->nodes[i].id);
}
void Simulation::block(int from, int to) {
  impl_->blocked[from][to] = 1;
  impl_->log("block " + impl_->nodes[from].id + "-/->" + impl_->nodes[to].id);
}
void Simulation::split(const std::vector<int>& side) {
  impl_->do_split(side);
  impl_->log("split " + impl_->side_str(side));
}
void Simulation::heal() {
  impl_->do_heal();
  impl_->log("heal");
}
void Simulation::crash(int i) {
  impl_->crash(impl_->nodes[i], "(by hand)");
}
void Simulation::restart(int i) {
  impl_->restart(impl_->nodes[i]);
}

bool Simulation::admin_at(int i, const server::AdminRequest& request) {
  return impl_->admin_at(impl_->nodes[i], request);
}
void Simulation::wipe(int i) {
  impl_->wipe(impl_->nodes[i]);
}

bool Simulation::write_at(int i, int key, int64_t value) {
  if (!up(i) || raft(i).role() != Role::kLeader) return false;
  return write_via(i, key, value).has_value();
}

std::optional<server::RequestId> Simulation::write_via(int i, int key, int64_t value) {
  auto& n = impl_->nodes[i];
  if (!n.up) return std::nullopt;
  server::RequestId rid = ++n.next_request;
  n.requests[rid] = {-1, 0};
  ClientOp op;
  op.f = lin::Fn::kWrite;
  op.key = key;
  op.a = value;
  impl_->call(n, [&] { n.core->client_request(rid, Impl::to_request(op), impl_->ms()); });
  impl_->request_drive(n);
  return rid;
}

std::optional<server::ClientReply> Simulation::reply_to(int i, server::RequestId id) const {
  auto it = impl_->hand_replies.find({i, id});
  if (it == impl_->hand_replies.end()) return std::nullopt;
  return it->second;
}

bool Simulation::check_linearizability() {
  return impl_->invariant.empty() && impl_->check_linearizability();
}
bool Simulation::check_liveness() {
  return impl_->invariant.empty() && impl_->check_liveness();
}

Result run(const Options& o) {
  Simulation s(o);
  return s.run_all();
}

std::optional<double> measure_failover(const Options& opt, FailoverMode mode) {
  Options o = opt;
  o.clients_enabled = false;
  o.nemesis_enabled = false;
  o.check_linearizability = false;
  Simulation s(o);
  int64_t e = s.ticks_to_ns(o.election_tick);
  auto settled = [&] {
    int l = s.leader();
    return l >= 0 && s.raft(l).log().term_at(s.raft(l).commit_index()) == s.raft(l).term();
  };
  if (!s.run_until(settled, 100 * e)) return std::nullopt;
  // Let heartbeats flow for a random while so the failure lands at a random
  // phase of the followers' election timers.
  std::mt19937_64 rng(o.seed * 0x9e3779b97f4a7c15ULL + 1);
  s.run_until(s.now() + 2 * e + static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * e)));
  int old = s.leader();
  if (old < 0) return std::nullopt;
  uint64_t old_term = s.raft(old).term();
  int64_t t0 = s.now();
  if (mode == FailoverMode::kCrash) {
    s.crash(old);
  } else {
    s.isolate(old);
  }
  auto replaced = [&] {
    for (int i = 0; i < s.size(); ++i) {
      if (i == old || !s.up(i)) continue;
      const raft::Raft& r = s.raft(i);
      if (r.role() == Role::kLeader && r.term() > old_term &&
          r.log().term_at(r.commit_index()) == r.term()) {
        return true;
      }
    }
    return false;
  };
  if (!s.run_until(replaced, t0 + 100 * e) || !s.ok()) return std::nullopt;
  return static_cast<double>(s.now() - t0) / static_cast<double>(o.tick_ns);
}

}  // namespace raftkv::sim
