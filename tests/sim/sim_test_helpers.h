// Helpers shared by the simulation's test files.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
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

// How many seeds a sweep case runs: `full`, or fewer when
// RAFTKV_SIM_SEEDS_PER_CASE says so. The sanitizer pass sets it: there a
// seed costs ~10x more, and the Release pass already runs every seed.
inline int seeds_per_case(int full) {
  const char* env = std::getenv("RAFTKV_SIM_SEEDS_PER_CASE");
  return env ? std::clamp(std::atoi(env), 1, full) : full;
}

// Runs until one leader is settled; returns its index (-1, and a test
// failure, when none is).
inline int settle(Simulation& s) {
  int l = s.run_until_settled_leader(20 * s.options().election_tick);
  EXPECT_GE(l, 0) << "no leader";
  return l;
}

}  // namespace raftkv::sim
