#include "sim/quorum.h"

#include <algorithm>

namespace raftkv::sim {

namespace {

std::string join(const std::vector<raft::NodeId>& ids) {
  std::string s;
  for (const raft::NodeId& id : ids) s += (s.empty() ? "" : ",") + id;
  return "{" + s + "}";
}

}  // namespace

// Build the two majorities as far apart as possible: each takes the voters
// only it has first, then they split the shared voters. They can be disjoint
// exactly when the shared voters suffice for what each still needs.
bool disjoint_majorities_possible(const raft::Membership& a, const raft::Membership& b,
                                  std::string* why) {
  if (a.voter_count() == 0 || b.voter_count() == 0) return false;
  std::vector<raft::NodeId> only_a, only_b, shared;
  for (const raft::NodeId& id : a.voters()) (b.is_voter(id) ? shared : only_a).push_back(id);
  for (const raft::NodeId& id : b.voters()) {
    if (!a.is_voter(id)) only_b.push_back(id);
  }
  size_t need_a = a.quorum() - std::min(a.quorum(), only_a.size());
  size_t need_b = b.quorum() - std::min(b.quorum(), only_b.size());
  if (need_a + need_b > shared.size()) return false;
  if (why) {
    std::vector<raft::NodeId> ma(only_a.begin(), only_a.begin() + (a.quorum() - need_a));
    std::vector<raft::NodeId> mb(only_b.begin(), only_b.begin() + (b.quorum() - need_b));
    ma.insert(ma.end(), shared.begin(), shared.begin() + need_a);
    mb.insert(mb.end(), shared.begin() + need_a, shared.begin() + need_a + need_b);
    *why = join(ma) + " and " + join(mb);
  }
  return true;
}

}  // namespace raftkv::sim
