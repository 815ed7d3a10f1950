// Quorum arithmetic for the simulation's membership checks.
#pragma once

#include <optional>
#include <string>

#include "raft/membership.h"

namespace raftkv::sim {

// Whether some majority of a's voters and some majority of b's voters can
// be disjoint, i.e. two leaders (or two commits) could each gather a quorum
// without any server hearing of both. Configurations with no voters form
// no quorum and never conflict. When they can be disjoint, `why` (if given)
// receives two such majorities.
bool disjoint_majorities_possible(const raft::Membership& a, const raft::Membership& b,
                                  std::string* why = nullptr);

}  // namespace raftkv::sim
