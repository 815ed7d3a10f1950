// `maelstrom-runner serve`: a read-only web view of the results store. Lists
// runs newest first and serves their files (reports, logs, plots). Binds to
// 127.0.0.1 unless told otherwise; no path outside the store is reachable.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace runner {

struct ServeOptions {
  std::string store = "./store";
  int port = 8080;  // 0: any free port (printed at start)
  std::string bind = "127.0.0.1";
};

std::optional<ServeOptions> parse_serve_args(const std::vector<std::string>& args,
                                             std::string* error);
int run_serve(const ServeOptions& opts);

// Maps a request target ("/lin-kv/x/index.html?y") to a file under root, or
// nullopt if it is malformed or would leave root (exposed for tests).
std::optional<std::string> resolve_under(const std::string& root, const std::string& target);

// The listing page for a store (exposed for tests).
std::string store_index_html(const std::string& store);

}  // namespace runner
