// Membership changes, one server at a time (Raft thesis, chapter 4).
//
// Safety argument. A configuration is a log entry and takes effect on each
// server as soon as it is in that server's log, committed or not (thesis
// 4.1); a truncated configuration entry takes its configuration with it.
// Each change adds or removes at most one voter, so any majority of the old
// voters and any majority of the new ones share a server: two leaders of
// one term, or two different committed entries at one index, would each
// need a majority, and the shared server votes once per term and acks only
// one entry per index. This only holds while at most two configurations
// can be in use at once, which the leader guarantees by starting a change
// only when:
//  1. the previous change is committed (no configuration entry after the
//     commit index), so every server that could form a majority uses the
//     latest committed configuration or the one being added; and
//  2. it has committed an entry of its own term. Without this, a new leader
//     could append a change while an uncommitted change of an older leader
//     is still in some logs, and the two, each one server from their common
//     parent, could differ by two voters: the bug in single-server changes
//     that Ongaro described on raft-dev in 2015. The no-op every leader
//     appends (become_leader) makes this cheap.
// Learners change no majority, but go through the same path so that the
// log decides who receives it.
//
// A leader that removes itself manages the cluster until the removal
// commits, without counting itself in any majority, then hands leadership to
// the most up-to-date voter (TimeoutNow) and stops (thesis 4.2.2). Removed
// servers never campaign: they are not voters in their own configuration
// once the removal reaches them, and the leader keeps sending them the log
// until it commits so that it does. One that never hears of it stays
// harmless: pre-vote and the leader lease make others ignore it, and its
// log lacks the committed removal, so it cannot win.
#include <algorithm>
#include <stdexcept>

#include "raft/check.h"
#include "raft/raft.h"

namespace raftkv::raft {

const Membership& Raft::membership() const {
  if (cfg_.bugs.config_on_commit) return membership_at(commit_);
  return configs_.empty() ? base_config_ : configs_.rbegin()->second;
}

uint64_t Raft::membership_index() const {
  if (cfg_.bugs.config_on_commit) {
    auto it = configs_.upper_bound(commit_);
    return it == configs_.begin() ? log_.base_index() : std::prev(it)->first;
  }
  return configs_.empty() ? log_.base_index() : configs_.rbegin()->first;
}

const Membership& Raft::membership_at(uint64_t index) const {
  auto it = configs_.upper_bound(index);
  return it == configs_.begin() ? base_config_ : std::prev(it)->second;
}

bool Raft::voters_reach_quorum(const std::function<bool(const NodeId&)>& pred) const {
  size_t yes = 0;
  for (const NodeId& id : voters_) yes += (id == cfg_.id || pred(id)) ? 1 : 0;
  return yes >= quorum();
}

void Raft::load_configs(const std::optional<Membership>& restored) {
  base_config_ = restored ? *restored : Membership::of_voters(cfg_.voters);
  for (uint64_t i = log_.first_index(); i <= log_.last_index(); ++i) {
    const Entry& e = log_.at(i);
    if (e.type != EntryType::kConfig) continue;
    std::optional<Membership> m = Membership::decode(e.data);
    if (!m)
      throw std::invalid_argument("log entry " + std::to_string(i) +
                                  " holds a malformed configuration");
    configs_[i] = std::move(*m);
  }
  remember_config();
}

void Raft::remember_config() {
  effective_config_index_ = membership_index();
  voters_ = membership().voters();
  is_voter_ = membership().is_voter(cfg_.id);
}

void Raft::track_config_entries(uint64_t from, uint64_t to) {
  // Entries after the end were truncated away, with their configurations.
  configs_.erase(configs_.upper_bound(log_.last_index()), configs_.end());
  for (uint64_t i = std::max(from, log_.first_index()); i <= to && i <= log_.last_index(); ++i) {
    const Entry& e = log_.at(i);
    if (e.type == EntryType::kConfig) {
      configs_[i] = *Membership::decode(e.data);  // refusal() checked it decodes
    } else {
      configs_.erase(i);
    }
  }
  on_config_change();
}

void Raft::on_config_change() {
  remember_config();
  if (role_ != Role::kLeader) return;
  const Membership& config = membership();
  for (const Member& m : config.members()) {
    // A member coming back while we still send to it as a departing one
    // starts afresh: it may be a replacement with an empty log, and a stale
    // match would forbid the probe ever going below it (simulation).
    bool returning = leaving_.contains(m.id);
    if (m.id == cfg_.id || (progress_.contains(m.id) && !returning)) continue;
    Progress pr;
    // From the newest entry (the no-op or the configuration that added it),
    // so there is something to probe with.
    pr.next = std::max<uint64_t>(log_.last_index(), 1);
    pr.recent_active = true;
    progress_[m.id] = pr;
    leaving_.erase(m.id);
  }
  for (auto& [id, pr] : progress_) {
    if (!config.contains(id))
      leaving_.emplace(id, effective_config_index_);
    else
      leaving_.erase(id);
  }
}

void Raft::after_commit() {
  if (cfg_.bugs.config_on_commit && membership_index() != effective_config_index_) {
    on_config_change();
  }
  if (role_ != Role::kLeader) return;
  release_departed();
  if (!removal_committed() || !transferee_.empty()) return;
  // Our own removal is committed: hand over to the most up-to-date voter.
  // Under load our log has grown past its match, so this is a transfer:
  // proposals stop, it catches up, then gets TimeoutNow (and we step down).
  const Progress* best = nullptr;
  NodeId best_id;
  for (const NodeId& id : voters_) {
    auto it = progress_.find(id);
    if (it != progress_.end() && (!best || it->second.match > best->match)) {
      best = &it->second;
      best_id = id;
    }
  }
  if (!best) return become_follower(term_, "");
  transfer_leadership(best_id);
}

// A removed member is let go once its removal is committed and it holds
// the removal entry: one last heartbeat tells it the entry is committed,
// so it knows for sure that it is out and stays quiet (a removed server
// that only suspects it may still stand, see may_campaign). One that has
// gone silent is let go without it.
void Raft::release_departed() {
  for (auto it = leaving_.begin(); it != leaving_.end();) {
    auto pr = progress_.find(it->first);
    bool has_it = pr != progress_.end() && pr->second.match >= it->second;
    bool live = pr != progress_.end() && pr->second.recent_active;
    if (it->second > commit_ || (!has_it && live)) {
      ++it;
      continue;
    }
    if (has_it) send_heartbeat(it->first, 0);
    progress_.erase(it->first);
    it = leaving_.erase(it);
  }
}

// Thesis 4.2.2: a server whose removal is not yet committed may still be
// needed to elect a leader (a two-voter cluster whose leader removed itself
// and restarted before the removal committed has no other way out), so it
// may stand while it is a voter of the newest committed configuration. The
// votes it needs are those of the configuration in effect, as for anyone.
bool Raft::may_campaign() const {
  // Behind a commit index a leader told us of, our log cannot win a vote,
  // and the configuration at its end may be stale (see HardState).
  if (log_.last_index() < leader_commit_) return false;
  return is_voter_ || (config_change_pending() && membership_at(commit_).is_voter(cfg_.id));
}

size_t Raft::count_votes(bool granted) const {
  size_t n = 0;
  for (const auto& [id, g] : votes_) {
    n += g == granted && std::binary_search(voters_.begin(), voters_.end(), id);
  }
  return n;
}

bool Raft::removal_committed() const {
  return role_ == Role::kLeader && !is_voter() && !cfg_.bugs.removed_leader_serves &&
         membership_index() <= commit_;
}

// A configuration counts once appended, so its entry is committed by its
// own voters. Removing a voter on the majority side of a partition (or
// adding one that is down) can leave the new voters without a quorum of
// reachable servers, and then nothing commits, not even a change back,
// until the partition heals (the runner saw 90 s of it). As etcd's strict
// reconfiguration check does, refuse a change of voters unless the voters
// of the result we have heard from lately make a quorum of it.
std::optional<std::string> Raft::quorum_risk(const Membership& next) const {
  if (voters_changed(membership(), next) == 0) return std::nullopt;
  size_t live = 0;
  for (const NodeId& id : next.voters()) {
    auto it = progress_.find(id);
    live += id == cfg_.id || (it != progress_.end() && it->second.recent_active);
  }
  if (live >= next.quorum()) return std::nullopt;
  return "the new configuration would have " + std::to_string(live) + " reachable voters of " +
         std::to_string(next.voter_count()) + ", short of a quorum; try again when more are up";
}

std::variant<Raft::Proposed, std::string> Raft::propose_config(const ConfigChange& change) {
  if (role_ != Role::kLeader) return std::string("not the leader");
  if (!transferee_.empty()) return "leadership is being transferred to " + transferee_;
  if (!cfg_.bugs.concurrent_changes) {
    if (commit_ < term_start_)
      return std::string("the new leader has not committed its first entry yet");
    if (config_change_pending()) {
      return "a configuration change is in progress (entry " +
             std::to_string(configs_.rbegin()->first) + ")";
    }
  }
  Membership next = configs_.empty() ? base_config_ : configs_.rbegin()->second;
  const Member* member = next.find(change.node);
  switch (change.kind) {
    case ConfigChange::Kind::kAddLearner:
    case ConfigChange::Kind::kAddVoter:
      if (member) return change.node + " is already a member";
      next.set(Member{change.node, change.kind == ConfigChange::Kind::kAddVoter, change.address});
      break;
    case ConfigChange::Kind::kPromote: {
      if (!member || member->voter) return change.node + " is not a learner";
      // Caught up means it has answered and is replicating (a learner that
      // never acknowledged anything has match 0, "close" to a short log:
      // simulation seed 263 promoted one that did not know it was a member).
      auto it = progress_.find(change.node);
      if (it == progress_.end() || it->second.state != Progress::State::kReplicate ||
          !it->second.recent_active) {
        return change.node + " has not caught up yet (not replicating); try again";
      }
      uint64_t match = it->second.match;
      if (match + cfg_.max_promote_lag < log_.last_index()) {
        return change.node + " is " + std::to_string(log_.last_index() - match) +
               " entries behind; it is promoted once it has caught up";
      }
      next.set(Member{member->id, true, member->address});
      break;
    }
    case ConfigChange::Kind::kRemove:
      if (!member) return change.node + " is not a member";
      if (member->voter && next.voter_count() == 1) {
        return std::string("the last voter cannot be removed");
      }
      next.remove(change.node);
      break;
  }
  if (auto why = quorum_risk(next)) return *why;
  RAFTKV_CHECK(voters_changed(membership(), next) <= 1 || cfg_.bugs.concurrent_changes ||
                   cfg_.bugs.config_on_commit,
               "a configuration change moves one voter at most");
  Entry e{term_, log_.last_index() + 1, EntryType::kConfig, next.encode()};
  Proposed p{e.index, e.term};
  log_.append(std::move(e));
  configs_[p.index] = std::move(next);
  on_config_change();
  pending_broadcast_ = true;
  return p;
}

// ---- leadership transfer (thesis 3.10) ----------------------------------------

std::optional<std::string> Raft::transfer_leadership(const NodeId& to) {
  if (role_ != Role::kLeader) return std::string("not the leader");
  if (to == cfg_.id) return std::string("already the leader");
  if (!membership().is_voter(to)) return to + " is not a voter";
  transferee_ = to;
  transfer_elapsed_ = 0;
  if (progress_[to].match == log_.last_index()) {
    send_timeout_now(to);
  } else {
    send_append(to, true);
  }
  return std::nullopt;
}

void Raft::send_timeout_now(const NodeId& to) {
  send(Message{.type = MsgType::kTimeoutNow, .to = to});
  // A leader that is no longer a member does not wait to hear of the new
  // leader (it may never: nobody sends to non-members).
  if (removal_committed()) become_follower(term_, "");
}

void Raft::handle_timeout_now(const Message& m) {
  // Only from our leader; the leader checked we hold its whole log.
  if (m.from != leader_ || !may_campaign()) return;
  leader_.clear();
  campaign_now(true);
}

}  // namespace raftkv::raft
