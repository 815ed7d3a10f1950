// The cluster's membership as the runner sees it (the `member` nemesis and
// --member-plan): parsing of the nodes' admin replies, the tracked voter /
// learner / removed sets, and the planned schedule. No I/O here, so all of it
// is unit-tested with fake replies.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace runner {

// One node's answer to {"type":"members"}.
struct MembershipView {
  std::vector<std::string> voters;
  std::vector<std::string> learners;
  std::string leader;  // "" when the node knows none
  int64_t config_index = 0;
  std::map<std::string, int64_t> lag;  // filled by the leader only
};

// Parses a members_ok body; nullopt (and *error) when it does not follow the
// contract.
std::optional<MembershipView> parse_members_ok(const nlohmann::json& body, std::string* error);

// What an admin request came to.
enum class AdminStatus {
  kOk,            // the *_ok reply
  kRetry,         // error 11: definitely not done; maybe another node leads
  kPrecondition,  // error 22: already a member, not a member, not a learner
  kIndefinite,    // error 13 or no reply: may or may not have happened
  kFailed,        // any other reply (e.g. 10: the node does not support it)
};

struct AdminReply {
  AdminStatus status = AdminStatus::kIndefinite;
  std::string from;         // the node asked
  int code = -1;            // error code, -1 for none
  std::string text;         // error text or "timeout"
  std::string leader_hint;  // from "not the leader; the leader is nX"
  nlohmann::json body;      // the reply body (null on timeout)
};

// body is nullopt on timeout.
AdminReply classify_admin(const std::string& ok_type, const std::optional<nlohmann::json>& body);

// "not the leader; the leader is n3" -> "n3"; "" when the text names none.
std::string leader_hint(const std::string& text);

std::string to_string(AdminStatus s);

class MembershipTracker {
 public:
  // nodes: every node of the run; initial: the bootstrap voters, assumed until
  // the first view arrives.
  MembershipTracker(std::vector<std::string> nodes, std::vector<std::string> initial);

  // Takes a view unless it is older (lower config index) than the one held;
  // the leader's own view always wins (a follower may hold a config entry
  // that never commits).
  void update(const MembershipView& v, bool from_leader = false);
  void set_leader(const std::string& leader) { view_.leader = leader; }
  // An add acknowledged before any view shows it.
  void set_learner(const std::string& node);

  const MembershipView& view() const { return view_; }
  const std::string& leader() const { return view_.leader; }
  bool is_voter(const std::string& n) const;
  bool is_learner(const std::string& n) const;
  bool was_member(const std::string& n) const { return ever_.count(n) > 0; }
  // Members in the past, not now.
  std::vector<std::string> removed() const;

  // Voters that may be removed while at least min_voters stay.
  std::vector<std::string> removable(size_t min_voters) const;
  // Nodes that are neither voters nor learners: candidates for (re-)adding.
  std::vector<std::string> outsiders() const;
  // Voters other than the leader (all voters while no leader is known).
  std::vector<std::string> transfer_targets() const;
  // Where final reads go: the current voters.
  std::vector<std::string> voters() const { return view_.voters; }
  const std::vector<std::string>& nodes() const { return nodes_; }

 private:
  std::vector<std::string> nodes_;
  MembershipView view_;
  std::set<std::string> ever_;  // every node seen as a voter or learner
};

// --member-plan: "T:ACTION:NODE,..." with ACTION add | remove | transfer and
// NODE a node id, or for remove and transfer "leader" (whoever leads then) or
// "any" (a random voter that is not the leader). Steps with the same T run in
// the order given; each step starts after the previous one finished.
struct PlanStep {
  double at_s = 0;
  std::string action;
  std::string node;
};
std::optional<std::vector<PlanStep>> parse_member_plan(const std::string& spec,
                                                       const std::vector<std::string>& nodes,
                                                       std::string* error);

}  // namespace runner
