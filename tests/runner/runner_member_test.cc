// Unit tests of the member nemesis' parts that need no processes: parsing of
// the nodes' membership replies, the tracked membership, --member-plan and
// the membership options, and the longest write gap.
#include <gtest/gtest.h>

#include "cli.h"
#include "membership.h"
#include "stats.h"

namespace runner {
namespace {

nlohmann::json members_ok(std::vector<std::string> voters, std::vector<std::string> learners,
                          const std::string& leader, int64_t index) {
  return {{"type", "members_ok"},           {"in_reply_to", 1}, {"voters", voters},
          {"learners", learners},           {"leader", leader}, {"config_index", index},
          {"lag", nlohmann::json::object()}};
}

nlohmann::json error_body(int code, const std::string& text) {
  return {{"type", "error"}, {"in_reply_to", 1}, {"code", code}, {"text", text}};
}

MembershipView view(std::vector<std::string> voters, std::vector<std::string> learners,
                    const std::string& leader, int64_t index) {
  std::string err;
  auto v = parse_members_ok(members_ok(voters, learners, leader, index), &err);
  EXPECT_TRUE(v) << err;
  return v.value_or(MembershipView{});
}

TEST(MembersOk, ParsesTheContract) {
  auto body = members_ok({"n1", "n2", "n3"}, {"n4"}, "n2", 7);
  body["lag"] = {{"n4", 123}, {"n1", 0}};
  std::string err;
  auto v = parse_members_ok(body, &err);
  ASSERT_TRUE(v) << err;
  EXPECT_EQ(v->voters, (std::vector<std::string>{"n1", "n2", "n3"}));
  EXPECT_EQ(v->learners, std::vector<std::string>{"n4"});
  EXPECT_EQ(v->leader, "n2");
  EXPECT_EQ(v->config_index, 7);
  EXPECT_EQ(v->lag.at("n4"), 123);
  // A follower: no leader known, no lag.
  body = {{"type", "members_ok"}, {"voters", {"n1"}}, {"leader", ""}};
  v = parse_members_ok(body, &err);
  ASSERT_TRUE(v) << err;
  EXPECT_TRUE(v->leader.empty());
  EXPECT_TRUE(v->lag.empty());
}

TEST(MembersOk, RejectsMalformedReplies) {
  std::string err;
  EXPECT_FALSE(parse_members_ok({{"type", "error"}, {"code", 10}}, &err));
  EXPECT_FALSE(parse_members_ok({{"type", "members_ok"}}, &err));  // no voters
  EXPECT_NE(err.find("voters"), std::string::npos);
  EXPECT_FALSE(parse_members_ok({{"type", "members_ok"}, {"voters", {1, 2}}}, &err));
  EXPECT_FALSE(parse_members_ok({{"type", "members_ok"}, {"voters", {"n1"}}, {"leader", 3}}, &err));
  EXPECT_FALSE(parse_members_ok(
      {{"type", "members_ok"}, {"voters", {"n1"}}, {"lag", {{"n2", "far"}}}}, &err));
  EXPECT_NE(err.find("n2"), std::string::npos);
  EXPECT_FALSE(
      parse_members_ok({{"type", "members_ok"}, {"voters", {"n1"}}, {"config_index", "7"}}, &err));
}

TEST(AdminReply, ClassifiesByContract) {
  AdminReply ok = classify_admin("member_add_ok", nlohmann::json{{"type", "member_add_ok"}});
  EXPECT_EQ(ok.status, AdminStatus::kOk);

  AdminReply hint =
      classify_admin("member_add_ok", error_body(11, "not the leader; the leader is n3"));
  EXPECT_EQ(hint.status, AdminStatus::kRetry);
  EXPECT_EQ(hint.leader_hint, "n3");
  EXPECT_EQ(hint.code, 11);

  AdminReply none = classify_admin("member_add_ok", error_body(11, "no leader known"));
  EXPECT_EQ(none.status, AdminStatus::kRetry);
  EXPECT_TRUE(none.leader_hint.empty());

  EXPECT_EQ(classify_admin("member_promote_ok", error_body(11, "learner not caught up")).status,
            AdminStatus::kRetry);
  EXPECT_EQ(classify_admin("member_add_ok", error_body(22, "already a member")).status,
            AdminStatus::kPrecondition);
  EXPECT_EQ(classify_admin("member_remove_ok", error_body(13, "proposed")).status,
            AdminStatus::kIndefinite);
  AdminReply timeout = classify_admin("member_remove_ok", std::nullopt);
  EXPECT_EQ(timeout.status, AdminStatus::kIndefinite);
  EXPECT_EQ(timeout.text, "timeout");
  // A node without the admin protocol answers 10 (not supported): a failure,
  // not something to retry.
  EXPECT_EQ(classify_admin("members_ok", error_body(10, "unknown type members")).status,
            AdminStatus::kFailed);
  EXPECT_EQ(classify_admin("members_ok", nlohmann::json{{"type", "read_ok"}}).status,
            AdminStatus::kFailed);
  EXPECT_EQ(classify_admin("members_ok", nlohmann::json{{"type", "error"}, {"code", "x"}}).status,
            AdminStatus::kFailed);
}

TEST(AdminReply, LeaderHint) {
  EXPECT_EQ(leader_hint("not the leader; the leader is n12"), "n12");
  EXPECT_EQ(leader_hint("not the leader; the leader is n0 (term 4)"), "n0");
  EXPECT_EQ(leader_hint("no leader known"), "");
  EXPECT_EQ(leader_hint("removed from the cluster"), "");
}

TEST(Tracker, AssumesInitialMembersUntilAView) {
  MembershipTracker t({"n1", "n2", "n3", "n4", "n5"}, {"n1", "n2", "n3"});
  EXPECT_TRUE(t.is_voter("n1"));
  EXPECT_FALSE(t.is_voter("n4"));
  EXPECT_EQ(t.outsiders(), (std::vector<std::string>{"n4", "n5"}));
  EXPECT_TRUE(t.removed().empty());  // n4, n5 were never members
  EXPECT_TRUE(t.removable(3).empty());
  EXPECT_EQ(t.removable(2).size(), 3u);
}

TEST(Tracker, FollowsViewsAndRemembersRemovedNodes) {
  MembershipTracker t({"n1", "n2", "n3", "n4", "n5"}, {"n1", "n2", "n3", "n4", "n5"});
  t.update(view({"n1", "n2", "n3", "n4", "n5"}, {}, "n2", 1), true);
  EXPECT_EQ(t.leader(), "n2");
  EXPECT_EQ(t.transfer_targets(), (std::vector<std::string>{"n1", "n3", "n4", "n5"}));
  t.update(view({"n1", "n3", "n4", "n5"}, {}, "n1", 3), true);
  EXPECT_EQ(t.removed(), std::vector<std::string>{"n2"});
  EXPECT_TRUE(t.was_member("n2"));
  EXPECT_EQ(t.outsiders(), std::vector<std::string>{"n2"});
  EXPECT_EQ(t.removable(3).size(), 4u);
  // An add acknowledged before the next view.
  t.set_learner("n2");
  EXPECT_TRUE(t.is_learner("n2"));
  EXPECT_TRUE(t.outsiders().empty());
  EXPECT_TRUE(t.removed().empty());
  EXPECT_EQ(t.voters(), (std::vector<std::string>{"n1", "n3", "n4", "n5"}));
}

TEST(Tracker, IgnoresStaleViewsExceptTheLeaders) {
  MembershipTracker t({"n1", "n2", "n3"}, {"n1", "n2", "n3"});
  t.update(view({"n1", "n2"}, {}, "n1", 5));
  t.update(view({"n1", "n2", "n3"}, {}, "", 4));  // a lagging follower
  EXPECT_EQ(t.voters(), (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(t.leader(), "n1");
  // The leader's view wins even at a lower index: the higher one was an
  // entry that never committed.
  t.update(view({"n1", "n2", "n3"}, {}, "n3", 4), true);
  EXPECT_EQ(t.voters().size(), 3u);
  EXPECT_EQ(t.leader(), "n3");
}

TEST(MemberPlan, ParsesAndSortsSteps) {
  std::vector<std::string> nodes{"n1", "n2", "n3", "n4", "n5"};
  std::string err;
  auto plan = parse_member_plan("30:remove:leader,10:add:n4,10:add:n5,30:remove:any,40:transfer:n1",
                                nodes, &err);
  ASSERT_TRUE(plan) << err;
  ASSERT_EQ(plan->size(), 5u);
  EXPECT_EQ((*plan)[0].node, "n4");  // stable: same-time steps keep their order
  EXPECT_EQ((*plan)[1].node, "n5");
  EXPECT_EQ((*plan)[2].action, "remove");
  EXPECT_EQ((*plan)[2].node, "leader");
  EXPECT_EQ((*plan)[3].node, "any");
  EXPECT_DOUBLE_EQ((*plan)[4].at_s, 40);
  EXPECT_TRUE(parse_member_plan("2.5:transfer:any", nodes, &err));
}

TEST(MemberPlan, RejectsBadSteps) {
  std::vector<std::string> nodes{"n1", "n2", "n3"};
  std::string err;
  for (const char* bad : {"10:add", "x:add:n1", "-1:add:n1", "10:grow:n1", "10:add:n9",
                          "10:add:leader", "10:transfer:leader", "10:add:n1,", ""}) {
    EXPECT_FALSE(parse_member_plan(bad, nodes, &err)) << bad;
    EXPECT_NE(err.find("--member-plan"), std::string::npos) << err;
  }
}

std::vector<std::string> args(std::vector<std::string> extra) {
  std::vector<std::string> a{"--bin", "/bin/true"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

TEST(MemberCli, MemberNemesisAndInitialMembers) {
  std::string err;
  auto o =
      parse_test_args(args({"--nemesis", "member,partition,kill", "--initial-members", "3"}), &err);
  ASSERT_TRUE(o) << err;
  EXPECT_TRUE(o->nemesis.count("member"));
  EXPECT_EQ(o->initial_members, 3);
  o = parse_test_args(args({"--member-plan", "10:add:n4,30:remove:leader"}), &err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->member_plan.size(), 2u);
  EXPECT_EQ(o->initial_members, 0);  // all nodes
}

TEST(MemberCli, RejectsBadMembershipOptions) {
  std::string err;
  EXPECT_FALSE(parse_test_args(args({"--initial-members", "6"}), &err));
  EXPECT_NE(err.find("more than the 5 nodes"), std::string::npos) << err;
  EXPECT_FALSE(parse_test_args(args({"--initial-members", "0"}), &err));
  EXPECT_FALSE(parse_test_args(args({"--member-plan", "10:add:n0"}), &err));  // n1..n5
  EXPECT_NE(err.find("no node 'n0'"), std::string::npos) << err;
  EXPECT_FALSE(parse_test_args(args({"--nemesis", "members"}), &err));
  EXPECT_FALSE(parse_test_args(args({"--nemesis", "member", "--net", "netns"}), &err));
  EXPECT_NE(err.find("not supported with --net netns"), std::string::npos) << err;
  EXPECT_FALSE(parse_test_args(args({"--initial-members", "3", "--net", "netns"}), &err));
}

OpRecord op(lin::Fn f, lin::EventType type, double complete_s, bool final_read = false) {
  OpRecord r;
  r.f = f;
  r.type = type;
  r.invoke_ns = static_cast<int64_t>(complete_s * 1e9) - 1'000'000;
  r.complete_ns = static_cast<int64_t>(complete_s * 1e9);
  r.final_read = final_read;
  return r;
}

TEST(WriteGap, LongestStretchWithoutAnOkWrite) {
  using lin::EventType;
  using lin::Fn;
  std::vector<OpRecord> ops{
      op(Fn::kWrite, EventType::kOk, 1.0),   op(Fn::kCas, EventType::kOk, 1.5),
      op(Fn::kRead, EventType::kOk, 3.0),     // reads do not count
      op(Fn::kWrite, EventType::kFail, 3.5),  // nor failed writes
      op(Fn::kWrite, EventType::kInfo, 3.6), op(Fn::kWrite, EventType::kOk, 4.5),
      op(Fn::kWrite, EventType::kOk, 5.0)};
  WriteGap g = longest_write_gap(ops, 0, 5.5);
  EXPECT_NEAR(g.ms, 3000, 1e-6);
  EXPECT_NEAR(g.from_s, 1.5, 1e-9);
  EXPECT_NEAR(g.to_s, 4.5, 1e-9);
  EXPECT_EQ(g.ok_writes, 4);
  // The window's ends count: nothing ok from 5.0 to 9.0.
  g = longest_write_gap(ops, 2, 9);
  EXPECT_NEAR(g.ms, 4000, 1e-6);
  EXPECT_NEAR(g.from_s, 5.0, 1e-9);
  // No writes at all: the whole window.
  g = longest_write_gap({op(Fn::kRead, EventType::kOk, 1)}, 0, 2);
  EXPECT_NEAR(g.ms, 2000, 1e-6);
  EXPECT_EQ(g.ok_writes, 0);
  RunStats s = compute_stats(ops, NetStats{}, 6, 1, 5.5);
  EXPECT_NEAR(s.write_gap.ms, 3000, 1e-6);
  EXPECT_NEAR(s.steady_write_gap.ms, 3000, 1e-6);
}

}  // namespace
}  // namespace runner
