// Invariant checks that stay on in Release builds. A broken invariant on a
// safety path means the replica can no longer be trusted: it stops at once
// (fail-stop) with a one-line reason, rather than going on to corrupt the
// log or answer wrongly. Unlike assert(), NDEBUG does not remove these.
#pragma once

#include <cstdio>
#include <cstdlib>

#define RAFTKV_CHECK(cond, what)                                                            \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "raftkv: fatal: invariant broken at %s:%d: %s (%s)\n", __FILE__, \
                   __LINE__, what, #cond);                                                  \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)
