#include "netns_mode.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "clock.h"

namespace runner {
namespace {

constexpr int64_t kReadyTimeout = 10 * kSec;

sockaddr_in socket_address(const std::string& ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

}  // namespace

NetnsMode::NetnsMode(EventLoop& loop, Network& net, Problems& problems, const Options& opts,
                     uint64_t seed)
    : loop_(loop), net_(net), problems_(problems), opts_(opts), rng_(seed ^ 0x6e65746e73ULL) {}

NetnsMode::~NetnsMode() {
  teardown();
}

std::vector<std::string> NetnsMode::server_command(const Options& opts, size_t index,
                                                   const std::vector<std::string>& addresses) {
  const NetOptions& n = opts.net;
  const std::string& me = addresses[index];
  std::vector<std::string> cmd{opts.bin};
  if (n.peer == Peer::kRaftkv) {
    std::vector<std::string> peers;
    for (size_t i = 0; i < opts.nodes.size(); ++i)
      peers.push_back(fmt::format("{}={}:{}", opts.nodes[i], addresses[i], n.peer_port));
    cmd.insert(cmd.end(), {"serve", "--id", opts.nodes[index], "--peers",
                           fmt::format("{}", fmt::join(peers, ",")), "--client",
                           fmt::format("{}:{}", me, n.client_port), "--data-dir", "."});
  } else {
    if (n.peer == Peer::kRedis) {
      // Redis 7.0 creates appendonlydir but never fsyncs the directory that
      // holds it, so a power cut before anything else syncs that directory
      // loses every write, appendfsync always or not (redis-raw shows it).
      // Made durable here, the AOF's own fsyncs decide what survives.
      cmd = {"/bin/sh", "-c", "mkdir -p appendonlydir && sync . && exec \"$0\" \"$@\"", opts.bin};
    }
    cmd.insert(cmd.end(), {"--bind", me, "--port", std::to_string(n.client_port), "--dir", ".",
                           "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                           "--protected-mode", "no", "--daemonize", "no"});
  }
  // The user's arguments come last, so they override the presets.
  cmd.insert(cmd.end(), opts.args.begin(), opts.args.end());
  return cmd;
}

bool NetnsMode::setup(std::string* error) {
  if (!topo_.create(opts_.nodes, error)) return false;
  if (opts_.nemesis.count("partition")) {
    // Fail now rather than run a whole test whose partitions never happen.
    std::string out;
    int rc = NetnsTopology::run_in(topo_.node_netns_name(0), {"nft", "-f", "-"},
                                   nft_ruleset({}, PartitionMode::kDrop), &out);
    if (rc != 0) {
      *error = fmt::format(
          "--nemesis partition needs nftables (Debian nftables): nft exited {}: {}", rc, out);
      return false;
    }
  }
  std::map<std::string, sockaddr_in> servers;
  for (size_t i = 0; i < opts_.nodes.size(); ++i) {
    addresses_.push_back(topo_.node_address(i));
    servers[opts_.nodes[i]] = socket_address(addresses_.back(), opts_.net.client_port);
  }
  transport_ = std::make_unique<TcpTransport>(
      loop_, net_, problems_, [this] { return topo_.client_socket(); }, servers, opts_.net.cas);
  net_.set_client_transport([this](Message m) { transport_->send(std::move(m)); });
  fmt::print(stderr, "maelstrom-runner: --net netns: namespaces {}-*, servers {}..{}{}\n",
             topo_.tag(), addresses_.front(), addresses_.back(),
             topo_.stale_removed() > 0
                 ? fmt::format(" (removed {} stale namespaces)", topo_.stale_removed())
                 : "");
  return true;
}

ClusterHooks NetnsMode::cluster_hooks() {
  ClusterHooks h;
  h.maelstrom_init = false;
  h.customize = [this](NodeSpec& spec, size_t index) {
    spec.netns = topo_.node_netns_path(index);
    spec.stdout_to_log = true;
    std::vector<std::string> cmd = server_command(opts_, index, addresses_);
    spec.bin = cmd.front();
    spec.args.assign(cmd.begin() + 1, cmd.end());
  };
  h.partition = [this](const Grudge& g) { partition(g); };
  h.heal = [this] { heal(); };
  return h;
}

bool NetnsMode::apply_rules(size_t index, const std::set<std::string>& sources,
                            PartitionMode mode) {
  std::string out;
  int rc = NetnsTopology::run_in(topo_.node_netns_name(index), {"nft", "-f", "-"},
                                 nft_ruleset(sources, mode), &out);
  if (rc == 0) return true;
  ++rule_failures_;
  problems_.add("nft-failed", fmt::format("{}: nft exited {}: {}", opts_.nodes[index], rc, out));
  return false;
}

void NetnsMode::partition(const Grudge& grudge) {
  PartitionMode mode = opts_.net.partition;
  if (mode == PartitionMode::kMixed)
    mode = std::bernoulli_distribution(0.5)(rng_) ? PartitionMode::kDrop : PartitionMode::kReject;
  ++(mode == PartitionMode::kDrop ? partitions_drop_ : partitions_reject_);
  for (size_t i = 0; i < opts_.nodes.size(); ++i) {
    std::set<std::string> sources;
    auto g = grudge.find(opts_.nodes[i]);
    if (g != grudge.end())
      for (size_t j = 0; j < opts_.nodes.size(); ++j)
        if (g->second.count(opts_.nodes[j])) sources.insert(addresses_[j]);
    apply_rules(i, sources, mode);
  }
}

void NetnsMode::heal() {
  for (size_t i = 0; i < opts_.nodes.size(); ++i) apply_rules(i, {}, PartitionMode::kDrop);
}

bool NetnsMode::server_accepts(size_t index) {
  int fd = topo_.client_socket();
  if (fd < 0) return false;
  sockaddr_in a = socket_address(addresses_[index], opts_.net.client_port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (!ok && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    ok = poll(&p, 1, 200) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
  }
  close(fd);
  return ok;
}

bool NetnsMode::wait_ready(std::string* error) {
  int64_t deadline = mono_ns() + kReadyTimeout;
  std::vector<bool> ready(opts_.nodes.size(), false);
  size_t up = 0;
  int64_t next_try = 0;
  // The loop keeps running meanwhile: it drains the servers' logs and reaps.
  loop_.run_until([&] {
    if (mono_ns() < next_try) return false;
    next_try = mono_ns() + 50 * kMs;
    for (size_t i = 0; i < ready.size(); ++i)
      if (!ready[i] && server_accepts(i)) {
        ready[i] = true;
        ++up;
      }
    return up == ready.size() || mono_ns() >= deadline;
  });
  if (up == ready.size()) return true;
  std::vector<std::string> down;
  for (size_t i = 0; i < ready.size(); ++i)
    if (!ready[i])
      down.push_back(
          fmt::format("{} ({}:{})", opts_.nodes[i], addresses_[i], opts_.net.client_port));
  *error = fmt::format("servers not accepting connections after 10 s: {} (see node-logs/)",
                       fmt::join(down, ", "));
  return false;
}

void NetnsMode::teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  net_.set_client_transport(nullptr);
  if (transport_) clients_ = transport_->summary();
  transport_.reset();  // its sockets hold the bridge namespace
  // Rules and links live inside the namespaces: they go with them.
  std::string tag = topo_.tag();
  topo_.remove();
  namespaces_left_ = tag.empty() ? 0 : NetnsTopology::count_namespaces(tag);
  if (namespaces_left_ > 0)
    problems_.add("netns-left",
                  fmt::format("{} namespaces {}-* still exist", namespaces_left_, tag));
}

nlohmann::json NetnsMode::summary(const HistoryLog& history) const {
  nlohmann::json faults = nlohmann::json::object();
  for (const auto& e : history.nemesis_events())
    if (e.f.rfind("start-", 0) == 0) faults[e.f.substr(6)] = faults.value(e.f.substr(6), 0) + 1;
  nlohmann::json addrs = nlohmann::json::object();
  for (size_t i = 0; i < addresses_.size(); ++i)
    addrs[opts_.nodes[i]] = fmt::format("{}:{}", addresses_[i], opts_.net.client_port);
  return {{"mode", "netns"},
          {"peer", opts_.net.peer == Peer::kRaftkv  ? "raftkv"
                   : opts_.net.peer == Peer::kRedis ? "redis"
                                                    : "redis-raw"},
          {"cas", opts_.net.cas == CasStyle::kEval ? "eval" : "ifeq"},
          {"namespaces", topo_.tag() + "-*"},
          {"client-address", topo_.client_address()},
          {"servers", addrs},
          {"clients", transport_ ? transport_->summary() : clients_},
          {"partition-mode", to_string(opts_.net.partition)},
          {"partitions", {{"drop", partitions_drop_}, {"reject", partitions_reject_}}},
          {"nft-failures", rule_failures_},
          {"faults", faults},
          {"stale-namespaces-removed-at-start", topo_.stale_removed()},
          {"namespaces-left-at-exit", namespaces_left_}};
}

}  // namespace runner
