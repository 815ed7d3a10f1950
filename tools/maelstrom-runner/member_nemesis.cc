#include "member_nemesis.h"

#include <fmt/format.h>

#include <algorithm>

#include "clock.h"
#include "random_pick.h"

namespace runner {
namespace {

constexpr int64_t kRetryGap = 200 * kMs;  // between refused admin attempts
constexpr int64_t kHintGap = 20 * kMs;    // before asking the leader we were pointed at
constexpr int64_t kViewDeadline = 5 * kSec;

// Refusals that mean "ask someone else": the node does not lead (or no
// longer belongs to the cluster).
bool wrong_node(const AdminReply& r) {
  return r.code < 0 || r.text.find("not the leader") != std::string::npos ||
         r.text.find("no leader") != std::string::npos ||
         r.text.find("removed") != std::string::npos;
}

}  // namespace

MemberTimings default_member_timings() {
  return {2 * kSec, 10 * kSec, 15 * kSec, 100, 3};
}

MemberNemesis::MemberNemesis(EventLoop& loop, Network& net, std::mt19937_64& rng,
                             ClusterControl& cluster, HistoryLog& history,
                             MembershipTracker& tracker, const std::string& client_id,
                             MemberTimings timings)
    : loop_(loop),
      rng_(rng),
      cluster_(cluster),
      history_(history),
      tracker_(tracker),
      t_(timings),
      client_(std::make_unique<Client>(loop, net, client_id)) {}

void MemberNemesis::enqueue(std::string what, Action action) {
  queue_.emplace_back(std::move(what), std::move(action));
  run_next();
}

void MemberNemesis::run_next() {
  if (busy_ || queue_.empty()) return;
  auto [what, action] = std::move(queue_.front());
  queue_.pop_front();
  busy_ = true;
  current_ = what;
  action([this] {
    busy_ = false;
    current_.clear();
    loop_.after(0, [this] { run_next(); });
  });
}

void MemberNemesis::random_action() {
  if (stopped_) return;
  if (!idle()) {
    ++skipped_;  // one change at a time
    return;
  }
  enqueue("choosing", [this](Done done) { choose_random(std::move(done)); });
}

void MemberNemesis::schedule_plan(const std::vector<PlanStep>& plan, int64_t t0_ns) {
  for (const PlanStep& step : plan) {
    loop_.at(t0_ns + static_cast<int64_t>(step.at_s * kSec), [this, step] {
      if (stopped_) return;
      enqueue(step.action + " " + step.node,
              [this, step](Done done) { run_step(step, std::move(done)); });
    });
  }
}

std::string MemberNemesis::pick_target() {
  const std::string& leader = tracker_.leader();
  const auto& nodes = tracker_.nodes();
  if (!leader.empty() && std::find(nodes.begin(), nodes.end(), leader) != nodes.end())
    return leader;
  auto voters = tracker_.voters();
  const auto& pool = voters.empty() ? nodes : voters;
  return pool[rotate_++ % pool.size()];
}

void MemberNemesis::admin(nlohmann::json body, const std::string& ok_type, int64_t deadline,
                          AdminDone done) {
  std::string node = pick_target();
  auto wire = raftkv::maelstrom::Json::parse(body.dump());
  client_->rpc(
      node, wire, t_.rpc_timeout_ns,
      [this, body, ok_type, deadline, done, node](const std::optional<Message>& reply) {
        std::optional<nlohmann::json> b;
        if (reply) b = nlohmann::json::parse(reply->body.dump());
        AdminReply r = classify_admin(ok_type, b);
        r.from = node;
        if (!r.leader_hint.empty() && r.leader_hint != node) {
          tracker_.set_leader(r.leader_hint);
        } else if (wrong_node(r) && tracker_.leader() == node) {
          tracker_.set_leader("");  // rotate to another node
        }
        // A query that timed out is simply asked again elsewhere; a
        // change that timed out may have happened, so the caller
        // re-checks instead.
        bool query = ok_type == "members_ok";
        bool again =
            r.status == AdminStatus::kRetry || (query && r.status == AdminStatus::kIndefinite);
        int64_t gap = r.leader_hint.empty() || r.leader_hint == node ? kRetryGap : kHintGap;
        if (!again || mono_ns() + gap >= deadline) return done(r);
        loop_.after(
            gap, [this, body, ok_type, deadline, done] { admin(body, ok_type, deadline, done); });
      });
}

void MemberNemesis::refresh(int64_t deadline_ns, std::function<void(bool)> done) {
  admin({{"type", "members"}}, "members_ok", deadline_ns,
        [this, deadline_ns, done](const AdminReply& r) {
          if (r.status != AdminStatus::kOk) return done(false);
          std::string error;
          auto view = parse_members_ok(r.body, &error);
          if (!view) {
            ++counts_["members"]["malformed"];
            return done(false);
          }
          bool from_leader = !view->leader.empty() && view->leader == r.from;
          tracker_.update(*view, from_leader);
          // Only the leader knows how far behind the others are.
          if (from_leader || mono_ns() + kRetryGap >= deadline_ns) return done(true);
          // Ask the leader it names next, even if its view was too old to
          // keep; none named: the next node.
          tracker_.set_leader(view->leader);
          if (view->leader.empty()) ++rotate_;
          loop_.after(view->leader.empty() ? kRetryGap : kHintGap,
                      [this, deadline_ns, done] { refresh(deadline_ns, done); });
        });
}

void MemberNemesis::logged_admin(const std::string& node, nlohmann::json body, AdminDone done) {
  std::string op = body["type"];
  int64_t began = mono_ns();
  current_ = op + " " + node;
  history_.nemesis("start-member",
                   {{"spec", current_}, {"op", op}, {"node", node}, {"nodes", {node}}});
  admin(body, op + "_ok", began + t_.admin_deadline_ns,
        [this, op, node, began, done](const AdminReply& r) {
          std::string outcome = to_string(r.status);
          ++counts_[op][outcome];
          nlohmann::json v = {{"op", op},
                              {"node", node},
                              {"outcome", outcome},
                              {"via", r.from},
                              {"ms", (mono_ns() - began) / 1e6}};
          if (r.status != AdminStatus::kOk)
            v["error"] = r.code >= 0 ? fmt::format("error {}: {}", r.code, r.text) : r.text;
          history_.nemesis("stop-member", v);
          done(r);
        });
}

void MemberNemesis::settle(Done done) {
  refresh(mono_ns() + kViewDeadline, [done](bool) { done(); });
}

void MemberNemesis::choose_random(Done done) {
  refresh(mono_ns() + kViewDeadline, [this, done](bool ok) {
    if (!ok) {
      ++counts_["members"]["no-view"];
      return done();
    }
    // Weighted so that removals dominate while every node is in, and
    // re-adds once some are out: the cluster keeps shrinking and growing.
    std::vector<std::string> kinds;
    std::vector<std::string> back = tracker_.view().learners;  // stuck earlier: finish them
    if (back.empty()) back = tracker_.outsiders();
    if (!back.empty()) kinds.insert(kinds.end(), {"readd", "readd", "readd"});
    auto removable = tracker_.removable(t_.min_voters);
    if (!removable.empty()) kinds.insert(kinds.end(), back.empty() ? 2 : 1, "remove");
    auto targets = tracker_.transfer_targets();
    if (!tracker_.leader().empty() && !targets.empty()) kinds.push_back("transfer");
    const MembershipView& v = tracker_.view();
    std::string kind = kinds.empty() ? "none" : pick(kinds, rng_);
    // What the choice was made from, for reading the log afterwards.
    history_.nemesis("member-pick", {{"kind", kind},
                                     {"voters", v.voters},
                                     {"learners", v.learners},
                                     {"leader", v.leader},
                                     {"config-index", v.config_index}});
    if (kinds.empty()) {
      ++skipped_;
      return done();
    }
    if (kind == "readd") return readd(pick(back, rng_), done);
    if (kind == "remove") return remove(pick(removable, rng_), done);
    transfer(pick(targets, rng_), done);
  });
}

void MemberNemesis::run_step(const PlanStep& step, Done done) {
  refresh(mono_ns() + kViewDeadline, [this, step, done](bool) {
    std::string node = step.node;
    if (node == "leader") node = tracker_.leader();
    if (node == "any") {
      auto others = tracker_.transfer_targets();  // voters but the leader
      node = others.empty() ? "" : pick(others, rng_);
    }
    if (node.empty()) {
      ++counts_["plan"]["unresolved"];
      history_.nemesis("member-plan-skipped",
                       {{"step", step.action + " " + step.node}, {"why", "no such node now"}});
      return done();
    }
    if (step.action == "add") return readd(node, done);
    if (step.action == "remove") return remove(node, done);
    transfer(node, done);
  });
}

void MemberNemesis::remove(const std::string& node, Done done) {
  logged_admin(node, {{"type", "member_remove"}, {"node", node}},
               [this, node, done](const AdminReply& r) {
                 // A removed leader hands over; find out to whom.
                 if (r.status == AdminStatus::kOk && tracker_.leader() == node)
                   tracker_.set_leader("");
                 settle(done);
               });
}

void MemberNemesis::transfer(const std::string& node, Done done) {
  logged_admin(node, {{"type", "transfer_leader"}, {"node", node}},
               [this, node, done](const AdminReply& r) {
                 if (r.status == AdminStatus::kOk) tracker_.set_leader(node);
                 settle(done);
               });
}

void MemberNemesis::readd(const std::string& node, Done done) {
  if (tracker_.is_voter(node)) return done();
  if (tracker_.is_learner(node))
    return await_caught_up(node, mono_ns() + t_.catch_up_deadline_ns,
                           [this, node, done] { promote(node, done); });
  // A node that held (or may have held) cluster state comes back as a new
  // machine: no data, --join.
  if (tracker_.was_member(node) || touched_.count(node)) {
    std::string error;
    bool ok = cluster_.replace(node, &error);
    ++replaced_;
    replaced_nodes_.insert(node);
    nlohmann::json v = {{"node", node}, {"ok", ok}};
    if (!ok) v["error"] = error;
    history_.nemesis("member-replace", v);
    if (!ok) return done();
  }
  add_learner(node, done);
}

void MemberNemesis::add_learner(const std::string& node, Done done) {
  touched_.insert(node);
  logged_admin(node, {{"type", "member_add"}, {"node", node}, {"learner", true}},
               [this, node, done](const AdminReply& r) {
                 auto next = [this, node, done] {
                   if (!tracker_.is_learner(node)) return done();
                   await_caught_up(node, mono_ns() + t_.catch_up_deadline_ns,
                                   [this, node, done] { promote(node, done); });
                 };
                 if (r.status == AdminStatus::kOk) tracker_.set_learner(node);
                 // Whatever the answer, the leader's view says whether it is in.
                 settle(next);
               });
}

void MemberNemesis::await_caught_up(const std::string& node, int64_t deadline, Done done) {
  current_ = "catch-up " + node;
  poll_caught_up(node, mono_ns(), deadline, std::move(done));
}

void MemberNemesis::poll_caught_up(const std::string& node, int64_t began, int64_t deadline,
                                   Done done) {
  refresh(std::min(deadline, mono_ns() + kViewDeadline), [=, this](bool) {
    const MembershipView& v = tracker_.view();
    auto lag = v.lag.find(node);
    bool from_leader = !v.leader.empty() && lag != v.lag.end();
    bool caught = from_leader && lag->second <= t_.catch_up_lag;
    bool gone = !tracker_.is_learner(node);
    if (!caught && !gone && mono_ns() < deadline) {
      loop_.after(kRetryGap, [=, this] { poll_caught_up(node, began, deadline, done); });
      return;
    }
    history_.nemesis("member-caught-up",
                     {{"node", node},
                      {"caught-up", caught},
                      {"still-learner", !gone},
                      {"lag", lag == v.lag.end() ? nlohmann::json() : nlohmann::json(lag->second)},
                      {"waited-ms", (mono_ns() - began) / 1e6}});
    done();
  });
}

void MemberNemesis::promote(const std::string& node, Done done) {
  if (!tracker_.is_learner(node)) {
    // E.g. a deposed leader's older view won; a later pick finishes it.
    history_.nemesis("member-skipped",
                     {{"step", "member_promote " + node}, {"why", "not a learner in the view"}});
    return done();
  }
  logged_admin(node, {{"type", "member_promote"}, {"node", node}},
               [this, node, done](const AdminReply& r) {
                 if (r.status == AdminStatus::kOk) {
                   ++promoted_;
                   readded_ += replaced_nodes_.count(node);
                 }
                 settle(done);
               });
}

nlohmann::json MemberNemesis::summary() const {
  const MembershipView& v = tracker_.view();
  auto ok = [this](const std::string& op) {
    auto it = counts_.find(op);
    if (it == counts_.end()) return int64_t{0};
    auto o = it->second.find("ok");
    return o == it->second.end() ? int64_t{0} : o->second;
  };
  return {{"removed", ok("member_remove")},
          {"promoted", promoted_},
          {"readded", readded_},
          {"replaced", replaced_},
          {"transfers", ok("transfer_leader")},
          {"skipped", skipped_},
          {"ops", counts_},
          {"final",
           {{"voters", v.voters},
            {"learners", v.learners},
            {"leader", v.leader},
            {"config-index", v.config_index}}}};
}

}  // namespace runner
