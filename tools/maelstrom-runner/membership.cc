#include "membership.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <regex>

namespace runner {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

bool string_list(const nlohmann::json& j, std::vector<std::string>* out) {
  if (!j.is_array()) return false;
  out->clear();
  for (const auto& e : j) {
    if (!e.is_string()) return false;
    out->push_back(e.get<std::string>());
  }
  return true;
}

}  // namespace

std::optional<MembershipView> parse_members_ok(const nlohmann::json& body, std::string* error) {
  auto fail = [&](const std::string& why) {
    *error = "members_ok: " + why;
    return std::nullopt;
  };
  if (!body.is_object() || body.value("type", "") != "members_ok")
    return fail("not a members_ok body");
  MembershipView v;
  if (!body.contains("voters") || !string_list(body["voters"], &v.voters))
    return fail("voters must be a list of node ids");
  if (body.contains("learners") && !string_list(body["learners"], &v.learners))
    return fail("learners must be a list of node ids");
  if (body.contains("leader")) {
    if (!body["leader"].is_string()) return fail("leader must be a string");
    v.leader = body["leader"].get<std::string>();
  }
  if (body.contains("config_index")) {
    if (!body["config_index"].is_number_integer()) return fail("config_index must be an integer");
    v.config_index = body["config_index"].get<int64_t>();
  }
  if (body.contains("lag") && !body["lag"].is_null()) {
    if (!body["lag"].is_object()) return fail("lag must be an object");
    for (const auto& [node, n] : body["lag"].items()) {
      if (!n.is_number_integer()) return fail(fmt::format("lag of {} is not an integer", node));
      v.lag[node] = n.get<int64_t>();
    }
  }
  return v;
}

std::string leader_hint(const std::string& text) {
  static const std::regex re("the leader is ([A-Za-z0-9_.-]+)");
  std::smatch m;
  return std::regex_search(text, m, re) ? m[1].str() : "";
}

std::string to_string(AdminStatus s) {
  switch (s) {
    case AdminStatus::kOk:
      return "ok";
    case AdminStatus::kRetry:
      return "refused";
    case AdminStatus::kPrecondition:
      return "precondition";
    case AdminStatus::kIndefinite:
      return "indefinite";
    case AdminStatus::kFailed:
      return "failed";
  }
  return "?";
}

AdminReply classify_admin(const std::string& ok_type, const std::optional<nlohmann::json>& body) {
  AdminReply r;
  if (!body) {
    r.text = "timeout";
    return r;  // indefinite
  }
  r.body = *body;
  std::string type = body->is_object() ? body->value("type", "") : "";
  if (type == ok_type) {
    r.status = AdminStatus::kOk;
    return r;
  }
  if (type != "error" || !body->contains("code") || !(*body)["code"].is_number_integer()) {
    r.status = AdminStatus::kFailed;
    r.text = fmt::format("unexpected reply {}", body->dump());
    return r;
  }
  r.code = (*body)["code"].get<int>();
  if (body->contains("text") && (*body)["text"].is_string()) r.text = (*body)["text"];
  switch (r.code) {
    case 11:
      r.status = AdminStatus::kRetry;
      r.leader_hint = leader_hint(r.text);
      break;
    case 22:
      r.status = AdminStatus::kPrecondition;
      break;
    case 13:
      r.status = AdminStatus::kIndefinite;
      break;
    default:
      r.status = AdminStatus::kFailed;
  }
  return r;
}

MembershipTracker::MembershipTracker(std::vector<std::string> nodes,
                                     std::vector<std::string> initial)
    : nodes_(std::move(nodes)) {
  view_.voters = std::move(initial);
  ever_.insert(view_.voters.begin(), view_.voters.end());
}

void MembershipTracker::update(const MembershipView& v, bool from_leader) {
  if (!from_leader && v.config_index < view_.config_index) return;  // a stale node's view
  view_ = v;
  ever_.insert(v.voters.begin(), v.voters.end());
  ever_.insert(v.learners.begin(), v.learners.end());
}

void MembershipTracker::set_learner(const std::string& node) {
  if (!is_learner(node) && !is_voter(node)) view_.learners.push_back(node);
  ever_.insert(node);
}

bool MembershipTracker::is_voter(const std::string& n) const {
  return contains(view_.voters, n);
}
bool MembershipTracker::is_learner(const std::string& n) const {
  return contains(view_.learners, n);
}

std::vector<std::string> MembershipTracker::removed() const {
  std::vector<std::string> out;
  for (const auto& n : nodes_)
    if (was_member(n) && !is_voter(n) && !is_learner(n)) out.push_back(n);
  return out;
}

std::vector<std::string> MembershipTracker::removable(size_t min_voters) const {
  if (view_.voters.size() <= min_voters) return {};
  return view_.voters;
}

std::vector<std::string> MembershipTracker::outsiders() const {
  std::vector<std::string> out;
  for (const auto& n : nodes_)
    if (!is_voter(n) && !is_learner(n)) out.push_back(n);
  return out;
}

std::vector<std::string> MembershipTracker::transfer_targets() const {
  std::vector<std::string> out;
  for (const auto& n : view_.voters)
    if (n != view_.leader) out.push_back(n);
  return out;
}

std::optional<std::vector<PlanStep>> parse_member_plan(const std::string& spec,
                                                       const std::vector<std::string>& nodes,
                                                       std::string* error) {
  std::vector<PlanStep> plan;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    std::string part = spec.substr(start, end == std::string::npos ? end : end - start);
    start = end == std::string::npos ? spec.size() + 1 : end + 1;
    auto bad = [&](const std::string& why) {
      *error = fmt::format("--member-plan: '{}': {}", part, why);
      return std::nullopt;
    };
    size_t c1 = part.find(':'), c2 = c1 == std::string::npos ? c1 : part.find(':', c1 + 1);
    if (c2 == std::string::npos) return bad("expected SECONDS:ACTION:NODE");
    PlanStep s;
    std::string at = part.substr(0, c1);
    s.action = part.substr(c1 + 1, c2 - c1 - 1);
    s.node = part.substr(c2 + 1);
    try {
      size_t pos = 0;
      s.at_s = std::stod(at, &pos);
      if (pos != at.size() || !std::isfinite(s.at_s) || s.at_s < 0) throw std::invalid_argument("");
    } catch (...) {
      return bad("the time must be a non-negative number of seconds");
    }
    if (s.action != "add" && s.action != "remove" && s.action != "transfer")
      return bad("the action must be add, remove or transfer");
    bool symbolic = s.node == "leader" || s.node == "any";
    if (symbolic && s.action == "add") return bad("add needs a node id");
    if (s.node == "leader" && s.action == "transfer") return bad("transfer to 'leader' is a no-op");
    if (!symbolic && !contains(nodes, s.node))
      return bad(fmt::format("no node '{}' in this run", s.node));
    plan.push_back(s);
  }
  std::stable_sort(plan.begin(), plan.end(),
                   [](const PlanStep& a, const PlanStep& b) { return a.at_s < b.at_s; });
  return plan;
}

}  // namespace runner
