// Membership changes as faults (--nemesis member) and as a fixed schedule
// (--member-plan): removes voters, re-adds nodes as a replacement machine
// would (wiped data dir, --join, learner, caught up, promoted), moves
// leadership. One change at a time; each admin request goes to the leader
// the runner knows, follows "the leader is nX" hints and retries until its
// deadline. Every change is a start-member/stop-member pair in the nemesis
// log, so plots and the report show it like any other fault.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "client.h"
#include "history_log.h"
#include "membership.h"
#include "nemesis.h"

namespace runner {

struct MemberTimings {
  int64_t rpc_timeout_ns;        // one admin request
  int64_t admin_deadline_ns;     // one admin operation, retries included
  int64_t catch_up_deadline_ns;  // a new learner's wait before promotion
  int64_t catch_up_lag;          // "caught up": entries behind the leader
  size_t min_voters;             // removals never go below this
};
MemberTimings default_member_timings();

class MemberNemesis {
 public:
  MemberNemesis(EventLoop& loop, Network& net, std::mt19937_64& rng, ClusterControl& cluster,
                HistoryLog& history, MembershipTracker& tracker, const std::string& client_id,
                MemberTimings timings = default_member_timings());

  // One random change (remove, re-add or transfer); skipped while one runs.
  void random_action();
  // Queues each planned step at t0 + its time.
  void schedule_plan(const std::vector<PlanStep>& plan, int64_t t0_ns);
  // No new changes; the one running finishes.
  void stop() { stopped_ = true; }
  bool idle() const { return !busy_ && queue_.empty(); }
  // Asks for the membership (from the leader, when one is known) until
  // deadline; done(true) once a view arrived.
  void refresh(int64_t deadline_ns, std::function<void(bool)> done);
  std::string describe_active() const { return busy_ ? "member[" + current_ + "]" : ""; }
  // Counts per operation and outcome, the completed changes (removed,
  // promoted, readded = replaced and promoted again, replaced, transfers) and
  // the last view.
  nlohmann::json summary() const;

 private:
  using Done = std::function<void()>;
  using Action = std::function<void(Done)>;
  using AdminDone = std::function<void(const AdminReply&)>;

  void enqueue(std::string what, Action action);
  void run_next();
  void admin(nlohmann::json body, const std::string& ok_type, int64_t deadline, AdminDone done);
  std::string pick_target();
  // admin() of a change, logged as a start-member/stop-member pair.
  void logged_admin(const std::string& node, nlohmann::json body, AdminDone done);

  void choose_random(Done done);
  void run_step(const PlanStep& step, Done done);
  void remove(const std::string& node, Done done);
  void transfer(const std::string& node, Done done);
  void readd(const std::string& node, Done done);
  void add_learner(const std::string& node, Done done);
  void await_caught_up(const std::string& node, int64_t deadline, Done done);
  void poll_caught_up(const std::string& node, int64_t began, int64_t deadline, Done done);
  void promote(const std::string& node, Done done);
  // After a change: refresh the view (bounded), then done.
  void settle(Done done);

  EventLoop& loop_;
  std::mt19937_64& rng_;
  ClusterControl& cluster_;
  HistoryLog& history_;
  MembershipTracker& tracker_;
  MemberTimings t_;
  std::unique_ptr<Client> client_;
  size_t rotate_ = 0;  // next node to ask while no leader is known
  bool stopped_ = false;
  bool busy_ = false;
  std::string current_;
  std::deque<std::pair<std::string, Action>> queue_;
  std::map<std::string, std::map<std::string, int64_t>> counts_;  // op -> outcome -> n
  std::set<std::string> touched_;                                 // nodes this nemesis asked to add
  std::set<std::string> replaced_nodes_;
  // readded: promotions of replaced nodes; promoted: all promotions.
  int64_t replaced_ = 0, readded_ = 0, promoted_ = 0, skipped_ = 0;
};

}  // namespace runner
