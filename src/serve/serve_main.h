// `raftkv serve ...`: parses serve mode's flags and runs the server.
#pragma once

namespace raftkv::serve {

// argv[0] is "serve". Returns the process exit code.
int serve_main(int argc, const char* const* argv);

}  // namespace raftkv::serve
