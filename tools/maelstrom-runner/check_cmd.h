// `maelstrom-runner check FILE.jsonl`: checks a history file alone.
#pragma once

#include "cli.h"

namespace runner {

int run_check(const CheckCmdOptions& opts);

}  // namespace runner
