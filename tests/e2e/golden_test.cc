// Golden tests: each golden/NAME.in is fed to a fresh raftkv (no --data-dir,
// so a private temporary store) and stdout must equal golden/NAME.out byte
// for byte. The .out files were reviewed by hand against the protocol; they
// are the specification, not a recording. A case whose NAME.known-bug file
// describes a bug in src/ is skipped while it still fails, and fails once
// fixed so the marker gets removed. NAME.args, when present, holds extra
// command-line arguments (whitespace-separated), e.g. a small
// --max-line-bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "harness.h"

namespace raftkv::e2e {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> golden_cases() {
  std::vector<std::string> names;
  for (const auto& f : fs::directory_iterator(GOLDEN_DIR)) {
    if (f.path().extension() == ".in") names.push_back(f.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, StdoutMatchesByteForByte) {
  const std::string base = std::string(GOLDEN_DIR) + "/" + GetParam();
  ASSERT_TRUE(fs::exists(base + ".out")) << "no " << base << ".out";
  std::vector<std::string> args;
  if (fs::exists(base + ".args")) {
    std::istringstream in(read_file(base + ".args"));
    for (std::string a; in >> a;) args.push_back(a);
  }
  ScratchDir cwd;
  RunResult r = run_raftkv(read_file(base + ".in"),
                           {.args = args, .cwd = cwd.path(), .log_name = GetParam()});
  const std::string want = read_file(base + ".out");
  if (fs::exists(base + ".known-bug")) {
    if (r.out != want) GTEST_SKIP() << "known bug: " << read_file(base + ".known-bug");
    ADD_FAILURE() << "fixed: delete " << base << ".known-bug";
  }
  EXPECT_FALSE(r.timed_out) << "raftkv did not exit within 5 s of its input";
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text();
  EXPECT_EQ(r.out, want) << "stderr:\n" << r.stderr_text();
  EXPECT_EQ(non_json_lines(r.out), std::vector<std::string>{});
  // Without --data-dir nothing may be left in the working directory.
  EXPECT_TRUE(fs::is_empty(cwd.path()));
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(golden_cases()), [](const auto& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
});

TEST(GoldenFiles, AtLeastThirteenCasesIncludingTheSeedSample) {
  std::vector<std::string> cases = golden_cases();
  EXPECT_GE(cases.size(), 13u);
  EXPECT_NE(std::find(cases.begin(), cases.end(), "sample-put-and-get"), cases.end());
}

}  // namespace
}  // namespace raftkv::e2e
