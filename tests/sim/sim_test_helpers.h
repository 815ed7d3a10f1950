// Helpers shared by the simulation's test files.
#pragma once

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "sim/sim.h"

namespace raftkv::sim {

// A failed run as a test failure message: the invariant, how to replay the
// seed, and the trace tail.
inline std::string describe(const Result& r) {
  std::ostringstream s;
  s << r.invariant << ": " << r.detail << "\n  replay: " << r.replay << "\n  trace tail:\n";
  for (const std::string& line : r.trace_tail) s << "    " << line << "\n";
  return s.str();
}

// Runs until one leader is settled; returns its index (-1, and a test
// failure, when none is).
inline int settle(Simulation& s) {
  int l = s.run_until_settled_leader(20 * s.options().election_tick);
  EXPECT_GE(l, 0) << "no leader";
  return l;
}

}  // namespace raftkv::sim
