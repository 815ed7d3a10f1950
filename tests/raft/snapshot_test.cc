// InstallSnapshot as Raft sees it: chunks are stepped like any message, the
// term and leader checks happen here, and the install comes out of a Ready.
#include <gtest/gtest.h>

#include "raft/raft.h"

namespace raftkv::raft {
namespace {

// A follower n2 of a 3-node cluster whose durable state is term `term`,
// with leader `leader` known from a heartbeat of that term.
std::unique_ptr<Raft> follower(uint64_t term, const NodeId& leader) {
  Config c;
  c.id = "n2";
  c.voters = {"n1", "n2", "n3"};
  Restored r;
  r.hard_state.term = term;
  auto raft = std::make_unique<Raft>(c, r);
  if (!leader.empty()) {
    raft->step(Message{.type = MsgType::kHeartbeat, .from = leader, .to = "n2", .term = term});
  }
  raft->advance(raft->ready());
  return raft;
}

Message chunk(const NodeId& from, uint64_t term, uint64_t seq, bool last, uint64_t index = 50) {
  Message m{.type = MsgType::kSnapshotChunk,
            .from = from,
            .to = "n2",
            .term = term,
            .log_term = 2,
            .index = index,
            .context = seq};
  m.last = last;
  m.data = "chunk" + std::to_string(seq);
  // The first chunk carries the configuration at the snapshot point.
  if (seq == 0) m.config = Membership::of_voters({"n1", "n2", "n3", "n4"}).encode();
  return m;
}

const Message* find(const Ready& rd, MsgType t) {
  for (const Message& m : rd.messages) {
    if (m.type == t) return &m;
  }
  return nullptr;
}

TEST(Snapshot, AFirstChunkWithoutAConfigurationIsRefused) {
  auto r = follower(3, "n1");
  Message m = chunk("n1", 3, 0, true);
  m.config.clear();
  r->step(m);
  Ready rd = r->ready();
  EXPECT_TRUE(rd.snapshot_chunks.empty());
  const Message* ack = find(rd, MsgType::kSnapshotResp);
  ASSERT_NE(ack, nullptr);
  EXPECT_TRUE(ack->reject);
}

TEST(Snapshot, ChunksFromTheLeaderAreStagedThenInstalled) {
  auto r = follower(3, "n1");
  r->step(chunk("n1", 3, 0, false));
  Ready rd = r->ready();
  ASSERT_EQ(rd.snapshot_chunks.size(), 1u);
  EXPECT_EQ(rd.snapshot_chunks[0].from, "n1");
  EXPECT_EQ(rd.snapshot_chunks[0].leader_term, 3u);
  EXPECT_FALSE(rd.install_snapshot);
  const Message* ack = find(rd, MsgType::kSnapshotResp);
  ASSERT_NE(ack, nullptr);
  EXPECT_FALSE(ack->reject);
  r->advance(rd);

  r->step(chunk("n1", 3, 1, true));
  rd = r->ready();
  ASSERT_EQ(rd.snapshot_chunks.size(), 1u);
  ASSERT_TRUE(rd.install_snapshot);
  EXPECT_EQ(rd.install_snapshot->index, 50u);
  EXPECT_EQ(rd.install_snapshot->term, 2u);
  EXPECT_EQ(rd.install_snapshot->hard_state.commit, 50u);
  EXPECT_EQ(r->commit_index(), 50u);
  // The configuration came with it.
  EXPECT_TRUE(r->membership().is_voter("n4"));
  EXPECT_EQ(rd.snapshot_chunks[0].config, "");  // only the first chunk carries it
  EXPECT_EQ(r->log().base_term(), 2u);
  const Message* resp = find(rd, MsgType::kAppendResp);
  ASSERT_NE(resp, nullptr);
  EXPECT_EQ(resp->index, 50u);
}

TEST(Snapshot, ADeposedLeadersChunkIsRefusedAndTellsItTheTerm) {
  auto r = follower(4, "n3");
  r->step(chunk("n1", 3, 0, true));
  Ready rd = r->ready();
  EXPECT_TRUE(rd.snapshot_chunks.empty());
  EXPECT_FALSE(rd.install_snapshot);
  const Message* resp = find(rd, MsgType::kSnapshotResp);
  ASSERT_NE(resp, nullptr);
  EXPECT_TRUE(resp->reject);
  EXPECT_EQ(resp->term, 4u);
  EXPECT_EQ(r->leader(), "n3");
}

TEST(Snapshot, AChunkFromAnotherServerThanTheTermsLeaderIsRefused) {
  auto r = follower(3, "n1");
  r->step(chunk("n3", 3, 0, true));
  Ready rd = r->ready();
  EXPECT_TRUE(rd.snapshot_chunks.empty());
  EXPECT_FALSE(rd.install_snapshot);
  EXPECT_EQ(r->leader(), "n1");
}

TEST(Snapshot, ChunksOutOfOrderAbortTheTransfer) {
  auto r = follower(3, "n1");
  r->step(chunk("n1", 3, 0, false));
  r->advance(r->ready());
  r->step(chunk("n1", 3, 2, true));  // chunk 1 was lost
  Ready rd = r->ready();
  EXPECT_TRUE(rd.snapshot_chunks.empty());
  EXPECT_FALSE(rd.install_snapshot);
  const Message* resp = find(rd, MsgType::kSnapshotResp);
  ASSERT_NE(resp, nullptr);
  EXPECT_TRUE(resp->reject);
}

// (A repeated chunk 0 restarts the transfer instead: that is how a leader
// retries after a timeout.)
TEST(Snapshot, ADuplicateChunkIsNeitherStagedTwiceNorRefused) {
  auto r = follower(3, "n1");
  r->step(chunk("n1", 3, 0, false));
  r->step(chunk("n1", 3, 1, false));
  r->advance(r->ready());
  r->step(chunk("n1", 3, 1, false));
  Ready rd = r->ready();
  EXPECT_TRUE(rd.snapshot_chunks.empty());
  EXPECT_EQ(find(rd, MsgType::kSnapshotResp), nullptr);
}

TEST(Snapshot, ASnapshotNoNewerThanTheCommitIndexIsNotInstalled) {
  auto r = follower(3, "n1");
  // Entries 1..60 committed through appends.
  std::vector<Entry> ents;
  for (uint64_t i = 1; i <= 60; ++i) ents.push_back(Entry{3, i, EntryType::kNormal, "x"});
  r->step(Message{.type = MsgType::kAppend,
                  .from = "n1",
                  .to = "n2",
                  .term = 3,
                  .commit = 60,
                  .entries = ents});
  r->advance(r->ready());
  ASSERT_EQ(r->commit_index(), 60u);
  r->step(chunk("n1", 3, 0, true, 50));
  Ready rd = r->ready();
  EXPECT_FALSE(rd.install_snapshot);
  EXPECT_EQ(r->commit_index(), 60u);
  EXPECT_EQ(r->log().last_index(), 60u);
}

// Found by the simulation (seed 370, skew, 5 nodes): an append carried
// entries past the snapshot point in the same Ready as its last chunk; the
// install discarded them but their acknowledgement still went out.
TEST(Snapshot, AMatchingLogIsKeptAndOnlyTheCommitIndexMoves) {
  auto r = follower(3, "n1");
  std::vector<Entry> ents;
  for (uint64_t i = 1; i <= 60; ++i) ents.push_back(Entry{3, i, EntryType::kNormal, "x"});
  r->step(Message{.type = MsgType::kAppend,
                  .from = "n1",
                  .to = "n2",
                  .term = 3,
                  .commit = 40,
                  .entries = ents});
  Message c = chunk("n1", 3, 0, true, 50);
  c.log_term = 3;
  r->step(c);
  Ready rd = r->ready();
  EXPECT_FALSE(rd.install_snapshot);
  EXPECT_EQ(r->commit_index(), 50u);
  EXPECT_EQ(r->log().last_index(), 60u);
  for (const Message& m : rd.messages) {
    if (m.type == MsgType::kAppendResp) {
      EXPECT_LE(m.index, 60u);
    }
  }
}

TEST(Snapshot, AnInstallWithdrawsAcksOfEntriesItDiscards) {
  auto r = follower(3, "n1");
  std::vector<Entry> ents;
  for (uint64_t i = 1; i <= 60; ++i) ents.push_back(Entry{2, i, EntryType::kNormal, "x"});
  r->step(Message{.type = MsgType::kAppend,
                  .from = "n1",
                  .to = "n2",
                  .term = 3,
                  .commit = 10,
                  .entries = ents});
  // A snapshot whose last entry conflicts with ours: the log is replaced.
  Message c = chunk("n1", 3, 0, true, 50);
  c.log_term = 3;
  r->step(c);
  Ready rd = r->ready();
  ASSERT_TRUE(rd.install_snapshot);
  EXPECT_TRUE(rd.entries.empty());
  uint64_t highest_ack = 0;
  for (const Message& m : rd.messages) {
    if (m.type == MsgType::kAppendResp && !m.reject) highest_ack = std::max(highest_ack, m.index);
  }
  EXPECT_LE(highest_ack, 50u) << "acks a discarded entry";
}

}  // namespace
}  // namespace raftkv::raft
