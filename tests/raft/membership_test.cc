// Membership changes, learners and leadership transfer in the pure Raft
// state machine (raft/raft_config.cc), driven by hand.
#include "raft/membership.h"

#include <gtest/gtest.h>

#include <variant>

#include "raft/raft.h"
#include "test_net.h"

namespace raftkv::raft {
namespace {

using Kind = ConfigChange::Kind;

bool accepted(const std::variant<Raft::Proposed, std::string>& r) {
  return std::holds_alternative<Raft::Proposed>(r);
}
std::string refusal(const std::variant<Raft::Proposed, std::string>& r) {
  return accepted(r) ? "" : std::get<std::string>(r);
}

// Commits a change proposed on node `leader` and returns its index.
uint64_t change(Net& net, int leader, Kind kind, const NodeId& node) {
  auto r = net[leader].propose_config(ConfigChange{kind, node, ""});
  EXPECT_TRUE(accepted(r)) << refusal(r);
  net.settle();
  net.tick_all(1);
  return accepted(r) ? std::get<Raft::Proposed>(r).index : 0;
}

// What node `n` would find on its disk at a restart: Net persists each Ready
// at once, so that is its hard state and whole log (uncompacted).
Restored on_disk(const Raft& n) {
  Restored r;
  r.hard_state = n.hard_state();
  for (uint64_t i = 1; i <= n.log().last_index(); ++i) r.entries.push_back(n.log().at(i));
  r.applied = n.applied_index();
  return r;
}

TEST(Membership, EncodesAndDecodesCanonically) {
  Membership m;
  m.set(Member{"n2", true, "127.0.0.1:7002"});
  m.set(Member{"n1", false, ""});
  std::string e = m.encode();
  auto back = Membership::decode(e);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
  EXPECT_EQ(back->voters(), std::vector<NodeId>{"n2"});
  EXPECT_EQ(back->learners(), std::vector<NodeId>{"n1"});
  for (std::string bad : {"", "M1", "M1|2:n1", "M1|2:n1x0:", "M1|02:n1v0:", "M1|2:n2v0:2:n1v0:",
                          "M1|0:v0:", "M1|9999:n1v0:"}) {
    EXPECT_FALSE(Membership::decode(bad)) << bad;
  }
  EXPECT_EQ(Membership::decode("M1|")->members().size(), 0u);
}

TEST(Membership, JoiningServerNeverCampaigns) {
  Net net(4, {}, 3);
  net.tick_all(60);
  EXPECT_NE(net[3].role(), Role::kLeader);
  EXPECT_EQ(net[3].term(), 0u);
  EXPECT_TRUE(net[3].membership().empty());
}

TEST(Membership, LearnerCatchesUpThenIsPromoted) {
  Net net(4, {}, 3);
  net.elect(0);
  for (int k = 0; k < 20; ++k) net[0].propose("x");
  net.settle();
  change(net, 0, Kind::kAddLearner, "n4");
  EXPECT_TRUE(net[3].membership().is_learner("n4"));
  EXPECT_EQ(net[3].log().last_index(), net[0].log().last_index());
  EXPECT_EQ(net[0].membership().quorum(), 2u);  // a learner changes no majority
  // A learner receives the log but never stands for election.
  net.drop = [](const Message& m) { return m.from == "n1"; };
  for (int k = 0; k < 60; ++k) net[3].tick();
  net.settle();
  EXPECT_EQ(net[3].term(), net[0].term());
  net.drop = nullptr;
  net.tick_all(1);
  change(net, 0, Kind::kPromote, "n4");
  EXPECT_TRUE(net[0].membership().is_voter("n4"));
  EXPECT_EQ(net[0].membership().quorum(), 3u);
  EXPECT_TRUE(net[3].membership().is_voter("n4"));
}

TEST(Membership, PromotionWaitsUntilTheLearnerHasCaughtUp) {
  Net net(
      4, [](Config& c) { c.max_promote_lag = 10; }, 3);
  net.elect(0);
  change(net, 0, Kind::kAddLearner, "n4");
  net.drop = [](const Message& m) { return m.to == "n4"; };
  for (int k = 0; k < 50; ++k) net[0].propose("x");
  net.settle();
  std::string why = refusal(net[0].propose_config(ConfigChange{Kind::kPromote, "n4", ""}));
  EXPECT_NE(why.find("entries behind"), std::string::npos) << why;
  net.drop = nullptr;
  net.tick_all(6);  // the lost appends are noticed after election_tick / 2 ticks
  auto r = net[0].propose_config(ConfigChange{Kind::kPromote, "n4", ""});
  EXPECT_TRUE(accepted(r)) << refusal(r);
}

// A learner that never answered has match 0, which a short log would count
// as "close": it must have been heard from and be replicating.
TEST(Membership, ALearnerThatNeverAnsweredIsNotPromoted) {
  Net net(4, {}, 3);
  net.elect(0);
  net.drop = [](const Message& m) { return m.to == "n4" || m.from == "n4"; };
  change(net, 0, Kind::kAddLearner, "n4");
  std::string why = refusal(net[0].propose_config(ConfigChange{Kind::kPromote, "n4", ""}));
  EXPECT_NE(why.find("not caught up"), std::string::npos) << why;
}

TEST(Membership, OneChangeAtATime) {
  Net net(5, {}, 3);
  net.elect(0);
  net.drop = [](const Message&) { return true; };  // nothing commits
  EXPECT_TRUE(accepted(net[0].propose_config(ConfigChange{Kind::kAddVoter, "n4", ""})));
  // In effect at once on the leader, committed or not.
  EXPECT_TRUE(net[0].membership().is_voter("n4"));
  EXPECT_TRUE(net[0].config_change_pending());
  std::string why = refusal(net[0].propose_config(ConfigChange{Kind::kAddVoter, "n5", ""}));
  EXPECT_NE(why.find("in progress"), std::string::npos) << why;
}

// Ongaro's 2015 fix: a new leader first commits an entry of its own term.
TEST(Membership, NewLeaderWaitsForItsFirstCommit) {
  Net net(4, {}, 3);
  net.drop = [](const Message& m) { return m.type == MsgType::kAppend; };
  net.elect(0);
  std::string why = refusal(net[0].propose_config(ConfigChange{Kind::kAddLearner, "n4", ""}));
  EXPECT_NE(why.find("first entry"), std::string::npos) << why;
  net.drop = nullptr;
  net.tick_all(1);
  EXPECT_TRUE(accepted(net[0].propose_config(ConfigChange{Kind::kAddLearner, "n4", ""})));
}

TEST(Membership, ConfigurationCountsOnceAppended) {
  // No leader lease, so that followers answer votes at once.
  Net net(
      4, [](Config& c) { c.check_quorum = false; }, 3);
  net.elect(0);
  // The change reaches n2 only; then n1 is cut off.
  net.drop = [](const Message& m) { return m.from == "n1" && m.to != "n2"; };
  ASSERT_TRUE(accepted(net[0].propose_config(ConfigChange{Kind::kAddVoter, "n4", ""})));
  net.settle();
  EXPECT_TRUE(net[1].membership().is_voter("n4"));  // in effect once appended
  // n2 now needs 3 of 4 votes: n2 and n3 are not enough...
  net.drop = [](const Message& m) {
    return m.from == "n1" || m.to == "n1" || m.to == "n4" || m.from == "n4";
  };
  for (int k = 0; k < 2; ++k) net.nodes[1]->campaign();  // pre-vote, then the vote
  net.settle();
  EXPECT_NE(net[1].role(), Role::kLeader);
  // ...with n4 they are.
  net.drop = [](const Message& m) { return m.from == "n1" || m.to == "n1"; };
  for (int k = 0; k < 2; ++k) net.nodes[1]->campaign();
  net.settle();
  EXPECT_EQ(net[1].role(), Role::kLeader);
}

TEST(Membership, UncommittedConfigurationIsUndoneWithItsEntry) {
  // No leader lease, so that followers answer votes at once.
  Net net(
      4, [](Config& c) { c.check_quorum = false; }, 3);
  net.elect(0);
  net.drop = [](const Message& m) { return m.from == "n1"; };
  ASSERT_TRUE(accepted(net[0].propose_config(ConfigChange{Kind::kAddVoter, "n4", ""})));
  net.settle();
  net.drop = [](const Message& m) { return m.from == "n1" || m.to == "n1"; };
  for (int k = 0; k < 2; ++k) net.nodes[1]->campaign();
  net.settle();
  ASSERT_EQ(net[1].role(), Role::kLeader);
  net[1].propose("y");
  net.settle();
  net.drop = nullptr;
  net.tick_all(2);
  EXPECT_FALSE(net[0].membership().contains("n4"));  // truncated away on the old leader
  EXPECT_EQ(net[0].role(), Role::kFollower);
}

TEST(Membership, RemovedFollowerLearnsItAndStaysQuiet) {
  Net net(3);
  net.elect(0);
  change(net, 0, Kind::kRemove, "n3");
  EXPECT_FALSE(net[2].membership().contains("n3"));
  EXPECT_FALSE(net[0].progress().contains("n3"));  // nothing more is sent to it
  uint64_t term = net[0].term();
  net.drop = [](const Message& m) { return m.to == "n3"; };
  for (int k = 0; k < 100; ++k) net[2].tick();
  net.settle();
  EXPECT_EQ(net[0].term(), term);
  EXPECT_EQ(net[0].role(), Role::kLeader);
  // Two voters left: both must acknowledge.
  net.drop = [](const Message& m) { return m.to == "n2" || m.from == "n2"; };
  uint64_t commit = net[0].commit_index();
  net[0].propose("z");
  net.settle();
  EXPECT_EQ(net[0].commit_index(), commit);
}

// Three servers; n3 is removed while its appends are lost (so the leader
// still sends it the log as a departing member) and then wiped: it comes
// back as a fresh server that joins, with an empty log.
void wipe_departing_n3(Net& net) {
  net.elect(0);
  for (int k = 0; k < 5; ++k) net[0].propose("x");
  net.settle();
  net.drop = [](const Message& m) { return m.to == "n3" && m.type == MsgType::kAppend; };
  change(net, 0, Kind::kRemove, "n3");
  ASSERT_TRUE(net[0].progress().contains("n3"));  // departing, not yet told
  Config c;
  c.id = "n3";  // no voters: a fresh server that joins
  net.nodes[2] = std::make_unique<Raft>(c, Restored{});
  net.drop = nullptr;
}

// A member removed while it lagged (so still being sent the log) is wiped
// and added back: the leader must forget what the old one had.
TEST(Membership, AWipedServerAddedBackStartsFromScratch) {
  Net net(3);
  ASSERT_NO_FATAL_FAILURE(wipe_departing_n3(net));
  change(net, 0, Kind::kAddLearner, "n3");
  net.tick_all(3);
  EXPECT_EQ(net[2].log().last_index(), net[0].log().last_index());
  EXPECT_TRUE(net[2].membership().is_learner("n3"));
}

// A departing member wiped before it heard of its removal answers every
// probe with "my log is empty", below what it acknowledged before. The
// leader can never probe below a match, so those rejections are stale;
// answering each with the same probe again, one more exchange per
// heartbeat, grew into a message storm (simulation, membership seed 715).
TEST(Membership, AWipedDepartingMemberDoesNotStartAStorm) {
  Net net(3);
  ASSERT_NO_FATAL_FAILURE(wipe_departing_n3(net));
  for (int k = 0; k < 20; ++k) {
    for (auto& r : net.nodes) r->tick();
    net.settle(10'000);
  }
  EXPECT_TRUE(net.inflight.empty());
  size_t to_n3 = 0;
  for (const Message& m : net.delivered) to_n3 += m.to == "n3";
  EXPECT_LT(to_n3, 100u);
  EXPECT_EQ(net[0].role(), Role::kLeader);
}

// A server removed, wiped and added back under its old name catches up from
// the start of the log, through the configurations of its former life. In
// one of them it was the only voter: it made itself leader of a log that
// lacked committed entries (simulation, membership seed 7125). Behind the
// commit index its leader told it of, it must not stand, also after a
// restart in the middle of the catch-up.
TEST(Membership, AWipedServerReplayingItsFormerConfigurationsDoesNotStand) {
  Net net(
      2, [](Config& c) { c.max_entries_per_msg = 1; }, 1);
  net.elect(0);
  change(net, 0, Kind::kAddLearner, "n2");
  uint64_t sole = net[0].membership_index();  // voters [n1] learners [n2]
  change(net, 0, Kind::kPromote, "n2");
  change(net, 0, Kind::kRemove, "n1");  // n1 hands over to n2
  ASSERT_EQ(net[1].role(), Role::kLeader);
  for (int k = 0; k < 5; ++k) net[1].propose("x");
  net.settle();
  Config fresh;
  fresh.id = "n1";
  fresh.max_entries_per_msg = 1;
  net.nodes[0] = std::make_unique<Raft>(fresh, Restored{});
  // n1 gets the log only up to the configuration that names it sole voter
  // (and the probes it rejects).
  net.drop = [&](const Message& m) {
    return m.to == "n1" && m.type == MsgType::kAppend && !m.entries.empty() &&
           m.entries.back().index > sole && m.index <= net[0].log().last_index();
  };
  change(net, 1, Kind::kAddLearner, "n1");
  net.tick_all(2);
  ASSERT_EQ(net[0].log().last_index(), sole);
  ASSERT_TRUE(net[0].membership().is_voter("n1"));
  ASSERT_GT(net[0].leader_commit(), sole);
  auto isolated_terms = [&] {
    net.drop = [](const Message& m) { return m.to == "n1" || m.from == "n1"; };
    for (int k = 0; k < 200; ++k) net.tick_all(1);
    EXPECT_NE(net[0].role(), Role::kLeader);
    EXPECT_NE(net[0].role(), Role::kCandidate);
  };
  isolated_terms();
  net.nodes[0] = std::make_unique<Raft>(fresh, on_disk(net[0]));
  isolated_terms();
}

// Removing a voter on the majority side of a partition would leave the new
// configuration (which counts once appended) without a reachable quorum, so
// nothing could commit until the partition healed (the runner saw 90 s of
// it). Such a change is refused; removing a server that is cut off is not.
TEST(Membership, RefusesAChangeThatLeavesNoReachableQuorum) {
  Net net(5);
  net.elect(0);
  auto cut = [](const Message& m) {
    auto away = [](const NodeId& id) { return id == "n4" || id == "n5"; };
    return away(m.to) != away(m.from);
  };
  net.drop = cut;
  net.tick_all(25);  // past a check-quorum round: n4 and n5 are not recently active
  ASSERT_EQ(net[0].role(), Role::kLeader);
  auto r = net[0].propose_config(ConfigChange{Kind::kRemove, "n2", ""});
  EXPECT_FALSE(accepted(r));
  EXPECT_NE(refusal(r).find("short of a quorum"), std::string::npos) << refusal(r);
  EXPECT_FALSE(net[0].config_change_pending());
  // Removing one of the unreachable servers keeps a reachable quorum (3 of 4).
  change(net, 0, Kind::kRemove, "n5");
  EXPECT_FALSE(net[0].membership().contains("n5"));
  EXPECT_EQ(net[0].membership().voter_count(), 4u);
}

TEST(Membership, LeaderThatRemovesItselfHandsOver) {
  Net net(3);
  net.elect(0);
  change(net, 0, Kind::kRemove, "n1");
  EXPECT_NE(net[0].role(), Role::kLeader);
  // TimeoutNow made a remaining voter leader without waiting for a timeout.
  bool led = net[1].role() == Role::kLeader || net[2].role() == Role::kLeader;
  EXPECT_TRUE(led);
  for (int k = 0; k < 100; ++k) net[0].tick();
  net.settle();
  EXPECT_NE(net[0].role(), Role::kLeader);
  EXPECT_NE(net[0].role(), Role::kCandidate);
}

// Under load the leader's log runs past the removal entry when it commits:
// no voter matches it yet, so the hand-over is a transfer (proposals stop,
// the target catches up, TimeoutNow), not an election timeout.
TEST(Membership, LeaderThatRemovesItselfUnderLoadHandsOverWithoutATimeout) {
  Net net(3);
  net.elect(0);
  ASSERT_TRUE(accepted(net[0].propose_config(ConfigChange{Kind::kRemove, "n1", ""})));
  net.flush();
  // The followers append the removal; their acks are on the way when more
  // writes arrive, so when the removal commits nobody holds the whole log.
  ASSERT_EQ(net.inflight.size(), 2u);
  net.deliver_one();
  net.deliver_one();
  for (int k = 0; k < 5; ++k) ASSERT_TRUE(net[0].propose("w"));
  net.flush();
  net.settle();  // no ticks: nobody times out
  EXPECT_NE(net[0].role(), Role::kLeader);
  bool led = net[1].role() == Role::kLeader || net[2].role() == Role::kLeader;
  EXPECT_TRUE(led);
}

// Two voters; the leader removes itself and restarts before the removal
// reaches the other. The other cannot win without it (its log is behind),
// so the removed one, a voter of the last committed configuration, must be
// able to stand (found by the simulation, seed 305047).
TEST(Membership, UncommittedSelfRemovalDoesNotDeadlockTwoVoters) {
  Net net(2);
  net.elect(0);
  net.drop = [](const Message& m) { return m.from == "n1"; };
  ASSERT_TRUE(accepted(net[0].propose_config(ConfigChange{Kind::kRemove, "n1", ""})));
  net.settle();
  Restored r = on_disk(net[0]);
  Config c;
  c.id = "n1";
  c.voters = {"n1", "n2"};
  c.seed = 7;
  net.nodes[0] = std::make_unique<Raft>(c, r);
  net.drop = nullptr;
  for (int k = 0; k < 100 && net[1].role() != Role::kLeader; ++k) net.tick_all(1);
  EXPECT_EQ(net[1].role(), Role::kLeader);
  EXPECT_NE(net[0].role(), Role::kLeader);
  EXPECT_FALSE(net[1].membership().contains("n1"));
}

TEST(Membership, RemovedLeaderServesWithTheBug) {
  Net net(3, [](Config& c) { c.bugs.removed_leader_serves = true; });
  net.elect(0);
  change(net, 0, Kind::kRemove, "n1");
  EXPECT_EQ(net[0].role(), Role::kLeader);
}

TEST(Membership, VotesOfNonVotersDoNotCount) {
  Net net(4, {}, 3);
  net.elect(0);
  change(net, 0, Kind::kAddLearner, "n4");
  // n2 campaigns with n1 and n3 silent: n4 (a learner) grants but is no voter.
  net.drop = [](const Message& m) { return m.to == "n1" || m.to == "n3" || m.from == "n1"; };
  net[1].campaign();
  net[1].campaign();
  net.settle();
  EXPECT_NE(net[1].role(), Role::kLeader);
}

TEST(Membership, SurvivesCompactionAndRestart) {
  Net net(4, {}, 3);
  net.elect(0);
  change(net, 0, Kind::kAddLearner, "n4");
  for (int k = 0; k < 10; ++k) net[0].propose("x");
  net.settle();
  net.tick_all(1);
  net[0].compact(net[0].applied_index());
  EXPECT_TRUE(net[0].membership().is_learner("n4"));
  EXPECT_EQ(net[0].membership_index(), net[0].log().base_index());
  // A restart finds the configuration with the state machine (Restored).
  Config c;
  c.id = "n1";
  c.voters = {"n1", "n2", "n3"};
  Restored r;
  r.hard_state = HardState{net[0].term(), "n1", net[0].commit_index()};
  r.base_index = net[0].log().base_index();
  r.base_term = net[0].log().base_term();
  r.applied = r.base_index;
  r.membership = net[0].membership();
  Raft again(c, r);
  EXPECT_TRUE(again.membership().is_learner("n4"));
}

TEST(Transfer, HandsLeadershipToAnUpToDateVoter) {
  Net net(3);
  net.elect(0);
  ASSERT_FALSE(net[0].transfer_leadership("n3"));
  net.settle();
  EXPECT_EQ(net[2].role(), Role::kLeader);
  EXPECT_EQ(net[0].role(), Role::kFollower);
}

TEST(Transfer, CatchesTheTargetUpFirstAndHoldsProposals) {
  Net net(3);
  net.elect(0);
  net.drop = [](const Message& m) { return m.to == "n3"; };
  for (int k = 0; k < 30; ++k) net[0].propose("x");
  net.settle();
  net.drop = nullptr;
  ASSERT_FALSE(net[0].transfer_leadership("n3"));
  EXPECT_FALSE(net[0].propose("held"));  // the log must stop growing
  net.settle();
  EXPECT_EQ(net[2].role(), Role::kLeader);
  EXPECT_EQ(net[2].log().last_index(), net[0].log().last_index() + 0);
}

TEST(Transfer, GivesUpAfterAnElectionTimeout) {
  Net net(3);
  net.elect(0);
  net.drop = [](const Message& m) { return m.to == "n3"; };
  ASSERT_FALSE(net[0].transfer_leadership("n3"));
  EXPECT_FALSE(net[0].propose("held"));
  net.tick_all(10);
  EXPECT_EQ(net[0].role(), Role::kLeader);
  EXPECT_TRUE(net[0].propose("after"));
}

TEST(Transfer, RefusesNonVoters) {
  Net net(4, {}, 3);
  net.elect(0);
  change(net, 0, Kind::kAddLearner, "n4");
  EXPECT_TRUE(net[0].transfer_leadership("n4"));
  EXPECT_TRUE(net[1].transfer_leadership("n3"));  // not the leader
}

}  // namespace
}  // namespace raftkv::raft
