// Process-level behaviour of raftkv beyond single golden runs: repeatability,
// restarts with and without --data-dir, huge input lines, and a prompt exit
// once stdin closes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "harness.h"

namespace raftkv::e2e {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kInitOk =
    R"({"src":"n1","dest":"c0","body":{"type":"init_ok","in_reply_to":1,"msg_id":0}})";

std::string golden(const std::string& name) {
  return read_file(std::string(GOLDEN_DIR) + "/" + name);
}

// Every run must exit 0 in time and write nothing but JSON lines.
RunResult run_ok(std::string_view input, const RunOptions& o) {
  RunResult r = run_raftkv(input, o);
  EXPECT_FALSE(r.timed_out) << o.log_name << " did not exit in time";
  EXPECT_EQ(r.exit_code, 0) << o.log_name << " stderr:\n" << r.stderr_text();
  EXPECT_EQ(non_json_lines(r.out), std::vector<std::string>{}) << o.log_name;
  return r;
}

TEST(NodeProcess, SeedSampleTwiceFromTheSameDirectoryGivesTheSameBytes) {
  ScratchDir cwd;
  const std::string in = golden("sample-put-and-get.in");
  const std::string want = golden("sample-put-and-get.out");
  RunResult first = run_ok(in, {.cwd = cwd.path(), .log_name = "seed-twice-1"});
  RunResult second = run_ok(in, {.cwd = cwd.path(), .log_name = "seed-twice-2"});
  EXPECT_EQ(first.out, want);
  EXPECT_EQ(second.out, want);
}

TEST(NodeProcess, RestartWithDataDirKeepsData) {
  ScratchDir data;
  const std::vector<std::string> args = {"--data-dir", data.path()};
  RunResult r1 = run_ok(
      lines({
          kInit,
          R"({"src":"c1","dest":"n1","body":{"type":"write","msg_id":2,"key":1,"value":42}})",
          R"({"src":"c1","dest":"n1","body":{"type":"write","msg_id":3,"key":"1","value":{"s":[1]}}})",
      }),
      {.args = args, .log_name = "restart-1"});
  EXPECT_EQ(r1.out,
            lines({
                kInitOk,
                R"({"src":"n1","dest":"c1","body":{"type":"write_ok","in_reply_to":2,"msg_id":1}})",
                R"({"src":"n1","dest":"c1","body":{"type":"write_ok","in_reply_to":3,"msg_id":2}})",
            }));
  EXPECT_TRUE(fs::is_directory(data.path() + "/n1")) << "state must live in DIR/<node_id>/";

  // The second run reads the old values and appends after the restored log.
  RunResult r2 = run_ok(
      lines({
          kInit,
          R"({"src":"c1","dest":"n1","body":{"type":"read","msg_id":2,"key":1}})",
          R"({"src":"c1","dest":"n1","body":{"type":"read","msg_id":3,"key":"1"}})",
          R"({"src":"c1","dest":"n1","body":{"type":"cas","msg_id":4,"key":1,"from":42,"to":43}})",
      }),
      {.args = args, .log_name = "restart-2"});
  EXPECT_EQ(
      r2.out,
      lines({
          kInitOk,
          R"({"src":"n1","dest":"c1","body":{"type":"read_ok","in_reply_to":2,"msg_id":1,"value":42}})",
          R"({"src":"n1","dest":"c1","body":{"type":"read_ok","in_reply_to":3,"msg_id":2,"value":{"s":[1]}}})",
          R"({"src":"n1","dest":"c1","body":{"type":"cas_ok","in_reply_to":4,"msg_id":3}})",
      }));

  RunResult r3 = run_ok(
      lines({kInit, R"({"src":"c1","dest":"n1","body":{"type":"read","msg_id":2,"key":1}})"}),
      {.args = args, .log_name = "restart-3"});
  EXPECT_EQ(
      r3.out,
      lines({
          kInitOk,
          R"({"src":"n1","dest":"c1","body":{"type":"read_ok","in_reply_to":2,"msg_id":1,"value":43}})",
      }));
}

TEST(NodeProcess, RunsWithoutDataDirAreIndependentAndCleanUp) {
  ScratchDir cwd;
  RunResult r1 =
      run_ok(lines({
                 kInit,
                 R"({"src":"c1","dest":"n1","body":{"type":"write","msg_id":2,"key":1,"value":1}})",
             }),
             {.cwd = cwd.path(), .log_name = "independent-1"});
  RunResult r2 = run_ok(
      lines({kInit, R"({"src":"c1","dest":"n1","body":{"type":"read","msg_id":2,"key":1}})"}),
      {.cwd = cwd.path(), .log_name = "independent-2"});
  EXPECT_EQ(
      r2.out,
      lines({
          kInitOk,
          R"({"src":"n1","dest":"c1","body":{"type":"error","in_reply_to":2,"msg_id":1,"code":20,"text":"key does not exist"}})",
      }));
  // Each run announces its private temporary dir once on stderr and removes it.
  for (const RunResult* r : {&r1, &r2}) {
    const std::string err = r->stderr_text();
    const std::string marker = "using temporary ";
    size_t at = err.find(marker);
    ASSERT_NE(at, std::string::npos) << err;
    at += marker.size();
    const std::string dir = err.substr(at, err.find_first_of(" \n", at) - at);
    EXPECT_FALSE(fs::exists(dir)) << dir << " was left behind";
    EXPECT_EQ(err.find(marker, at), std::string::npos) << "announced twice:\n" << err;
  }
  EXPECT_TRUE(fs::is_empty(cwd.path()));
}

TEST(NodeProcess, HundredMegabyteLineIsRefusedWithError12AndLaterRequestsAnswered) {
  std::string in = lines({
      kInit,
      R"({"src":"c1","dest":"n1","body":{"type":"write","msg_id":2,"key":1,"value":1}})",
  });
  // Valid JSON with a msg_id: only its size makes it unacceptable. It is
  // never buffered whole, but its ids are recovered, so it gets error 12.
  in += R"({"src":"c1","dest":"n1","body":{"type":"write","msg_id":3,"key":2,"value":")";
  in.append(100 << 20, 'x');
  in += "\"}}\n";
  in += lines({
      R"({"src":"c1","dest":"n1","body":{"type":"read","msg_id":4,"key":1}})",
      R"({"src":"c1","dest":"n1","body":{"type":"read","msg_id":5,"key":2}})",
  });
  RunResult r = run_ok(in, {.log_name = "huge-line"});
  EXPECT_EQ(
      r.out,
      lines({
          kInitOk,
          R"({"src":"n1","dest":"c1","body":{"type":"write_ok","in_reply_to":2,"msg_id":1}})",
          R"({"src":"n1","dest":"c1","body":{"type":"error","in_reply_to":3,"msg_id":2,"code":12,"text":"line of 104857678 bytes is over the limit of 67108864 bytes"}})",
          R"({"src":"n1","dest":"c1","body":{"type":"read_ok","in_reply_to":4,"msg_id":3,"value":1}})",
          R"({"src":"n1","dest":"c1","body":{"type":"error","in_reply_to":5,"msg_id":4,"code":20,"text":"key does not exist"}})",
      }));
  EXPECT_NE(r.stderr_text().find("dropped a"), std::string::npos) << "the drop must be logged";
}

// A functional requirement (Maelstrom and the test runner restart nodes by
// closing stdin), hence the one timing assertion in these tests.
TEST(NodeProcess, ExitsWellUnderOneSecondAfterStdinCloses) {
  std::string in(kInit);
  in += '\n';
  for (int i = 0; i < 200; ++i) {
    std::string id = std::to_string(i + 2);
    std::string type = i % 2 ? "read" : "write";
    in += R"({"src":"c1","dest":"n1","body":{"type":")" + type + R"(","msg_id":)" + id +
          R"(,"key":)" + std::to_string(i % 7) + R"(,"value":)" + id + "}}\n";
  }
  RunResult r = run_ok(in, {.log_name = "prompt-exit"});
  RecordProperty("seconds_after_eof", std::to_string(r.seconds_after_eof));
  std::cout << "exited " << r.seconds_after_eof << " s after stdin closed\n";
  EXPECT_LT(r.seconds_after_eof, 1.0);
  // Every accepted request was answered before the exit.
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 201);
}

// A follower forwards the writes it reads in one turn to the leader as one
// message, but never one the leader could not read: a batch stays far below
// --max-line-bytes, and a request too big to share goes alone.
TEST(NodeProcess, FollowerBatchesForwardedRequestsBelowTheLineLimit) {
  auto forwards = [](const std::string& value, std::vector<std::string> args) {
    std::string in = lines(
        {R"({"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1","n2"]}})",
         // n2 leads term 1: n1 follows it and forwards client requests to it.
         R"({"src":"n2","dest":"n1","body":{"type":"raft","msg_id":1,"m":"app","term":1}})"});
    for (int c = 1; c <= 4; ++c) {
      std::string n = std::to_string(c);
      in += R"({"src":"c)" + n + R"(","dest":"n1","body":{"type":"write","msg_id":1,"key":)" + n +
            R"(,"value":")" + value + "\"}}\n";
    }
    RunResult r = run_ok(in, {.args = std::move(args), .log_name = "forward-batches"});
    std::vector<std::string> out;
    std::istringstream is(r.out);
    for (std::string line; std::getline(is, line);) {
      if (line.find(R"("type":"fwd")") != std::string::npos) out.push_back(line);
    }
    return out;
  };
  auto writes_in = [](const std::string& line) {
    size_t n = 0;
    for (size_t at = 0; (at = line.find(R"("op":"write")", at)) != std::string::npos; ++at) ++n;
    return n;
  };
  std::vector<std::string> one = forwards("v", {});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_NE(one[0].find(R"("batch":[)"), std::string::npos) << one[0];
  EXPECT_EQ(writes_in(one[0]), 4u);
  // 2,048-byte lines: 600-byte values cannot share a message.
  std::vector<std::string> alone = forwards(std::string(600, 'x'), {"--max-line-bytes", "2048"});
  ASSERT_EQ(alone.size(), 4u);
  for (const std::string& line : alone) {
    EXPECT_EQ(writes_in(line), 1u);
    EXPECT_LT(line.size(), 2048u);
  }
}

TEST(NodeProcess, EmptyInputExitsCleanlyWithNoOutput) {
  RunResult r = run_ok("", {.log_name = "empty"});
  EXPECT_EQ(r.out, "");
}

TEST(NodeProcess, HelpGoesToStderrNotStdout) {
  RunResult r = run_ok("", {.args = {"--help"}, .log_name = "help"});
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.stderr_text().find("--data-dir"), std::string::npos);
}

}  // namespace
}  // namespace raftkv::e2e
