#include "net_options.h"

#include <fmt/format.h>
#include <unistd.h>

#include "cli.h"
#include "cli/flags.h"
#include "netns.h"

namespace runner {

void add_net_options(CLI::App& app, NetOptions* o, std::string* fail) {
  auto option = [&](const std::string& name, const std::string& type, const std::string& def,
                    const std::string& help, std::function<std::string(const std::string&)> set) {
    app.add_option_function<std::string>(
           name,
           [fail, set](const std::string& v) {
             std::string why = set(v);
             if (!why.empty()) {
               *fail = why;
               throw CLI::ValidationError(why);
             }
           },
           help)
        ->type_name(type)
        ->default_str(def);
  };
  option("--net", "MODE", "maelstrom",
         "maelstrom (simulated network, stdio nodes) | netns (each server in its own network "
         "namespace, clients over TCP speaking RESP; root only)",
         [o](const std::string& v) -> std::string {
           if (v == "maelstrom")
             o->mode = NetMode::kMaelstrom;
           else if (v == "netns")
             o->mode = NetMode::kNetns;
           else
             return fmt::format("--net must be maelstrom or netns, got '{}'", v);
           return "";
         });
  option("--peer", "KIND", "raftkv",
         "netns: how servers are started: raftkv (raftkv serve --id --peers --client "
         "--data-dir .) | redis (redis-server, appendonly, appendfsync always, its AOF dir "
         "made durable first) | redis-raw (the same without that step)",
         [o](const std::string& v) -> std::string {
           if (v == "raftkv")
             o->peer = Peer::kRaftkv;
           else if (v == "redis")
             o->peer = Peer::kRedis;
           else if (v == "redis-raw")
             o->peer = Peer::kRedisRaw;
           else
             return fmt::format("--peer must be raftkv, redis or redis-raw, got '{}'", v);
           return "";
         });
  option("--resp-cas", "STYLE", "ifeq (redis: eval)",
         "netns: cas as SET k to IFEQ from (ifeq) or as an atomic Lua script (eval)",
         [o](const std::string& v) -> std::string {
           if (v == "ifeq")
             o->cas = CasStyle::kIfeq;
           else if (v == "eval")
             o->cas = CasStyle::kEval;
           else
             return fmt::format("--resp-cas must be ifeq or eval, got '{}'", v);
           o->cas_given = true;
           return "";
         });
  option("--partition-mode", "MODE", "mixed",
         "netns: partitions drop packets (connections hang), reject them with TCP resets "
         "(connections break), or pick one of the two per partition (mixed)",
         [o](const std::string& v) -> std::string {
           if (!parse_partition_mode(v, &o->partition))
             return fmt::format("--partition-mode must be drop, reject or mixed, got '{}'", v);
           return "";
         });
  auto port = [](int* out, const std::string& flag) {
    return [out, flag](const std::string& v) -> std::string {
      auto p = raftkv::cli::to_int(v, 1, 65535);
      if (!p) return fmt::format("{} must be a port in [1, 65535], got '{}'", flag, v);
      *out = static_cast<int>(*p);
      return "";
    };
  };
  option("--client-port", "PORT", "6379", "netns: the servers' client (RESP) port",
         port(&o->client_port, "--client-port"));
  option("--peer-port", "PORT", "7001", "netns: the servers' peer (Raft) port",
         port(&o->peer_port, "--peer-port"));
}

bool validate_net_options(Options& o, std::string* error) {
  NetOptions& n = o.net;
  if (n.mode != NetMode::kNetns) return true;
  if (o.latency_ms != 0) {
    // tc netem is not in this kernel; nftables cannot delay packets.
    *error = "--latency is not available with --net netns (no tc netem); leave it out";
    return false;
  }
  if (o.nodes.size() > static_cast<size_t>(NetnsTopology::kMaxNodes)) {
    *error = fmt::format("--net netns runs at most {} nodes", NetnsTopology::kMaxNodes);
    return false;
  }
  if (n.client_port == n.peer_port) {
    *error = "--client-port and --peer-port must differ";
    return false;
  }
  if (geteuid() != 0) {
    *error = "--net netns needs root (it creates network namespaces and nftables rules)";
    return false;
  }
  if (n.peer != Peer::kRaftkv && !n.cas_given) n.cas = CasStyle::kEval;
  return true;
}

}  // namespace runner
