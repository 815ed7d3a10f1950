// The checker must agree with every known verdict in shared/histories.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "linearizability/checker.h"

namespace {

std::string histories_dir() {
  const char* env = std::getenv("RAFTKV_HISTORIES_DIR");
  return env && *env ? env : RAFTKV_HISTORIES_DIR;
}

TEST(SharedHistories, CheckerAgreesWithEveryVerdict) {
  std::string dir = histories_dir();
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no histories folder at " << dir;
  std::ifstream tsv(dir + "/verdicts.tsv");
  ASSERT_TRUE(tsv) << "cannot open " << dir << "/verdicts.tsv";

  std::string line;
  std::getline(tsv, line);  // header: file expected source origin_path
  int checked = 0;
  while (std::getline(tsv, line)) {
    std::istringstream fields(line);
    std::string file, expected;
    if (!(fields >> file >> expected)) continue;
    ASSERT_TRUE(expected == "linearizable" || expected == "not-linearizable") << line;
    std::string error;
    auto history = lin::load_history_file(dir + "/" + file, &error);
    ASSERT_TRUE(history) << error;
    lin::CheckReport report = lin::check(*history);
    lin::Verdict want = expected == "linearizable" ? lin::Verdict::kValid : lin::Verdict::kInvalid;
    EXPECT_EQ(lin::to_string(report.verdict), std::string(lin::to_string(want))) << file;
    ++checked;
  }
  EXPECT_GT(checked, 0);
  std::printf("checked %d shared histories\n", checked);
}

}  // namespace
