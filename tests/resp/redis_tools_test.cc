// Real clients against the resp library: redis-cli and redis-benchmark
// (Debian's redis-tools) talk to a MiniServer over 127.0.0.1, so the byte
// forms they actually send (arrays of bulk strings, pipelined batches of
// 16, inline commands through --pipe) go through RequestParser and
// parse_command, and their replies through the encoder.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "mini_server.h"

namespace raftkv::resp::testing {
namespace {

using Args = std::vector<std::string>;

struct ToolRun {
  int status = -1;
  std::string output;
};

ToolRun run(const std::string& command) {
  ToolRun r;
  FILE* p = ::popen(("timeout 60 " + command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  r.status = ::pclose(p);
  return r;
}

bool have(const char* tool) {
  return std::system(("command -v " + std::string(tool) + " >/dev/null 2>&1").c_str()) == 0;
}

class RedisTools : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have("redis-cli") || !have("redis-benchmark")) {
      GTEST_SKIP() << "redis-tools not installed (scripts/setup.sh installs it)";
    }
  }
  std::string cli() { return "redis-cli -h 127.0.0.1 -p " + std::to_string(server.port()) + " "; }
  size_t count(const Args& prefix) {
    size_t n = 0;
    for (const auto& c : server.commands()) {
      if (c.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), c.begin())) ++n;
    }
    return n;
  }

  MiniServer server;
};

TEST_F(RedisTools, CliSetGet) {
  ToolRun set = run(cli() + "SET k 'hello world'");
  EXPECT_EQ(set.status, 0) << set.output;
  EXPECT_EQ(set.output, "OK\n");
  ToolRun get = run(cli() + "GET k");
  EXPECT_EQ(get.output, "hello world\n");
  ToolRun missing = run(cli() + "GET nope");
  EXPECT_EQ(missing.output, "\n");  // nil prints as an empty line when not a tty
  EXPECT_EQ(server.commands(),
            (std::vector<Args>{{"SET", "k", "hello world"}, {"GET", "k"}, {"GET", "nope"}}));
}

TEST_F(RedisTools, CliBinaryValueFromStdin) {
  ToolRun r = run("printf 'a\\r\\nb\\000c' | " + cli() + "-x SET bin");
  EXPECT_EQ(r.output, "OK\n");
  ASSERT_EQ(server.commands().size(), 1u);
  EXPECT_EQ(server.commands()[0], (Args{"SET", "bin", std::string("a\r\nb\0c", 6)}));
}

TEST_F(RedisTools, CliErrorsAndCounters) {
  // Not on a tty, redis-cli prints an error reply followed by an empty line.
  EXPECT_EQ(run(cli() + "INCRBY n 40").output, "40\n");
  EXPECT_EQ(run(cli() + "INCR n").output, "41\n");
  EXPECT_EQ(run(cli() + "INCRBY n 1.5").output, "ERR value is not an integer or out of range\n\n");
  EXPECT_EQ(run(cli() + "FOO a b").output,
            "ERR unknown command 'FOO', with args beginning with: 'a' 'b' \n\n");
  EXPECT_EQ(run(cli() + "SET k v NX XX").output, "ERR syntax error\n\n");
  EXPECT_EQ(run(cli() + "GET").output, "ERR wrong number of arguments for 'get' command\n\n");
}

TEST_F(RedisTools, CliFallsBackToResp2AndReportsSelect) {
  // -3 makes redis-cli send HELLO 3; our NOPROTO makes it stay on RESP2.
  ToolRun r = run(cli() + "-3 PING");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("HELLO 3 failed: NOPROTO unsupported protocol version"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("PONG"), std::string::npos) << r.output;
  EXPECT_EQ(count({"HELLO", "3"}), 1u);
  r = run(cli() + "-n 1 PING");
  EXPECT_NE(r.output.find("SELECT 1 failed: ERR DB index is out of range"), std::string::npos)
      << r.output;
  // redis-cli prints HELLO's flat RESP2 array one field per line.
  EXPECT_EQ(run(cli() + "HELLO 2").output,
            "server\nredis\nversion\n7.0.0\nproto\n2\nid\n3\nmode\nstandalone\nrole\nmaster\n"
            "modules\n\n");
}

TEST_F(RedisTools, CliPipeSendsInlineCommands) {
  ToolRun r = run("printf 'SET a 1\\r\\nINCRBY a 41\\r\\nSET \"x y\" '\"'\"'z w'\"'\"'\\r\\n' | " +
                  cli() + "--pipe");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("errors: 0, replies: 3"), std::string::npos) << r.output;
  EXPECT_EQ(count({"SET", "a", "1"}), 1u);
  EXPECT_EQ(count({"INCRBY", "a", "41"}), 1u);
  EXPECT_EQ(count({"SET", "x y", "z w"}), 1u);
  EXPECT_EQ(count({"ECHO"}), 1u);  // --pipe's end marker
}

TEST_F(RedisTools, BenchmarkPipelined) {
  ToolRun r = run("redis-benchmark -h 127.0.0.1 -p " + std::to_string(server.port()) +
                  " -P 16 -c 4 -n 2000 -d 100 -r 1000 -t set,get,incr -q");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(count({"SET"}), 2000u);
  EXPECT_EQ(count({"GET"}), 2000u);
  EXPECT_EQ(count({"INCR"}), 2000u);
  for (const auto& c : server.commands()) {
    if (c[0] != "SET") continue;
    ASSERT_EQ(c.size(), 3u) << c[1];
    ASSERT_EQ(c[2].size(), 100u);
  }
  EXPECT_TRUE(server.protocol_errors().empty());
}

}  // namespace
}  // namespace raftkv::resp::testing
