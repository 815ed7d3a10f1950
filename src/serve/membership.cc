// Serve mode's side of membership changes: RAFT.MEMBER and RAFT.TRANSFER
// go to the core (the leader decides; a follower's refusal names the leader
// and its peer address), RAFT.MEMBERS and INFO show the configuration, and
// the peer transport follows the configuration.
//
// Admin commands on a follower are answered with TRYAGAIN, not relayed:
// the configuration records peer addresses only, so a follower cannot name
// the leader's client port; the operator retries against the leader.
#include <fmt/format.h>

#include <set>

#include "serve/server.h"

namespace raftkv::serve {

namespace {

constexpr const char* kNotAMember =
    "this server is not a member of the cluster (removed, or not yet added)";

const char* op_name(server::AdminRequest::Op op) {
  switch (op) {
    case server::AdminRequest::Op::kAddLearner:
      return "add learner";
    case server::AdminRequest::Op::kAddVoter:
      return "add voter";
    case server::AdminRequest::Op::kPromote:
      return "promote";
    case server::AdminRequest::Op::kRemove:
      return "remove";
    case server::AdminRequest::Op::kTransferLeader:
      return "transfer leadership to";
  }
  return "?";
}

}  // namespace

void Server::submit_admin(uint64_t client_id, uint64_t seq, server::AdminRequest request) {
  server::RequestId rid = next_request_++;
  in_flight_[rid] = InFlight{client_id, seq, true};
  // A removed server's idea of the leader is stale: it cannot point anywhere.
  if (!core_->in_configuration()) {
    return reply(rid, server::ClientReply{server::ReplyCode::kUnavailable, {}, kNotAMember});
  }
  if (!request.address.empty()) {
    std::string error;
    if (!parse_address(request.address, &error)) {
      return reply(
          rid, server::ClientReply{
                   server::ReplyCode::kPreconditionFailed, {}, "invalid peer address: " + error});
    }
  }
  log(LogLevel::kInfo, fmt::format("operator: {} {}{}", op_name(request.op), request.node,
                                   request.address.empty() ? "" : " at " + request.address));
  core_->admin_request(rid, std::move(request), now());
}

// A follower's "not the leader; the leader is n1" gains n1's peer address.
std::string Server::with_leader_address(std::string text) const {
  const raft::NodeId& leader = core_->raft().leader();
  if (leader.empty() || leader == opts_.id) return text;
  if (text.find("the leader is " + leader) == std::string::npos) return text;
  return text + " (peer address " + address_text(leader) + ")";
}

// Where `id` listens for peers: the configuration's record, else --peers.
std::optional<net::PeerAddress> Server::address_of(const raft::NodeId& id) const {
  if (const raft::Member* m = core_->raft().membership().find(id); m && !m->address.empty()) {
    std::string error;
    if (auto a = parse_address(m->address, &error)) return a;
  }
  auto it = opts_.peers.find(id);
  if (it != opts_.peers.end()) return it->second;
  return std::nullopt;
}

std::string Server::address_text(const raft::NodeId& id) const {
  auto a = address_of(id);
  return a ? fmt::format("{}:{}", a->host, a->port) : "unknown";
}

std::vector<std::string> Server::members() const {
  server::Core::MembersView v = core_->members_view();
  std::vector<std::string> out;
  for (const raft::Member& m : v.members) {
    std::string line =
        fmt::format("{} {} {}", m.id, address_text(m.id), m.voter ? "voter" : "learner");
    if (m.id == v.leader) line += " leader";
    if (auto lag = v.lag.find(m.id); lag != v.lag.end())
      line += fmt::format(" lag {}", lag->second);
    out.push_back(std::move(line));
  }
  return out;
}

// Talk to --peers and every member of the configuration, and to members a
// leader still sends the log so that they learn of their removal; forget
// everyone else. Runs when the configuration changes, and every second
// (a removal's commit ends the sending without a new configuration).
void Server::sync_peers(Millis t) {
  uint64_t index = core_->raft().membership_index();
  bool changed = peers_config_index_ != index;
  if (!changed && t < next_peer_sweep_) return;
  peers_config_index_ = index;
  next_peer_sweep_ = t + 1000;
  std::set<raft::NodeId> wanted;
  for (const auto& [id, a] : opts_.peers) wanted.insert(id);
  for (const raft::Member& m : core_->raft().membership().members()) wanted.insert(m.id);
  for (const auto& [id, p] : core_->raft().progress()) wanted.insert(id);
  wanted.erase(opts_.id);
  for (const raft::NodeId& id : wanted) {
    if (auto a = address_of(id)) {
      peers_->add_peer(id, *a);
    } else if (changed && !peers_->has_peer(id)) {
      log(LogLevel::kWarn, fmt::format("member {} has no peer address: cannot reach it", id));
    }
  }
  for (const raft::NodeId& id : peers_->peer_ids()) {
    if (!wanted.count(id)) peers_->remove_peer(id);
  }
}

void Server::note_membership() {
  bool member = core_->in_configuration();
  if (member == was_member_) return;
  was_member_ = member;
  if (member) {
    log(LogLevel::kInfo, "this server is a member of the cluster");
  } else {
    log(LogLevel::kWarn,
        "this server is not a member of the cluster (removed, or waiting to be added with "
        "RAFT.MEMBER ADD): it answers clients TRYAGAIN");
  }
}

std::vector<std::pair<std::string, std::string>> Server::membership_info() const {
  const raft::Membership& config = core_->raft().membership();
  std::string members;
  for (const raft::Member& m : config.members()) {
    if (!members.empty()) members += ',';
    members += fmt::format("{}={}", m.id, address_text(m.id));
  }
  return {{"raft_member", core_->in_configuration() ? "yes" : "no"},
          {"members", members},
          {"voters", std::to_string(config.voter_count())},
          {"learners", std::to_string(config.learners().size())},
          {"config_index", std::to_string(core_->raft().membership_index())},
          {"config_change_pending", core_->raft().config_change_pending() ? "yes" : "no"}};
}

void Server::render_membership_metrics(std::string& out) const {
  const raft::Membership& config = core_->raft().membership();
  render_metric(out, "raftkv_voters", "gauge", "Voters in the configuration in effect here.",
                config.voter_count());
  render_metric(out, "raftkv_learners", "gauge", "Learners in the configuration in effect here.",
                config.learners().size());
  render_metric(out, "raftkv_config_index", "gauge",
                "Log index of the configuration in effect here.", core_->raft().membership_index());
  render_metric(out, "raftkv_is_member", "gauge",
                "1 when this server is in the configuration (voter or learner).",
                core_->in_configuration() ? 1 : 0);
}

}  // namespace raftkv::serve
