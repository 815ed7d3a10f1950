// `maelstrom-runner test`: runs the test --test-count times and returns the
// process exit status (0 valid, 1 invalid, 2 unknown/error).
#pragma once

#include "cli.h"

namespace runner {

int run_tests(const Options& opts);

}  // namespace runner
