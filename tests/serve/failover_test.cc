// kill -9 of the leader under a write load: a new leader takes over, no
// acknowledged write is lost and no write refused with TRYAGAIN happened.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "resp/encode.h"
#include "serve_cluster.h"

namespace raftkv::test {
namespace {

// Every write uses a key and value of its own, so its presence afterwards
// says exactly whether it took effect.
struct Outcomes {
  std::mutex mu;
  std::vector<std::string> acked;      // OK: must be present
  std::vector<std::string> refused;    // TRYAGAIN: must be absent
  std::vector<std::string> uncertain;  // UNCERTAIN or connection lost: either
  size_t acked_after_kill = 0;
};

// Writes key "w<t>-<i>" = "v<t>-<i>" one at a time through `ports`,
// moving on to the next server whenever the connection breaks.
void writer(int t, std::vector<uint16_t> ports, std::atomic<bool>& stop, std::atomic<bool>& killed,
            Outcomes& out) {
  size_t server = static_cast<size_t>(t) % ports.size();
  std::optional<RespClient> c;
  for (int i = 0; !stop.load(); ++i) {
    std::string key = fmt::format("w{}-{}", t, i);
    if (!c) {
      try {
        c.emplace(ports[server], Millis(8000));
      } catch (const std::exception&) {
        server = (server + 1) % ports.size();
        std::this_thread::sleep_for(Millis(20));
        continue;
      }
    }
    std::string batch;
    resp::append_bulk_array(batch, {"SET", key, "v" + key});
    std::optional<resp::Reply> r;
    try {
      c->send_raw(batch);
      r = c->read_reply();
    } catch (const std::exception&) {
    }
    std::lock_guard lock(out.mu);
    if (!r) {  // sent or not, answered or not: unknown
      out.uncertain.push_back(key);
      c.reset();
      server = (server + 1) % ports.size();
    } else if (show(*r) == "OK") {
      out.acked.push_back(key);
      if (killed.load()) ++out.acked_after_kill;
    } else if (r->is_error() && r->str.rfind("TRYAGAIN", 0) == 0) {
      out.refused.push_back(key);
    } else if (r->is_error() && r->str.rfind("UNCERTAIN", 0) == 0) {
      out.uncertain.push_back(key);
    } else {
      ADD_FAILURE() << "unexpected reply to SET " << key << ": " << show(*r);
    }
  }
}

// GETs in pipelined batches through one server: key -> reply.
std::map<std::string, std::string> read_back(uint16_t port, const std::vector<std::string>& keys) {
  std::map<std::string, std::string> values;
  RespClient c(port, Millis(20000));
  for (size_t start = 0; start < keys.size(); start += 500) {
    size_t end = std::min(keys.size(), start + 500);
    std::string batch;
    for (size_t i = start; i < end; ++i) resp::append_bulk_array(batch, {"GET", keys[i]});
    c.send_raw(batch);
    std::vector<resp::Reply> replies = c.read_replies(end - start);
    for (size_t i = start; i < end; ++i) values[keys[i]] = show(replies[i - start]);
  }
  return values;
}

TEST(ServeFailover, KillNineLeaderUnderWriteLoadLosesNoAcknowledgedWrite) {
  ServeCluster cluster({.servers = 3,
                        .extra_args = {"--election-timeout-ms", "300", "--heartbeat-ms", "50",
                                       "--forward-timeout-ms", "2000"}});
  cluster.start_all();
  auto old_leader = cluster.wait_for_leader(Millis(15000));
  ASSERT_TRUE(old_leader);
  std::vector<uint16_t> ports;
  for (const auto& id : cluster.ids()) ports.push_back(cluster.client_port(id));

  Outcomes out;
  std::atomic<bool> stop{false}, killed{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back(writer, t, ports, std::ref(stop), std::ref(killed), std::ref(out));
  }
  std::this_thread::sleep_for(Millis(1500));
  size_t acked_before;
  {
    std::lock_guard lock(out.mu);
    acked_before = out.acked.size();
  }
  cluster.kill9(*old_leader);
  killed = true;
  auto killed_at = std::chrono::steady_clock::now();
  auto new_leader = cluster.wait_for_leader(Millis(15000), *old_leader);
  // Writes through followers forwarded to the dead leader wait for
  // --forward-timeout-ms; keep the load on until writes flow again.
  auto resume_deadline = killed_at + Millis(20000);
  for (;;) {
    {
      std::lock_guard lock(out.mu);
      if (out.acked_after_kill >= 200) break;
    }
    if (std::chrono::steady_clock::now() > resume_deadline) break;
    std::this_thread::sleep_for(Millis(20));
  }
  auto recovered = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - killed_at);
  stop = true;
  for (auto& w : writers) w.join();
  ASSERT_TRUE(new_leader) << cluster.log_tail(cluster.follower_of(*old_leader));
  EXPECT_GT(acked_before, 0u);
  EXPECT_GE(out.acked_after_kill, 200u) << "writes did not resume after the failover";

  std::map<std::string, std::string> acked = read_back(cluster.client_port(*new_leader), out.acked);
  for (const auto& key : out.acked) {
    ASSERT_EQ(acked[key], "\"v" + key + "\"") << "acknowledged write lost: " << key;
  }
  std::map<std::string, std::string> refused =
      read_back(cluster.client_port(*new_leader), out.refused);
  for (const auto& key : out.refused) {
    ASSERT_EQ(refused[key], "(nil)") << "write answered TRYAGAIN was applied: " << key;
  }
  std::map<std::string, std::string> maybe =
      read_back(cluster.client_port(*new_leader), out.uncertain);
  for (const auto& key : out.uncertain) {
    std::string v = maybe[key];
    ASSERT_TRUE(v == "(nil)" || v == "\"v" + key + "\"") << key << " = " << v;
  }
  // The old leader comes back as a follower and catches up.
  cluster.start(*old_leader);
  uint64_t target = std::stoull(cluster.info(*new_leader)["commit_index"]);
  auto deadline = std::chrono::steady_clock::now() + Millis(15000);
  std::map<std::string, std::string> info;
  do {
    std::this_thread::sleep_for(Millis(50));
    info = cluster.info(*old_leader);
  } while (std::chrono::steady_clock::now() < deadline &&
           (info["applied_index"].empty() || std::stoull(info["applied_index"]) < target));
  EXPECT_EQ(info["role"], "follower");
  EXPECT_EQ(info["leader"], *new_leader);
  ASSERT_FALSE(info["applied_index"].empty());
  EXPECT_GE(std::stoull(info["applied_index"]), target) << cluster.log_tail(*old_leader);
  std::cout << "acked " << out.acked.size() << " (" << out.acked_after_kill
            << " after the kill), refused " << out.refused.size() << ", uncertain "
            << out.uncertain.size() << "; 200 writes after the kill within " << recovered.count()
            << " ms\n";
}

// A server left alone knows no leader: it refuses writes with TRYAGAIN,
// and a refused write never shows up once the others are back.
TEST(ServeFailover, WithoutAQuorumWritesAreRefusedAndNeverApplied) {
  ServeCluster cluster({.servers = 3,
                        .extra_args = {"--election-timeout-ms", "300", "--heartbeat-ms", "50",
                                       "--forward-timeout-ms", "2000"}});
  cluster.start_all();
  auto leader = cluster.wait_for_leader(Millis(15000));
  ASSERT_TRUE(leader);
  std::string alone = cluster.follower_of(*leader);
  for (const auto& id : cluster.ids()) {
    if (id != alone) {
      ASSERT_EQ(cluster.terminate(id, Millis(10000)), std::optional<int>(0));
    }
  }
  // Once its election timeout passes it stops naming the old leader.
  auto deadline = std::chrono::steady_clock::now() + Millis(10000);
  while (!cluster.info(alone)["leader"].empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(50));
  }
  ASSERT_TRUE(cluster.info(alone)["leader"].empty());
  RespClient c = cluster.client(alone);
  int refused = 0;
  for (int i = 0; i < 20; ++i) {
    resp::Reply r = c.call({"SET", fmt::format("lonely-{}", i), "x"});
    ASSERT_TRUE(r.is_error()) << show(r);
    if (r.str.rfind("TRYAGAIN", 0) == 0) ++refused;
  }
  EXPECT_EQ(refused, 20);
  for (const auto& id : cluster.ids()) {
    if (id != alone) cluster.start(id);
  }
  ASSERT_TRUE(cluster.wait_for_leader(Millis(15000)));
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(
        show(call_until_settled(cluster.client_port(alone), {"GET", fmt::format("lonely-{}", i)})),
        "(nil)");
  }
}

}  // namespace
}  // namespace raftkv::test
