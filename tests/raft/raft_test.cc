// Unit tests of the pure Raft state machine, driven by hand: every message is
// delivered (or dropped) explicitly, so each test pins down one behaviour.
// The randomized, fault-injecting counterpart is tests/sim.
#include "raft/raft.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "test_net.h"

namespace raftkv::raft {
namespace {

TEST(Raft, ElectsALeaderAndCommitsANoop) {
  Net net(3);
  net.elect(0);
  EXPECT_EQ(net[1].leader(), "n1");
  EXPECT_EQ(net[0].commit_index(), 1u);
  EXPECT_EQ(net[0].log().at(1).type, EntryType::kNoop);
  net.tick_all(1);  // followers learn the commit index from a heartbeat
  for (int i = 0; i < 3; ++i) EXPECT_EQ(net.applied[i].size(), 1u) << i;
}

// Many proposals become a few large appends per follower, all sent without
// waiting for an answer (pipelining), bounded by the window.
TEST(Raft, BatchesManyEntriesPerAppendAndPipelines) {
  Net net(3);
  net.elect(0);
  for (int k = 0; k < 3000; ++k) ASSERT_TRUE(net[0].propose(std::to_string(k)));
  net.flush();
  std::vector<size_t> sizes;
  for (const Message& m : net.inflight) {
    if (m.type == MsgType::kAppend && m.to == "n2") sizes.push_back(m.entries.size());
  }
  // 3000 entries at the default 1024 per message: three appends in flight at once.
  ASSERT_EQ(sizes.size(), 3u);
  EXPECT_EQ(sizes[0], 1024u);
  EXPECT_EQ(sizes[1], 1024u);
  EXPECT_EQ(sizes[2], 952u);
  net.settle();
  net.tick_all(1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(net[i].commit_index(), 3001u) << i;
}

TEST(Raft, InflightWindowIsBounded) {
  Net net(3, [](Config& c) {
    c.max_entries_per_msg = 10;
    c.max_inflight_msgs = 4;
  });
  net.elect(0);
  for (int k = 0; k < 1000; ++k) ASSERT_TRUE(net[0].propose("x"));
  net.flush();
  EXPECT_EQ(net.count(MsgType::kAppend, "n2"), 4u);
  // Each answer opens the window by one append.
  net.settle();
  net.tick_all(1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(net[i].commit_index(), 1001u) << i;
}

// A follower with a long divergent suffix is repaired in a few round trips
// (conflict term/index hints), not one entry per round trip.
TEST(Raft, FastBacktrackingSkipsWholeTerms) {
  Net net(3);
  net.elect(0);  // n1 leads term 1
  // n1 is cut off and accepts 500 proposals that go nowhere.
  net.drop = [](const Message& m) { return m.from == "n1" || m.to == "n1"; };
  for (int k = 0; k < 500; ++k) net[0].propose("stale");
  net.settle();
  // n2 and n3 elect one of them in a later term once n1's lease is over;
  // it commits entries of its own. n1 steps down (check quorum).
  net.tick_all(60);
  int l = net[1].role() == Role::kLeader ? 1 : 2;
  ASSERT_EQ(net[l].role(), Role::kLeader);
  ASSERT_NE(net[0].role(), Role::kLeader);
  for (int k = 0; k < 20; ++k) net[l].propose("fresh");
  net.settle();
  ASSERT_EQ(net[l].commit_index(), 1u + 1 + 20);
  // Heal: n1 hears from n2, steps down and has its log repaired.
  net.drop = nullptr;
  net.delivered.clear();
  net.tick_all(10);  // heartbeats
  net.settle();
  size_t rejects = 0;
  for (const Message& m : net.delivered) rejects += m.type == MsgType::kAppendResp && m.reject;
  EXPECT_LE(rejects, 3u);
  EXPECT_EQ(net[0].role(), Role::kFollower);
  EXPECT_EQ(net[0].leader(), Net::id(l));
  EXPECT_EQ(net[0].log().last_index(), net[l].log().last_index());
  EXPECT_EQ(net[0].commit_index(), net[l].commit_index());
  for (uint64_t i = 1; i <= net[l].log().last_index(); ++i) {
    EXPECT_EQ(net[0].log().at(i), net[l].log().at(i)) << i;
  }
}

// Raft §5.4.2 (Figure 8): an entry from an earlier term is not committed by
// counting replicas, even once a majority holds it; it commits only with an
// entry of the leader's own term.
TEST(Raft, DoesNotCommitOldTermEntriesByCounting) {
  Net net(3, [](Config& c) { c.max_entries_per_msg = 1; });
  net.elect(0);  // term 1, noop at 1
  // n1 appends entry 2 (term 1) but nobody gets it.
  net.drop = [](const Message&) { return true; };
  ASSERT_TRUE(net[0].propose("old"));
  // Everyone's clock runs with all messages lost: n1 steps down (check
  // quorum) and the followers' leases expire.
  net.tick_all(60);
  ASSERT_NE(net[0].role(), Role::kLeader);
  net.drop = nullptr;
  net.inflight.clear();
  // n1 wins a later term (its log is the most up to date) and appends its
  // noop at 3. Entries go one per message, so the followers get the term-1
  // entry 2 before the noop: a majority then holds entry 2, yet counting
  // replicas must not commit it (§5.4.2); it commits with the noop.
  net[0].campaign();
  std::vector<uint64_t> commits;
  net.flush();
  while (net.deliver_one()) commits.push_back(net[0].commit_index());
  ASSERT_EQ(net[0].role(), Role::kLeader);
  ASSERT_GT(net[0].term(), 1u);
  ASSERT_EQ(net[0].log().term_at(3), net[0].term());
  EXPECT_EQ(std::count(commits.begin(), commits.end(), 2u), 0);
  EXPECT_EQ(net[0].commit_index(), 3u);
}

// Persist before send: a granted vote leaves in the same Ready as the hard
// state recording it.
TEST(Raft, VoteIsInTheSameReadyAsItsHardState) {
  // Deliver a campaign by hand, inspecting every Ready of every voter.
  Net net(3);
  net[0].campaign();
  net.flush();
  while (!net.inflight.empty()) {
    Message m = net.inflight.front();
    net.inflight.pop_front();
    int to = Net::idx(m.to);
    net[to].step(m);
    if (!net[to].has_ready()) continue;
    Ready rd = net[to].ready();
    for (const Message& out : rd.messages) {
      if (out.type == MsgType::kVoteResp && !out.reject) {
        ASSERT_TRUE(rd.hard_state.has_value());
        EXPECT_EQ(rd.hard_state->vote, out.to);
        EXPECT_EQ(rd.hard_state->term, out.term);
      }
      net.inflight.push_back(out);
    }
    net[to].advance(rd);
    net.flush();
  }
  EXPECT_EQ(net[0].role(), Role::kLeader);
}

// Two appends stepped before one Ready, the second from a newer leader
// overwriting the first's entries: the Ready persists only the newer
// entries, so the ack of the older ones must not leave with it (it would
// claim entries this server never holds; simulation seed 302038).
TEST(Raft, AnAckOfEntriesOverwrittenBeforeTheReadyIsNotSent) {
  Net net(3);
  Raft& f = net[1];
  auto append = [](uint64_t term, const NodeId& from, std::vector<Entry> entries) {
    return Message{.type = MsgType::kAppend,
                   .from = from,
                   .to = "n2",
                   .term = term,
                   .entries = std::move(entries)};
  };
  f.step(append(1, "n1", {{1, 1, EntryType::kNormal, "a"}, {1, 2, EntryType::kNormal, "b"}}));
  f.step(append(2, "n3", {{2, 1, EntryType::kNormal, "c"}}));
  Ready rd = f.ready();
  ASSERT_EQ(rd.entries.size(), 1u);
  EXPECT_EQ(rd.entries[0].term, 2u);
  std::vector<std::pair<NodeId, uint64_t>> acks;
  for (const Message& m : rd.messages) {
    if (m.type == MsgType::kAppendResp && !m.reject) acks.emplace_back(m.to, m.index);
  }
  EXPECT_EQ(acks, (std::vector<std::pair<NodeId, uint64_t>>{{"n3", 1}}));
}

// ReadIndex: no read state until a quorum has answered a heartbeat sent
// after the read arrived; then it names an index covering every write the
// leader accepted.
TEST(Raft, ReadIndexWaitsForAHeartbeatQuorum) {
  Net net(3);
  net.elect(0);
  net[0].propose("w");
  net.settle();
  net.drop = [](const Message& m) { return m.type == MsgType::kHeartbeatResp; };
  ASSERT_TRUE(net[0].read_index(42));
  net.settle();
  Ready rd = net[0].ready();
  EXPECT_TRUE(rd.read_states.empty());
  net[0].advance(rd);
  net.drop = nullptr;
  ASSERT_TRUE(net[0].read_index(43));
  std::vector<ReadState> got;
  net.flush();
  while (!net.inflight.empty()) {
    Message m = net.inflight.front();
    net.inflight.pop_front();
    net[Net::idx(m.to)].step(m);
    for (size_t i = 0; i < 3; ++i) {
      while (net[i].has_ready()) {
        Ready r = net[i].ready();
        if (i == 0) got.insert(got.end(), r.read_states.begin(), r.read_states.end());
        for (Message& o : r.messages) net.inflight.push_back(o);
        net[i].advance(r);
      }
    }
  }
  ASSERT_EQ(got.size(), 2u);  // both reads, in order
  EXPECT_EQ(got[0].context, 42u);
  EXPECT_EQ(got[1].context, 43u);
  EXPECT_GE(got[1].index, 2u);
}

TEST(Raft, ReadIndexRefusedByFollowersAndDroppedOnStepDown) {
  Net net(3);
  net.elect(0);
  EXPECT_FALSE(net[1].read_index(1));
  net.drop = [](const Message& m) { return m.from == "n1" || m.to == "n1"; };
  ASSERT_TRUE(net[0].read_index(7));
  // Cut off, the leader steps down (check quorum) and drops the read.
  std::vector<uint64_t> dropped;
  for (int k = 0; k < 200 && net[0].role() == Role::kLeader; ++k) {
    net[0].tick();
    while (net[0].has_ready()) {
      Ready r = net[0].ready();
      dropped.insert(dropped.end(), r.dropped_reads.begin(), r.dropped_reads.end());
      net[0].advance(r);
    }
  }
  EXPECT_NE(net[0].role(), Role::kLeader);
  while (net[0].has_ready()) {
    Ready r = net[0].ready();
    dropped.insert(dropped.end(), r.dropped_reads.begin(), r.dropped_reads.end());
    net[0].advance(r);
  }
  EXPECT_EQ(dropped, std::vector<uint64_t>{7});
}

}  // namespace
}  // namespace raftkv::raft
