// Membership changes and leadership transfer, as the operator asks for them
// (the safety rules live in raft/raft_config.cc).
#include <fmt/format.h>

#include "server/core.h"

namespace raftkv::server {

namespace {

raft::ConfigChange::Kind change_kind(AdminRequest::Op op) {
  switch (op) {
    case AdminRequest::Op::kAddVoter:
      return raft::ConfigChange::Kind::kAddVoter;
    case AdminRequest::Op::kPromote:
      return raft::ConfigChange::Kind::kPromote;
    case AdminRequest::Op::kRemove:
      return raft::ConfigChange::Kind::kRemove;
    default:
      return raft::ConfigChange::Kind::kAddLearner;
  }
}

// Why the request makes no sense against this configuration, or empty.
std::string precondition(const raft::Membership& config, const AdminRequest& r) {
  const raft::Member* m = config.find(r.node);
  switch (r.op) {
    case AdminRequest::Op::kAddLearner:
    case AdminRequest::Op::kAddVoter:
      return m ? fmt::format("{} is already a {}", r.node, m->voter ? "voter" : "learner") : "";
    case AdminRequest::Op::kPromote:
      if (!m) return fmt::format("{} is not a member", r.node);
      return m->voter ? fmt::format("{} is already a voter", r.node) : "";
    case AdminRequest::Op::kRemove:
      return m ? "" : fmt::format("{} is not a member", r.node);
    case AdminRequest::Op::kTransferLeader:
      return config.is_voter(r.node) ? "" : fmt::format("{} is not a voter", r.node);
  }
  return "";
}

}  // namespace

void Core::admin_request(RequestId id, AdminRequest request, Millis now) {
  now_ = std::max(now_, now);
  ReplyTo to{id, {}, 0};
  if (raft_->role() != raft::Role::kLeader) {
    const raft::NodeId& leader = raft_->leader();
    return reply(
        to, error_reply(ReplyCode::kUnavailable,
                        leader.empty() ? "no leader known; try again"
                                       : fmt::format("not the leader; the leader is {}", leader)));
  }
  if (std::string why = precondition(raft_->membership(), request); !why.empty()) {
    return reply(to, error_reply(ReplyCode::kPreconditionFailed, why));
  }
  if (request.op == AdminRequest::Op::kTransferLeader) {
    if (request.node == id_) return reply(to, ClientReply{});
    if (auto why = raft_->transfer_leadership(request.node)) {
      return reply(to, error_reply(ReplyCode::kUnavailable, *why));
    }
    transfers_[id] = PendingTransfer{request.node, now_ + 2 * opts_.election_timeout_ms};
    return;
  }
  auto result = raft_->propose_config(
      raft::ConfigChange{change_kind(request.op), request.node, request.address});
  if (auto* why = std::get_if<std::string>(&result)) {
    return reply(to, error_reply(ReplyCode::kUnavailable, *why));
  }
  auto p = std::get<raft::Raft::Proposed>(result);
  opts_.log(fmt::format("proposed configuration {} at index {}",
                        raft::to_string(raft_->membership()), p.index));
  // Answered when the entry is applied, like a write.
  proposals_[p.index] =
      PendingProposal{p.term, to, true, now_ + 2 * static_cast<Millis>(opts_.forward_timeout_ms)};
}

void Core::finish_transfers() {
  for (auto it = transfers_.begin(); it != transfers_.end();) {
    const raft::NodeId& leader = raft_->leader();
    if (leader == it->second.target) {
      out_.reply(it->first, ClientReply{});
    } else if (it->second.deadline <= now_) {
      out_.reply(it->first,
                 error_reply(ReplyCode::kUnavailable,
                             fmt::format("{} did not take over in time", it->second.target)));
    } else {
      ++it;
      continue;
    }
    it = transfers_.erase(it);
  }
}

void Core::note_config_change() {
  if (raft_->membership_index() == seen_config_index_) return;
  seen_config_index_ = raft_->membership_index();
  // Compaction moves the index of the configuration in effect to the log's
  // base without changing it: only a different member list is news.
  std::string config = raft_->membership().encode();
  if (config == seen_config_) return;
  seen_config_ = std::move(config);
  bool in = in_configuration();
  opts_.log(fmt::format("configuration at index {}: {}", seen_config_index_,
                        raft::to_string(raft_->membership())));
  if (was_in_configuration_ && !in) {
    opts_.log("this server was removed from the cluster: it no longer takes part");
  }
  was_in_configuration_ = in;
}

Core::MembersView Core::members_view() const {
  MembersView v;
  v.members = raft_->membership().members();
  v.leader = raft_->leader();
  v.config_index = raft_->membership_index();
  v.change_pending = raft_->config_change_pending();
  if (raft_->role() == raft::Role::kLeader) {
    uint64_t last = raft_->log().last_index();
    for (const auto& [id, pr] : raft_->progress()) v.lag[id] = last - std::min(last, pr.match);
    v.lag[id_] = 0;
  }
  return v;
}

}  // namespace raftkv::server
