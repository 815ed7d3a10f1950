// The Maelstrom mode's admin messages: members, member_add, member_promote,
// member_remove and transfer_leader. Changes are served by the leader only;
// a follower answers error 11 naming the leader (nothing happened).
#include <fmt/format.h>

#include <algorithm>

#include "maelstrom/node.h"

namespace raftkv::maelstrom {

bool Node::is_admin_op(const std::string& t) {
  return t == "members" || t == "member_add" || t == "member_promote" || t == "member_remove" ||
         t == "transfer_leader";
}

std::optional<std::string> Node::check_initial_members(
    const std::string& id, const std::vector<std::string>& node_ids) const {
  for (const std::string& m : opts_.initial_members) {
    if (std::find(node_ids.begin(), node_ids.end(), m) == node_ids.end()) {
      return fmt::format("--initial-members names {}, which is not in init's node_ids", m);
    }
  }
  const auto& initial = opts_.initial_members;
  if (!initial.empty() && std::find(initial.begin(), initial.end(), id) == initial.end()) {
    return fmt::format("--initial-members does not include this node ({}): start it with --join",
                       id);
  }
  return std::nullopt;
}

Json Node::members_body(int64_t msg_id) {
  server::Core::MembersView v = core_->members_view();
  Json body = make_body("members_ok", msg_id, next_msg_id_++);
  Json voters = Json::array(), learners = Json::array();
  for (const raft::Member& m : v.members) (m.voter ? voters : learners).push_back(m.id);
  body["voters"] = std::move(voters);
  body["learners"] = std::move(learners);
  body["leader"] = v.leader;
  body["config_index"] = v.config_index;
  body["change_pending"] = v.change_pending;
  Json lag = Json::object();
  for (const auto& [id, n] : v.lag) lag[id] = n;
  body["lag"] = std::move(lag);
  return body;
}

void Node::handle_admin(const Message& m, int64_t msg_id) {
  const std::string type = m.type();
  if (type == "members") return send(m.src, members_body(msg_id));
  auto node = m.body.find("node");
  if (node == m.body.end() || !node->is_string() || node->get<std::string>().empty()) {
    return reply_error(m.src, msg_id, ErrorCode::kMalformedRequest,
                       fmt::format("{} needs a \"node\": a node id string", type));
  }
  server::AdminRequest req;
  req.node = node->get<std::string>();
  if (type == "member_add") {
    auto learner = m.body.find("learner");
    if (learner != m.body.end() && !learner->is_boolean()) {
      return reply_error(m.src, msg_id, ErrorCode::kMalformedRequest,
                         "member_add's \"learner\" must be a boolean");
    }
    bool as_learner = learner == m.body.end() || learner->get<bool>();
    req.op =
        as_learner ? server::AdminRequest::Op::kAddLearner : server::AdminRequest::Op::kAddVoter;
  } else if (type == "member_promote") {
    req.op = server::AdminRequest::Op::kPromote;
  } else if (type == "member_remove") {
    req.op = server::AdminRequest::Op::kRemove;
  } else {
    req.op = server::AdminRequest::Op::kTransferLeader;
  }
  server::RequestId id = ++next_request_;
  clients_[id] = Client{m.src, msg_id, type};
  core_->admin_request(id, std::move(req), now());
}

}  // namespace raftkv::maelstrom
