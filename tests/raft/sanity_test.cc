// Field sanity in the Raft core (issue 11): a message whose term is at the
// top of its range, or an append whose entries are not a well-formed log
// suffix, is refused (dropped, counted, logged), never obeyed. Before, an
// hb with term 2^64-1 wrapped the term to 0 at the next election and an app
// with decreasing entry terms was persisted; both made every restart
// fail-stop with "term goes backwards".
#include <gtest/gtest.h>

#include "raft/raft.h"

namespace raftkv::raft {
namespace {

Raft follower() {
  Config c;
  c.id = "n1";
  c.voters = {"n1", "n2", "n3"};
  c.seed = 1;
  return Raft(c, Restored{});
}

std::vector<Entry> drain(Raft& r) {
  std::vector<Entry> persisted;
  while (r.has_ready()) {
    Ready rd = r.ready();
    persisted.insert(persisted.end(), rd.entries.begin(), rd.entries.end());
    r.advance(rd);
  }
  return persisted;
}

Message append(uint64_t term, uint64_t index, uint64_t log_term, std::vector<Entry> entries) {
  return Message{.type = MsgType::kAppend,
                 .from = "n2",
                 .to = "n1",
                 .term = term,
                 .log_term = log_term,
                 .index = index,
                 .entries = std::move(entries)};
}

TEST(Sanity, TopOfRangeTermIsRefusedNotAdopted) {
  for (uint64_t term : {UINT64_MAX, UINT64_MAX - 1, Raft::kMaxTerm + 1}) {
    SCOPED_TRACE(term);
    Raft r = follower();
    r.step(Message{.type = MsgType::kHeartbeat, .from = "n2", .to = "n1", .term = term});
    EXPECT_EQ(r.term(), 0u);
    EXPECT_EQ(r.leader(), "");
    EXPECT_EQ(r.refused(), 1u);
    EXPECT_TRUE(drain(r).empty());
    // And an election afterwards starts from the real term, not a wrapped one.
    for (int i = 0; i < 100 && r.role() == Role::kFollower; ++i) r.tick();
    drain(r);
    EXPECT_LE(r.term(), 1u);
  }
}

TEST(Sanity, TermAtTheCeilingIsStillObeyed) {
  Raft r = follower();
  r.step(Message{.type = MsgType::kHeartbeat, .from = "n2", .to = "n1", .term = Raft::kMaxTerm});
  EXPECT_EQ(r.term(), Raft::kMaxTerm);
  EXPECT_EQ(r.refused(), 0u);
}

TEST(Sanity, MalformedAppendsAreRefusedAndNothingIsPersisted) {
  struct Case {
    const char* name;
    Message m;
  };
  const Case cases[] = {
      {"entry terms decrease",
       append(3, 0, 0, {{3, 1, EntryType::kNormal, "a"}, {2, 2, EntryType::kNormal, "b"}})},
      {"entry term below prev log term", append(3, 0, 2, {{1, 1, EntryType::kNormal, "a"}})},
      {"entry term above the message term", append(3, 0, 0, {{4, 1, EntryType::kNormal, "a"}})},
      {"prev log term above the message term", append(3, 0, 4, {})},
      {"indexes not contiguous",
       append(3, 0, 0, {{3, 1, EntryType::kNormal, "a"}, {3, 3, EntryType::kNormal, "b"}})},
      {"indexes not from index+1", append(3, 0, 0, {{3, 2, EntryType::kNormal, "a"}})},
      {"indexes overflow", append(3, UINT64_MAX, 0, {})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Raft r = follower();
    r.step(c.m);
    EXPECT_EQ(r.refused(), 1u);
    EXPECT_EQ(r.term(), 0u);  // not even the term is taken from it
    EXPECT_EQ(r.log().last_index(), 0u);
    EXPECT_TRUE(drain(r).empty());
  }
}

TEST(Sanity, WellFormedAppendIsObeyed) {
  Raft r = follower();
  r.step(append(3, 0, 0, {{1, 1, EntryType::kNormal, "a"}, {3, 2, EntryType::kNormal, "b"}}));
  EXPECT_EQ(r.refused(), 0u);
  EXPECT_EQ(r.term(), 3u);
  EXPECT_EQ(drain(r).size(), 2u);
  EXPECT_EQ(r.log().last_index(), 2u);
}

}  // namespace
}  // namespace raftkv::raft
