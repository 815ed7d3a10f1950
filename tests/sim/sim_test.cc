// Deterministic simulation tests: a few hundred seeds across scenarios and
// cluster sizes, regression seeds for bugs the simulation found, and
// targeted checks of PreVote, CheckQuorum, batching/pipelining and failover.
// build/raft-sim runs the same simulation over thousands of seeds.
#include "sim/sim.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <tuple>

#include "sim_test_helpers.h"

namespace raftkv::sim {
namespace {

// ---- seed sweeps ------------------------------------------------------------

class Sweep : public ::testing::TestWithParam<std::tuple<Scenario, int>> {};

// 40 x 6 scenarios x 2 sizes = 480 seeds (fewer under the sanitizers:
// seeds_per_case).

TEST_P(Sweep, NoViolations) {
  auto [scenario, nodes] = GetParam();
  int failures = 0;
  for (int k = 0; k < seeds_per_case(40); ++k) {
    Options o;
    o.scenario = scenario;
    o.nodes = nodes;
    o.seed = 100000 + static_cast<uint64_t>(scenario) * 1000 + static_cast<uint64_t>(nodes) * 100 +
             static_cast<uint64_t>(k);
    Result r = run(o);
    if (!r.ok) {
      ADD_FAILURE() << describe(r);
      if (++failures >= 3) break;
    }
    EXPECT_NE(r.stats.lin_verdict, "unknown") << r.replay;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, Sweep,
                         ::testing::Combine(::testing::ValuesIn(all_scenarios()),
                                            ::testing::Values(3, 5)),
                         [](const auto& info) {
                           return std::string(to_string(std::get<0>(info.param))) + "_" +
                                  std::to_string(std::get<1>(info.param)) + "nodes";
                         });

// ---- coverage: the production paths the simulation exists for --------------

// Over a handful of fault seeds, the core's compaction, snapshot transfer
// (sent and installed), forwarding and crashes inside the core all happen;
// a change that quietly turned one off would make the sweeps above vacuous.
TEST(SimCoverage, CompactionSnapshotsForwardingAndMidCoreCrashesHappen) {
  Stats total;
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    Options o;
    o.seed = seed;
    o.scenario = seed % 2 ? Scenario::kChaos : Scenario::kCrashes;
    Result r = run(o);
    ASSERT_TRUE(r.ok) << describe(r);
    total.compactions += r.stats.compactions;
    total.snapshots_started += r.stats.snapshots_started;
    total.snapshots_installed += r.stats.snapshots_installed;
    total.forwards += r.stats.forwards;
    total.crashes_mid_ready += r.stats.crashes_mid_ready;
  }
  std::printf(
      "24 seeds: %llu compactions, %llu snapshots sent, %llu installed, %llu forwards, "
      "%llu crashes inside the core\n",
      (unsigned long long)total.compactions, (unsigned long long)total.snapshots_started,
      (unsigned long long)total.snapshots_installed, (unsigned long long)total.forwards,
      (unsigned long long)total.crashes_mid_ready);
  EXPECT_GT(total.compactions, 100u);
  EXPECT_GT(total.snapshots_started, 10u);
  EXPECT_GT(total.snapshots_installed, 10u);
  EXPECT_GT(total.forwards, 100u);
  EXPECT_GT(total.crashes_mid_ready, 10u);
}

// ---- regression seeds ---------------------------------------------------------
// Each reproduced a bug in src/raft before it was fixed (see the comment at
// the fix). The replay command is `build/raft-sim --seed S --nodes N --scenario X`.

struct Regression {
  uint64_t seed;
  int nodes;
  Scenario scenario;
  const char* bug;
};

const std::vector<Regression> kRegressions = {
    // Found when the simulation first ran the server core (forwarding on):
    // the network duplicated a forwarded cas, the leader ran it twice, and
    // the second run's "precondition failed" reached the client although
    // the first had succeeded. Fixed by the leader's duplicate filter
    // (Core::handle_forward).
    {55, 3, Scenario::kLossy, "duplicated forward applied twice"},
    {67, 3, Scenario::kLossy, "duplicated forward applied twice"},
    // An append and the last snapshot chunk in one Ready: the install threw
    // away entries past the snapshot point that the follower had already
    // acknowledged (persistence contract). Fixed in Raft::handle_snapshot_chunk
    // (a matching log is kept) and Raft::restore (withdrawn acks).
    {370, 5, Scenario::kSkew, "install discarded acknowledged entries"},
    // Without PreVote, a node whose log was behind kept campaigning; each
    // of its vote requests reset the up-to-date nodes' election timers, and
    // the quiet phase ended with no leader (liveness). Fixed in Raft::step:
    // stepping down to a higher term keeps the election timer running.
    {7907, 3, Scenario::kChaos, "a stale candidate held the cluster leaderless"},
};

TEST(SimRegression, SeedsThatOnceFailed) {
  for (const Regression& g : kRegressions) {
    Options o;
    o.seed = g.seed;
    o.nodes = g.nodes;
    o.scenario = g.scenario;
    Result r = run(o);
    EXPECT_TRUE(r.ok) << g.bug << "\n" << describe(r);
  }
}

// ---- determinism --------------------------------------------------------------

TEST(Sim, SameSeedSameRun) {
  Options o;
  o.seed = 77;
  o.nodes = 5;
  o.scenario = Scenario::kChaos;
  Result a = run(o), b = run(o);
  EXPECT_EQ(a.trace_tail, b.trace_tail);
  EXPECT_EQ(a.stats.events, b.stats.events);
  EXPECT_EQ(a.stats.messages_sent, b.stats.messages_sent);
  EXPECT_EQ(a.stats.ops_ok, b.stats.ops_ok);
  o.seed = 78;
  Result c = run(o);
  EXPECT_NE(a.stats.events, c.stats.events);
}

// ---- hand-driven scenarios ---------------------------------------------------

Options quiet_cluster(int nodes, uint64_t seed) {
  Options o;
  o.nodes = nodes;
  o.seed = seed;
  o.scenario = Scenario::kBasic;
  o.nemesis_enabled = false;
  return o;
}

// Runs until some node leads and has committed an entry of its term.
// PreVote + CheckQuorum: a node cut off for a long time does not raise its
// term, and when it comes back the healthy leader keeps its term. With
// client traffic the returning node's log is behind, so its pre-votes fail
// on the log check; without traffic its log is as good as anyone's and only
// the leader lease (followers that hear from a leader ignore pre-votes)
// protects the leader.
TEST(PreVote, RejoiningNodeDoesNotDisruptTheLeader) {
  for (bool traffic : {true, false}) {
    for (int nodes : {3, 5}) {
      for (uint64_t seed = 1; seed <= 10; ++seed) {
        Options o = quiet_cluster(nodes, seed);
        o.clients_enabled = traffic;
        Simulation s(o);
        int l = settle(s);
        ASSERT_GE(l, 0);
        s.run_until(s.now() + s.ticks_to_ns(20));  // the no-op reaches everyone
        uint64_t term = s.raft(l).term();
        int f = (l + 1) % nodes;
        s.isolate(f);
        s.run_until(s.now() + s.ticks_to_ns(20 * s.options().election_tick));
        EXPECT_EQ(s.raft(f).term(), term) << "isolated node raised its term; seed " << seed;
        if (!traffic) {
          ASSERT_EQ(s.raft(f).log().last_index(), s.raft(l).log().last_index());
        }
        s.heal();
        s.run_until(s.now() + s.ticks_to_ns(10 * s.options().election_tick));
        EXPECT_EQ(s.leader(), l) << "seed " << seed << (traffic ? "" : " (no traffic)");
        EXPECT_EQ(s.raft(l).term(), term) << "seed " << seed << (traffic ? "" : " (no traffic)");
        EXPECT_EQ(s.raft(f).leader(), s.raft(l).id()) << "seed " << seed;
        ASSERT_TRUE(s.ok()) << s.invariant() << ": " << s.detail();
        if (traffic) {
          EXPECT_TRUE(s.check_linearizability()) << s.detail();
        }
      }
    }
  }
}

// The case the leader lease exists for: a node cut off from the leader
// alone keeps pre-voting to followers that still hear the leader. They must
// ignore it (they are in the lease), or it wins a pre-vote, then an
// election, and deposes a healthy leader, again and again.
TEST(PreVote, NodeCutOffFromTheLeaderOnlyDoesNotDisruptIt) {
  for (int nodes : {3, 5}) {
    for (uint64_t seed = 1; seed <= 10; ++seed) {
      Options o = quiet_cluster(nodes, seed);
      o.clients_enabled = false;  // logs stay equal: only the lease protects
      Simulation s(o);
      int l = settle(s);
      ASSERT_GE(l, 0);
      s.run_until(s.now() + s.ticks_to_ns(20));
      uint64_t term = s.raft(l).term();
      int f = (l + 1) % nodes;
      s.block(l, f);
      s.block(f, l);
      s.run_until(s.now() + s.ticks_to_ns(10 * o.election_tick));
      EXPECT_EQ(s.leader(), l) << "seed " << seed;
      EXPECT_EQ(s.raft(l).term(), term) << "seed " << seed;
      s.heal();
      s.run_until(s.now() + s.ticks_to_ns(3 * o.election_tick));
      EXPECT_EQ(s.leader(), l) << "seed " << seed;
      EXPECT_EQ(s.raft(f).leader(), s.raft(l).id()) << "seed " << seed;
      ASSERT_TRUE(s.ok()) << s.invariant() << ": " << s.detail();
    }
  }
}

// The control for the rejoin test: without PreVote, the same rejoin does
// disrupt the leader, so that test is not vacuous.
TEST(PreVote, WithoutPreVoteARejoiningNodeForcesANewTerm) {
  Options o = quiet_cluster(3, 3);
  o.pre_vote = false;
  Simulation s(o);
  int l = settle(s);
  ASSERT_GE(l, 0);
  uint64_t term = s.raft(l).term();
  int f = (l + 1) % 3;
  s.isolate(f);
  s.run_until(s.now() + s.ticks_to_ns(10 * o.election_tick));
  EXPECT_GT(s.raft(f).term(), term);
  s.heal();
  s.run_until(s.now() + s.ticks_to_ns(10 * o.election_tick));
  int l2 = s.leader();
  ASSERT_GE(l2, 0);
  EXPECT_GT(s.raft(l2).term(), term);
  EXPECT_TRUE(s.ok()) << s.detail();
}

// CheckQuorum: a leader cut off from its quorum steps down within two
// election timeouts, and the majority elects a new leader meanwhile.
TEST(CheckQuorum, IsolatedLeaderStepsDown) {
  for (int nodes : {3, 5}) {
    for (uint64_t seed = 1; seed <= 10; ++seed) {
      Simulation s(quiet_cluster(nodes, seed));
      int l = settle(s);
      ASSERT_GE(l, 0);
      uint64_t term = s.raft(l).term();
      int64_t t0 = s.now();
      s.isolate(l);
      int e = s.options().election_tick;
      bool stepped = s.run_until([&] { return s.raft(l).role() != raft::Role::kLeader; },
                                 t0 + s.ticks_to_ns(3 * e));
      ASSERT_TRUE(stepped) << "seed " << seed;
      double ticks = static_cast<double>(s.now() - t0) / static_cast<double>(s.options().tick_ns);
      // Check quorum runs every election timeout, with one timeout of grace.
      EXPECT_LE(ticks, 2 * e + 2) << "seed " << seed;
      EXPECT_EQ(s.raft(l).term(), term) << "stepping down must not bump the term";
      // The others elect a new leader in a later term.
      bool elected = s.run_until(
          [&] {
            int n = s.leader();
            return n >= 0 && n != l && s.raft(n).term() > term;
          },
          t0 + s.ticks_to_ns(10 * e));
      EXPECT_TRUE(elected) << "seed " << seed;
      s.heal();
      s.run_until(s.now() + s.ticks_to_ns(3 * e));
      EXPECT_NE(s.leader(), l);
      EXPECT_EQ(s.raft(l).leader(), s.raft(s.leader()).id());
      ASSERT_TRUE(s.ok()) << s.invariant() << ": " << s.detail();
    }
  }
}

// A write forwarded to a leader that crashes before the forward arrives is
// answered, as outcome unknown, as soon as the forwarding server knows the
// next leader: not at the forward deadline (2 s here), seconds later.
TEST(Forwarding, AWriteForwardedToACrashedLeaderIsAnsweredOnceTheNextIsKnown) {
  for (int nodes : {3, 5}) {
    for (uint64_t seed = 1; seed <= 10; ++seed) {
      Simulation s(quiet_cluster(nodes, seed));
      int l = settle(s);
      ASSERT_GE(l, 0);
      const raft::NodeId old = s.raft(l).id();
      int f = (l + 1) % nodes;
      ASSERT_TRUE(s.run_until([&] { return s.raft(f).leader() == old; },
                              s.now() + s.ticks_to_ns(s.options().election_tick)));
      std::optional<server::RequestId> id = s.write_via(f, 0, 7);
      ASSERT_TRUE(id.has_value());
      s.crash(l);  // the forward is still on the wire: it is lost
      int64_t t0 = s.now();
      int e = s.options().election_tick;
      ASSERT_TRUE(s.run_until(
          [&] {
            const raft::NodeId& now = s.raft(f).leader();
            return !now.empty() && now != old;
          },
          t0 + s.ticks_to_ns(10 * e)))
          << "seed " << seed;
      ASSERT_TRUE(
          s.run_until([&] { return s.reply_to(f, *id).has_value(); }, s.now() + s.ticks_to_ns(1)))
          << "seed " << seed << ": no answer within a tick of learning the new leader, "
          << (s.now() - t0) / s.options().tick_ns << " ticks after the crash";
      EXPECT_EQ(s.reply_to(f, *id)->code, server::ReplyCode::kIndefinite) << "seed " << seed;
      ASSERT_TRUE(s.ok()) << s.invariant() << ": " << s.detail();
    }
  }
}

// A burst of proposals is replicated as large appends, several in flight to
// the same follower before any answer comes back.
TEST(Replication, BatchesAndPipelinesAppends) {
  Options o = quiet_cluster(3, 5);
  o.clients_enabled = false;
  o.delay_min_ns = 20'000'000;  // 20-30 ms one way, so appends pile up in flight
  o.delay_max_ns = 30'000'000;
  Simulation s(o);
  int l = settle(s);
  ASSERT_GE(l, 0);
  for (int k = 0; k < 5000; ++k) ASSERT_TRUE(s.write_at(l, 0, k));
  uint64_t want = s.raft(l).log().last_index();
  ASSERT_TRUE(s.run_until(
      [&] {
        for (int i = 0; i < s.size(); ++i) {
          if (s.raft(i).applied_index() < want) return false;
        }
        return true;
      },
      s.now() + s.ticks_to_ns(200)));
  EXPECT_EQ(s.stats().max_entries_in_append, 1024u);
  EXPECT_GE(s.stats().max_appends_in_flight, 5u);
  ASSERT_TRUE(s.ok()) << s.detail();
}

// Failover at the production settings: median and p99 in ticks; printed for
// the record, bounded loosely so the test catches regressions only.
TEST(Failover, NewLeaderCommitsWithinAFewElectionTimeouts) {
  for (FailoverMode mode : {FailoverMode::kCrash, FailoverMode::kIsolate}) {
    std::vector<double> ticks;
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      Options o = quiet_cluster(seed % 2 ? 3 : 5, seed);
      auto t = measure_failover(o, mode);
      ASSERT_TRUE(t.has_value()) << "seed " << seed;
      ticks.push_back(*t);
    }
    std::sort(ticks.begin(), ticks.end());
    double median = ticks[ticks.size() / 2], worst = ticks.back();
    std::printf("failover (%s): median %.1f ticks, max %.1f ticks over %zu runs\n",
                mode == FailoverMode::kCrash ? "crash" : "isolate", median, worst, ticks.size());
    EXPECT_LE(median, 3 * 50);
    EXPECT_LE(worst, 6 * 50);
  }
}

}  // namespace
}  // namespace raftkv::sim
