// The cluster's configuration: who votes, who only receives the log
// (learners), and where each member listens (opaque to Raft: the TCP
// service's peer address, empty in the Maelstrom mode).
//
// A configuration travels as the data of a kConfig log entry, always whole
// (never as a delta), and in a snapshot's first chunk.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raft/types.h"

namespace raftkv::raft {

struct Member {
  NodeId id;
  bool voter = true;
  std::string address;
  friend bool operator==(const Member&, const Member&) = default;
};

class Membership {
 public:
  Membership() = default;
  // Every id becomes a voter with no address.
  static Membership of_voters(const std::vector<NodeId>& ids);

  const std::vector<Member>& members() const { return members_; }  // sorted by id
  const Member* find(const NodeId& id) const;
  bool contains(const NodeId& id) const { return find(id) != nullptr; }
  bool is_voter(const NodeId& id) const;
  bool is_learner(const NodeId& id) const;
  std::vector<NodeId> voters() const;
  std::vector<NodeId> learners() const;
  size_t voter_count() const;
  bool empty() const { return members_.empty(); }
  // Votes needed for a majority of the voters.
  size_t quorum() const { return voter_count() / 2 + 1; }

  // Adds or replaces the member with m.id.
  void set(Member m);
  void remove(const NodeId& id);

  std::string encode() const;
  static std::optional<Membership> decode(std::string_view data);

  friend bool operator==(const Membership&, const Membership&) = default;

 private:
  std::vector<Member> members_;
};

// The voters that differ between two configurations (in one and not the
// other). A single-server change has exactly one; learner changes none.
size_t voters_changed(const Membership& a, const Membership& b);

std::string to_string(const Membership& m);

}  // namespace raftkv::raft
