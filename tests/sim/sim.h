// Deterministic simulation of a raftkv cluster: N copies of the production
// server core (src/server/core.h) in one process, each over in-memory stores
// that keep the RocksDB stores' crash contract, on a simulated network, with
// simulated clients whose histories are checked for linearizability. The
// core's own forwarding, compaction, snapshot transfer and recovery run as
// in the binary; only the transport and the disks are simulated.
//
// Everything is a function of Options (the seed included): one std::mt19937_64
// feeds every random choice, simulated time is an integer count of
// nanoseconds, and events are ordered by (time, sequence number). No wall
// clock is read, so `raft-sim --seed S ...` replays a run exactly.
//
// Faults: per-message delay (reordering), loss, duplication; partitions
// (majority/minority splits, one-way links, an isolated leader); crashes that
// keep only what was synced plus a random prefix of the rest (including
// crashes at any write, send or snapshot step inside the core) followed by
// restarts; per-node clock skew.
//
// Membership (Options::membership): a pool of kPoolSize servers of which
// Options::nodes found the cluster; the others start as joining servers. A
// third nemesis track asks the leader to add learners, promote them, remove
// members (the leader too), re-add removed servers (as they were, or wiped
// and restarted as fresh joining servers) and transfer leadership.
//
// Checked after every event (see Simulation::check_invariants): election
// safety, log matching, leader completeness, state machine safety, commit
// monotonicity, applied <= commit, and the persistence contract (no message
// leaves a node before what it depends on is on its disk); with membership
// changes also that no two configurations that can still form a quorum have
// disjoint majorities, that a removed leader steps down once its removal
// commits, and that only voters campaign (see README.md). At the end the
// client history is checked with lin::check.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "linearizability/history.h"
#include "raft/raft.h"
#include "server/types.h"

namespace raftkv::sim {

enum class Scenario {
  kBasic,       // delays and reordering only
  kLossy,       // + loss, duplication, long delays
  kPartitions,  // + splits, one-way links, isolated leaders
  kCrashes,     // + crashes (also mid-Ready) and restarts, whole-cluster restarts
  kSkew,        // + strongly skewed, jittery clocks
  kChaos,       // all of the above
};
const char* to_string(Scenario s);
std::optional<Scenario> parse_scenario(std::string_view name);
std::vector<Scenario> all_scenarios();

// Servers in a membership run: cluster sizes vary within 1..kPoolSize.
constexpr int kPoolSize = 7;

// The deliberately broken Raft behaviours raft-sim --bug can switch on.
std::optional<raft::Config::Bugs> parse_bug(std::string_view name);
std::vector<std::string> bug_names();
std::string to_string(const raft::Config::Bugs& bugs);  // "" when none

struct Options {
  uint64_t seed = 1;
  int nodes = 3;  // with membership: the founding voters, out of kPoolSize
  // Random membership changes (a third nemesis track; see the top of this file).
  bool membership = false;
  raft::Config::Bugs bugs;  // injected into every node's Raft (CoreOptions::raft_bugs)
  // The membership invariants (configuration quorums, who campaigns, the
  // removed leader steps down); off only to see what the others catch.
  bool check_membership = true;
  Scenario scenario = Scenario::kChaos;
  // Simulated duration in ticks (`--steps`). The last `quiet_ticks` of it are
  // fault-free so that liveness can be checked at the end.
  int ticks = 2000;
  int quiet_ticks = 500;

  // Production defaults (src/maelstrom/node.h): tick 10 ms, heartbeat 50 ms,
  // election timeout 500 ms.
  int64_t tick_ns = 10'000'000;
  int election_tick = 50;
  int heartbeat_tick = 5;
  size_t max_inflight = 64;
  size_t max_entries_per_msg = 1024;
  // In fault scenarios, derive some settings from the seed (so replays stay
  // exact): half the seeds use tiny max_entries_per_msg and max_inflight;
  // half the partition and a fifth of the chaos seeds run without CheckQuorum.
  bool vary_config = true;
  // Compaction and snapshots (server::CoreOptions); in fault scenarios most
  // seeds replace these with tiny values (see vary_config).
  uint64_t compact_threshold = 10000;
  uint64_t compact_max_lag = 10000;
  uint64_t compact_bytes = 64 << 20;
  size_t snapshot_chunk_bytes = 1 << 20;
  bool pre_vote = true;
  bool check_quorum = true;

  // One-way network delay, uniform in [min, max] (scenarios add long tails).
  int64_t delay_min_ns = 100'000;
  int64_t delay_max_ns = 3'000'000;

  int clients = 5;
  int keys = 3;
  double read_via_log = 0.2;  // fraction of seeds whose reads go through the log
  int64_t think_max_ns = 40'000'000;
  int64_t client_timeout_ns = 1'000'000'000;

  bool clients_enabled = true;
  bool nemesis_enabled = true;  // scenario faults; off for hand-driven tests
  bool check_linearizability = true;
  bool check_liveness = true;
  // Full scan of every log against the log-matching table after every event
  // (it is otherwise done incrementally per Ready and fully every 256 events).
  bool paranoid = false;
  bool trace = false;  // print every trace line to stderr as it happens
  size_t trace_tail = 40;
  // Bounded work: a run is stopped as a failure (runaway-work) once it has
  // handled this many events or has this many pending. A healthy seed handles
  // ~20 per simulated tick; a message storm (each message begetting more)
  // would otherwise eat the machine's memory before any other check fires.
  uint64_t max_events = 5'000'000;
  size_t max_pending_events = 200'000;
};

// The one-line command that replays `o` with raft-sim.
std::string replay_command(const Options& o, std::string_view binary = "build/raft-sim");

struct Stats {
  uint64_t events = 0;
  uint64_t messages_sent = 0;
  uint64_t messages_delivered = 0;
  uint64_t append_msgs = 0;
  uint64_t appended_entries = 0;  // entries carried by append messages
  size_t max_entries_in_append = 0;
  size_t max_appends_in_flight = 0;  // to one follower, at any moment
  uint64_t elections = 0;            // distinct (term, leader) pairs
  uint64_t max_term = 0;
  uint64_t crashes = 0;
  uint64_t crashes_mid_ready = 0;  // crashes at an armed I/O point inside the core
  uint64_t compactions = 0;
  uint64_t snapshots_started = 0;
  uint64_t snapshots_installed = 0;
  uint64_t forwards = 0;  // forwarded requests and replies between servers
  uint64_t partitions = 0;
  uint64_t max_commit = 0;
  // Membership changes asked for / answered kOk; fresh servers (wiped) added.
  uint64_t admin_requests = 0, admin_ok = 0, wipes = 0;
  int min_voters = 0, max_voters = 0;  // over the run (membership runs)
  uint64_t ops_ok = 0, ops_fail = 0, ops_info = 0;
  uint64_t reads_ok = 0, writes_ok = 0, cas_ok = 0;
  std::string lin_verdict = "skipped";
  double lin_seconds = 0;
};

struct Result {
  bool ok = true;
  std::string invariant;  // which check failed, e.g. "election-safety"
  std::string detail;
  std::vector<std::string> trace_tail;
  std::string replay;
  Stats stats;
};

// Runs one seed of a scenario from start to end, including the final
// linearizability and liveness checks.
Result run(const Options& o);

// Leader failover: let a cluster settle, then crash (or isolate) the leader
// at a random moment and count ticks until another node is leader and has
// committed an entry of its own term. nullopt if that never happened within
// 100 election timeouts.
enum class FailoverMode { kCrash, kIsolate };
std::optional<double> measure_failover(const Options& o, FailoverMode mode);

// ---------------------------------------------------------------------------
// The simulation itself, public so tests can drive it by hand.

class Simulation {
 public:
  explicit Simulation(Options o);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Runs events until simulated time `t_ns` (or a violation).
  void run_until(int64_t t_ns);
  // Runs until pred() holds after an event, or time `deadline_ns`; true if it held.
  bool run_until(const std::function<bool()>& pred, int64_t deadline_ns);
  // The whole scripted run: faults, then the quiet phase, then final checks.
  Result run_all();

  int64_t now() const;
  int64_t ticks_to_ns(double ticks) const;
  const Options& options() const;
  int size() const;
  bool up(int i) const;
  const raft::Raft& raft(int i) const;
  // The live node that is leader with the highest term, or -1.
  int leader() const;
  // Runs for at most `within_ticks` until some node leads and has committed
  // an entry of its own term (it can then serve reads and change the
  // configuration); that node, or -1.
  int run_until_settled_leader(double within_ticks);
  bool ok() const;
  const std::string& invariant() const;  // empty while ok
  const std::string& detail() const;
  const Stats& stats() const;
  std::vector<std::string> trace_tail() const;

  // Hand-driven faults (also used by the scripted nemesis).
  void isolate(int i);                       // cut i off from every node, both ways
  void block(int from, int to);              // one-way: from's messages to `to` are lost
  void split(const std::vector<int>& side);  // side vs the rest, both ways
  void heal();
  void crash(int i);
  void restart(int i);
  // Membership requests at node i as an operator would make them; the
  // reply (through the core's Outbox) is only logged. False if i is down.
  bool admin_at(int i, const server::AdminRequest& request);
  // Crash i, wipe its stores and restart it as a fresh joining server.
  void wipe(int i);
  // A write at node i as if a client had sent it there; false if i is not
  // up and leading.
  bool write_at(int i, int key, int64_t value);
  // The same at any live node (a follower forwards it to its leader): the
  // request's id, or nullopt if i is down. reply_to(i, id) holds the answer
  // once i gave one.
  std::optional<server::RequestId> write_via(int i, int key, int64_t value);
  std::optional<server::ClientReply> reply_to(int i, server::RequestId id) const;

  // Final checks, normally done by run_all(). Return ok().
  bool check_linearizability();
  bool check_liveness();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace raftkv::sim
