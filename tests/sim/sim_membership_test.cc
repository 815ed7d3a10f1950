// Membership changes in the simulation: a seed sweep with random changes,
// proof that each injected Raft bug is caught by a safety check, and
// hand-driven removals and re-additions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "sim/sim.h"
#include "sim_test_helpers.h"

namespace raftkv::sim {
namespace {

Options membership_seed(uint64_t seed, Scenario scenario) {
  Options o;
  o.seed = seed;
  o.scenario = scenario;
  o.membership = true;
  o.nodes = 1 + static_cast<int>(seed % 5);  // founding voters; changes go 1..7
  return o;
}

// ---- seed sweep -----------------------------------------------------------------

// Seeds of this sweep that fail today because of bugs in src/ (not in the
// simulation); each names the failure. Remove an entry once its fix is in:
// the sweep then runs it like any other seed.
const std::set<uint64_t> kKnownCoreBugs = {
    // None left. Fixed in src/: the two-voter self-removal deadlock (seeds
    // 302015, 302016, 302036, 302038, 303048, 305015, 305023, 305042,
    // 305047) and the deposed leader's snapshot transfer (302007).
};

class MembershipSweep : public ::testing::TestWithParam<Scenario> {};

// 50 seeds x 6 scenarios = 300 seeds (fewer under the sanitizers:
// seeds_per_case).
TEST_P(MembershipSweep, NoViolations) {
  Scenario scenario = GetParam();
  int failures = 0;
  for (uint64_t k = 0; k < static_cast<uint64_t>(seeds_per_case(50)); ++k) {
    uint64_t seed = 300000 + static_cast<uint64_t>(scenario) * 1000 + k;
    if (kKnownCoreBugs.contains(seed)) {
      std::printf("skipping seed %llu: known core bug\n", static_cast<unsigned long long>(seed));
      continue;
    }
    Result r = run(membership_seed(seed, scenario));
    if (!r.ok) {
      ADD_FAILURE() << describe(r);
      if (++failures >= 10) break;
    }
    EXPECT_NE(r.stats.lin_verdict, "unknown") << r.replay;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, MembershipSweep, ::testing::ValuesIn(all_scenarios()),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// Over a few seeds the cluster takes every size from 1 to kPoolSize voters,
// changes commit, and removed servers come back wiped.
TEST(MembershipCoverage, EverySizeAndFreshServers) {
  Stats total;
  total.min_voters = kPoolSize;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    // (Whether the seeds pass is the sweep's business.)
    Result r = run(membership_seed(seed, seed % 2 ? Scenario::kChaos : Scenario::kBasic));
    total.admin_ok += r.stats.admin_ok;
    total.wipes += r.stats.wipes;
    total.min_voters = std::min(total.min_voters, r.stats.min_voters);
    total.max_voters = std::max(total.max_voters, r.stats.max_voters);
  }
  std::printf("20 seeds: %llu changes, %llu wiped servers re-added, voters %d..%d\n",
              (unsigned long long)total.admin_ok, (unsigned long long)total.wipes, total.min_voters,
              total.max_voters);
  EXPECT_GT(total.admin_ok, 200u);
  EXPECT_GT(total.wipes, 10u);
  EXPECT_EQ(total.min_voters, 1);
  EXPECT_EQ(total.max_voters, kPoolSize);
}

// ---- test the tests: every injected bug is caught ------------------------------

class MembershipBug : public ::testing::TestWithParam<std::string> {};

// Searches seeds until a safety check fails (a liveness failure alone
// proves nothing: the bug must break an invariant). Bounded at 2,000 seeds;
// each bug is caught within its first few dozen today.
TEST_P(MembershipBug, IsCaughtByASafetyCheck) {
  raft::Config::Bugs bug = *parse_bug(GetParam());
  for (uint64_t seed = 1; seed <= 2000; ++seed) {
    Options o = membership_seed(seed, all_scenarios()[seed % all_scenarios().size()]);
    o.bugs = bug;
    Result r = run(o);
    if (r.ok || r.invariant == "liveness") continue;
    std::printf("bug %s caught at seed %llu by %s: %s\n  replay: %s\n", GetParam().c_str(),
                (unsigned long long)seed, r.invariant.c_str(), r.detail.c_str(), r.replay.c_str());
    return;
  }
  ADD_FAILURE() << "bug " << GetParam() << " not caught in 2000 seeds";
}

INSTANTIATE_TEST_SUITE_P(Bugs, MembershipBug, ::testing::ValuesIn(bug_names()),
                         [](const auto& info) { return info.param; });

// ---- hand-driven ----------------------------------------------------------------

Options quiet_membership(int nodes, uint64_t seed) {
  Options o = membership_seed(seed, Scenario::kBasic);
  o.nodes = nodes;
  o.nemesis_enabled = false;
  o.clients_enabled = false;
  return o;
}

// Runs until some node leads and has committed an entry of its term.
// Runs until the leader's configuration has no change in flight.
bool settle_config(Simulation& s) {
  return s.run_until(
      [&] {
        int l = s.leader();
        return l >= 0 && !s.raft(l).config_change_pending();
      },
      s.now() + s.ticks_to_ns(20 * s.options().election_tick));
}

server::AdminRequest admin(server::AdminRequest::Op op, int node) {
  server::AdminRequest r;
  r.op = op;
  r.node = "n";
  r.node += std::to_string(node + 1);  // (not "n" + ...: a GCC 12 -Wrestrict false positive)
  return r;
}

TEST(Membership, RemovedLeaderStepsDownAndAnotherLeads) {
  Simulation s(quiet_membership(3, 5));
  int old = settle(s);
  ASSERT_GE(old, 0);
  ASSERT_TRUE(s.admin_at(old, admin(server::AdminRequest::Op::kRemove, old)));
  int next = -1;
  ASSERT_TRUE(s.run_until(
      [&] {
        next = s.leader();
        return next >= 0 && next != old && !s.raft(next).membership().contains(s.raft(old).id());
      },
      s.now() + s.ticks_to_ns(10 * s.options().election_tick)))
      << s.invariant() << " " << s.detail();
  EXPECT_NE(s.raft(old).role(), raft::Role::kLeader);
  EXPECT_EQ(s.raft(next).membership().voter_count(), 2u);
  s.run_until(s.now() + s.ticks_to_ns(5 * s.options().election_tick));
  EXPECT_TRUE(s.ok()) << s.invariant() << ": " << s.detail();
}

TEST(Membership, WipedServerRejoinsAsAFreshServer) {
  using Op = server::AdminRequest::Op;
  Simulation s(quiet_membership(3, 6));
  int l = settle(s);
  ASSERT_GE(l, 0);
  int x = (l + 1) % 3;
  ASSERT_TRUE(s.admin_at(l, admin(Op::kRemove, x)));
  ASSERT_TRUE(settle_config(s));
  s.wipe(x);
  EXPECT_EQ(s.raft(x).log().last_index(), 0u);
  EXPECT_TRUE(s.raft(x).membership().empty());
  l = s.leader();
  ASSERT_TRUE(s.admin_at(l, admin(Op::kAddLearner, x)));
  ASSERT_TRUE(settle_config(s));
  ASSERT_TRUE(s.write_at(s.leader(), 0, 42));
  // The fresh server catches up as a learner, then is promoted.
  ASSERT_TRUE(s.run_until(
      [&] {
        int l2 = s.leader();
        return l2 >= 0 && s.raft(x).applied_index() == s.raft(l2).commit_index();
      },
      s.now() + s.ticks_to_ns(20 * s.options().election_tick)))
      << s.detail();
  ASSERT_TRUE(s.admin_at(s.leader(), admin(Op::kPromote, x)));
  ASSERT_TRUE(settle_config(s));
  EXPECT_TRUE(s.raft(s.leader()).membership().is_voter(s.raft(x).id()));
  EXPECT_TRUE(s.raft(x).membership().is_voter(s.raft(x).id()) || !s.ok());
  EXPECT_TRUE(s.ok()) << s.invariant() << ": " << s.detail();
}

}  // namespace
}  // namespace raftkv::sim
