#include "serve/serve_main.h"

#include <signal.h>

#include <iostream>
#include <limits>
#include <random>

#include "cli/core_flags.h"
#include "cli/flags.h"
#include "net/socket.h"
#include "serve/server.h"

namespace raftkv::serve {

namespace {

void on_signal(int) {
  request_stop();
}

// A flag given as text and turned into something typed after parsing.
struct AddressFlags {
  std::string peers, client, metrics, log_level = "info";
};

void add_flags(CLI::App& app, ServeOptions& o, AddressFlags& a) {
  app.add_option("--id", o.id, "this server's id; must be one of --peers")->required();
  app.add_option("--peers", a.peers,
                 "every member as id=host:port, this server included: where servers talk to "
                 "each other (binary Raft frames over TCP)")
      ->required()
      ->type_name("ID=HOST:PORT,...");
  app.add_option("--client", a.client, "where Redis clients connect (RESP2)")
      ->required()
      ->type_name("HOST:PORT");
  app.add_option("--metrics", a.metrics, "serve Prometheus metrics on http://HOST:PORT/metrics")
      ->type_name("HOST:PORT");
  app.add_option("--data-dir", o.data_dir, "keep state in DIR/<id>/ (the Maelstrom mode's layout)")
      ->required()
      ->type_name("DIR");
  cli::add_core_flags(app, o.core);
  constexpr long long kMax = std::numeric_limits<int>::max();
  cli::add_int(app, "--max-bulk-bytes", &o.limits.max_bulk_len, 1, 48 << 20,
               "largest accepted key or value from a client (bounded by the 64 MiB peer frame)");
  cli::add_int(app, "--max-queue-bytes", &o.max_queue_bytes, 1 << 20, kMax,
               "send queue per peer; further messages are dropped until it drains (Raft "
               "retransmits)");
  cli::add_int(app, "--drain-ms", &o.drain_ms, 0, kMax,
               "on SIGTERM/SIGINT: wait up to N ms for accepted requests to be answered");
  cli::add_int(app, "--stats-interval-ms", &o.stats_interval_ms, 0, kMax,
               "log a stats line every N ms (0: off)");
  app.add_option("--log-level", a.log_level, "error, warn, info or debug")
      ->check(CLI::IsMember({"error", "warn", "info", "debug"}))
      ->default_str("info");
}

std::optional<std::string> resolve(ServeOptions& o, const AddressFlags& a) {
  std::string error;
  auto peers = parse_peers(a.peers, &error);
  if (!peers) return "--peers: " + error;
  o.peers = *peers;
  if (!o.peers.count(o.id)) return "--id " + o.id + " is not in --peers";
  auto client = parse_address(a.client, &error);
  if (!client) return "--client: " + error;
  o.client = *client;
  if (!a.metrics.empty()) {
    auto metrics = parse_address(a.metrics, &error);
    if (!metrics) return "--metrics: " + error;
    o.metrics = *metrics;
  }
  o.log_level = a.log_level == "error"   ? LogLevel::kError
                : a.log_level == "warn"  ? LogLevel::kWarn
                : a.log_level == "debug" ? LogLevel::kDebug
                                         : LogLevel::kInfo;
  return cli::check_core_flags(o.core);
}

}  // namespace

int serve_main(int argc, const char* const* argv) {
  ServeOptions o;
  o.limits.max_bulk_len = 16 << 20;
  std::random_device rd;
  o.core.seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  AddressFlags a;
  CLI::App app(
      "Serve mode: a raftkv server on TCP. Servers replicate over --peers; clients use the\n"
      "Redis protocol on --client (GET, SET [NX|XX|IFEQ v] [GET], DEL, EXISTS, INCR[BY],\n"
      "DECR[BY], PING, INFO, ...). Logs go to stderr.",
      "raftkv serve");
  cli::configure(app);
  add_flags(app, o, a);
  if (auto rc = cli::parse(app, argc, argv)) return *rc;
  if (auto problem = resolve(o, a)) {
    std::cerr << "raftkv serve: " << *problem << "\nRun with --help for usage.\n";
    return 2;
  }
  net::raise_fd_limit();
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  return serve(o);
}

}  // namespace raftkv::serve
