// The HTML report, `check --html` and `serve`, tested as a person would use
// them: real runs of the fixture nodes, the report opened in headless
// Chromium (Debian `chromium`; the browser tests skip without it), and real
// HTTP requests to `serve` on 127.0.0.1.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "messages_log.h"
#include "report.h"
#include "serve.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

fs::path scratch(const std::string& name) {
  fs::path dir = fs::path(SCRATCH_DIR) / "report" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Runs argv with stdout and stderr to files; returns the exit status.
int run(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* o = fopen(out.c_str(), "w");
    FILE* e = fopen(err.c_str(), "w");
    dup2(fileno(o), 1);
    dup2(fileno(e), 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string chromium() {
  const char* env = getenv("CHROMIUM");
  if (env && *env) return env;
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"})
    for (const char* name : {"chromium", "chromium-browser"})
      if (access((fs::path(dir) / name).c_str(), X_OK) == 0) return (fs::path(dir) / name).string();
  return "";
}

#define REQUIRE_CHROMIUM()                                                              \
  if (chromium().empty())                                                               \
  GTEST_SKIP() << "chromium is not installed (Debian package `chromium`, installed by " \
                  "scripts/setup.sh): the browser tests of the HTML report are skipped"

struct Page {
  int status = -1;
  std::string dom;     // after scripts ran
  std::string errors;  // console lines from the browser's log
  double seconds = 0;  // wall time of the whole browser run
};

std::vector<std::string> browser_args(const fs::path& dir) {
  return {chromium(),
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--hide-scrollbars",
          "--no-first-run",
          "--enable-logging=stderr",
          "--v=0",
          std::string("--user-data-dir=") + (dir / "chromium-profile").string()};
}

// Opens a file in headless Chromium and returns the DOM its scripts left.
Page open_page(const fs::path& html, const fs::path& dir) {
  auto args = browser_args(dir);
  args.insert(args.end(), {"--dump-dom", std::string("file://") + fs::absolute(html).string()});
  Page p;
  auto start = Clock::now();
  p.status = run(args, dir / "dom.html", dir / "chromium.log");
  p.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  p.dom = slurp(dir / "dom.html");
  std::string log = slurp(dir / "chromium.log");
  std::regex console(".*:CONSOLE.*");
  for (std::sregex_iterator it(log.begin(), log.end(), console), end; it != end; ++it)
    p.errors += it->str() + "\n";
  return p;
}

void screenshot(const fs::path& html, const fs::path& png, const fs::path& dir) {
  auto args = browser_args(dir);
  args.insert(args.end(), {"--window-size=1300,1500", std::string("--screenshot=") + png.string(),
                           std::string("file://") + fs::absolute(html).string()});
  ASSERT_EQ(run(args, dir / "shot.out", dir / "shot.log"), 0) << slurp(dir / "shot.log");
  ASSERT_GT(fs::file_size(png), 10'000u);
}

void expect_rendered(const Page& p) {
  ASSERT_EQ(p.status, 0);
  EXPECT_NE(p.dom.find("data-report-ready=\"1\""), std::string::npos)
      << "the report's script did not finish";
  std::smatch body;
  ASSERT_TRUE(std::regex_search(p.dom, body, std::regex("<body[^>]*>")));
  EXPECT_EQ(body.str().find("data-report-error"), std::string::npos)
      << "script error in the page: " << body.str();
  EXPECT_EQ(p.errors, "") << "the page logged to the console";
}

int render_ms(const Page& p) {
  std::smatch m;
  if (!std::regex_search(p.dom, m, std::regex("data-render-ms=\"([0-9]+)\""))) return -1;
  return std::stoi(m[1]);
}

// Runs `maelstrom-runner test` into store; returns the run directory.
fs::path run_test(const fs::path& dir, std::vector<std::string> extra, int expect_status) {
  std::vector<std::string> args{RUNNER_BIN, "test",    "-w",
                                "lin-kv",   "--store", (dir / "store").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  int status = run(args, dir / "runner.out", dir / "runner.err");
  if (expect_status >= 0) {
    EXPECT_EQ(status, expect_status) << slurp(dir / "runner.out") << slurp(dir / "runner.err");
  }
  return fs::canonical(dir / "store" / "latest");
}

std::string fixture(const std::string& name) {
  return std::string(FIXTURE_DIR) + "/fixture-" + name;
}

const fs::path kDocs = fs::path(SOURCE_DIR) / "docs";

TEST(RunReport, InvalidRunShowsItsAnomalyInTheBrowser) {
  fs::path dir = scratch("invalid");
  fs::path run_dir = run_test(
      dir,
      {"--bin", fixture("broken-local"), "--node-count", "3", "--time-limit", "4", "--rate", "50",
       "--latency", "5", "--nemesis", "partition", "--nemesis-interval", "1", "--seed", "7"},
      1);
  fs::path html = run_dir / "index.html";
  ASSERT_TRUE(fs::exists(html));
  ASSERT_TRUE(fs::exists(run_dir / "messages.jsonl"));
  std::string text = slurp(html);
  EXPECT_EQ(text.find("http://"), text.find("http://www.w3.org/2000/svg")) << "no network URLs";
  EXPECT_EQ(text.find("<script src"), std::string::npos);
  REQUIRE_CHROMIUM();
  Page p = open_page(html, dir);
  expect_rendered(p);
  EXPECT_NE(p.dom.find("id=\"anomaly-0\""), std::string::npos) << "no anomaly view";
  EXPECT_NE(p.dom.find("class=\"anomaly-svg\""), std::string::npos) << "anomaly not drawn";
  EXPECT_NE(p.dom.find("class=\"op stuck\""), std::string::npos) << "no op that cannot be placed";
  EXPECT_TRUE(
      std::regex_search(p.dom, std::regex("class=\"why\">process [0-9]+ (read|cas|write) ")))
      << "no sentence explaining the anomaly";
  EXPECT_NE(p.dom.find("id=\"msg-svg\""), std::string::npos) << "no message diagram";
  screenshot(html, dir / "report-invalid.png", dir);
  if (getenv("UPDATE_DOCS"))
    fs::copy_file(dir / "report-invalid.png", kDocs / "report-invalid.png",
                  fs::copy_options::overwrite_existing);
}

TEST(RunReport, ValidRunWithFaultsDrawsTimelineAndMessages) {
  fs::path dir = scratch("valid");
  fs::path run_dir = run_test(
      dir,
      {"--bin", fixture("memory-kv"), "--node-count", "3", "--time-limit", "4", "--rate", "50",
       "--latency", "5", "--nemesis", "partition,pause", "--nemesis-interval", "1", "--seed", "3"},
      0);
  fs::path html = run_dir / "index.html";
  std::string text = slurp(html);
  // memory-kv proxies every request to n0: server-to-server messages exist.
  EXPECT_NE(slurp(run_dir / "messages.jsonl").find("\"n1\",\"n0\""), std::string::npos);
  EXPECT_NE(text.find("data:image/png;base64,"), std::string::npos) << "plots not inlined";
  REQUIRE_CHROMIUM();
  Page p = open_page(html, dir);
  expect_rendered(p);
  EXPECT_EQ(p.dom.find("id=\"anomaly-0\""), std::string::npos);
  EXPECT_NE(p.dom.find("class=\"verdict valid\""), std::string::npos);
  EXPECT_NE(p.dom.find("id=\"msg-svg\""), std::string::npos);
  EXPECT_NE(p.dom.find("<line"), std::string::npos) << "no message drawn";
  screenshot(html, dir / "report-valid.png", dir);
  if (getenv("UPDATE_DOCS"))
    fs::copy_file(dir / "report-valid.png", kDocs / "report-valid.png",
                  fs::copy_options::overwrite_existing);
}

TEST(CheckHtml, SharedInvalidHistoryGetsAnAnomalyView) {
  fs::path dir = scratch("check-shared");
  fs::path history = fs::path(SHARED_HISTORIES) / "knossos_bad-analysis.jsonl";
  if (!fs::exists(history)) GTEST_SKIP() << "shared histories not found at " << SHARED_HISTORIES;
  fs::path html = dir / "bad.html";
  int status = run({RUNNER_BIN, "check", history.string(), "--html", html.string()},
                   dir / "check.out", dir / "check.err");
  EXPECT_EQ(status, 1) << slurp(dir / "check.err");
  std::string text = slurp(html);
  EXPECT_NE(text.find("the only writes that could precede it wrote"), std::string::npos);
  REQUIRE_CHROMIUM();
  Page p = open_page(html, dir);
  expect_rendered(p);
  EXPECT_NE(p.dom.find("id=\"anomaly-0\""), std::string::npos);
}

TEST(CheckHtml, HundredThousandOperationsRenderInUnderFiveSeconds) {
  fs::path dir = scratch("big");
  fs::path history = dir / "big.jsonl";
  {
    // 20 processes, each writing then reading its own key: valid, and cheap
    // to check, so the time goes to rendering.
    std::ofstream out(history);
    int64_t t = 0;
    for (int i = 0; i < 50'000; ++i) {
      int p = i % 20;
      for (const char* f : {"write", "read"}) {
        bool w = f[0] == 'w';
        out << R"({"process":)" << p << R"(,"type":"invoke","f":")" << f << R"(","key":)" << p
            << R"(,"value":)" << (w ? std::to_string(i) : "null") << R"(,"time":)" << t << "}\n";
        out << R"({"process":)" << p << R"(,"type":"ok","f":")" << f << R"(","key":)" << p
            << R"(,"value":)" << i << R"(,"time":)" << t + 700'000 << "}\n";
        t += 50'000;
      }
    }
  }
  fs::path html = dir / "big.html";
  ASSERT_EQ(run({RUNNER_BIN, "check", history.string(), "--html", html.string()}, dir / "check.out",
                dir / "check.err"),
            0)
      << slurp(dir / "check.err");
  EXPECT_LT(fs::file_size(html), 6u << 20);
  REQUIRE_CHROMIUM();
  Page p = open_page(html, dir);
  expect_rendered(p);
  EXPECT_NE(p.dom.find("100000 operations"), std::string::npos);
  int ms = render_ms(p);
  ASSERT_GE(ms, 0);
  EXPECT_LT(ms, 5000) << "parse + draw took " << ms << " ms";
  // Browser start-up included; generous because the machine is shared.
  EXPECT_LT(p.seconds, 20) << "the browser took " << p.seconds << " s in all";
  RecordProperty("render_ms", ms);
}

TEST(ReportData, EmbedsABoundedSampleOfManyMessages) {
  runner::MessagesLog log;
  raftkv::maelstrom::Message m{"n0", "n1", {{"type", "append"}, {"msg_id", 1}}};
  const int64_t t0 = 1'000'000'000;
  for (int i = 0; i < 200'000; ++i)  // 20,000 messages a second for 10 s
    log.record(m, t0 + i * 50'000LL, t0 + i * 50'000LL + 1'000'000,
               runner::MessageFate::kDelivered);
  std::vector<lin::Event> history;
  lin::CheckReport check;
  check.verdict = lin::Verdict::kValid;
  runner::ReportInput in;
  in.history = &history;
  in.check = &check;
  in.messages = &log;
  in.messages_t0_mono = t0;
  in.nodes = {"n0", "n1"};
  auto d = runner::report_data(in);
  EXPECT_EQ(d["messages"]["total"], 200'000);
  EXPECT_LE(d["messages"]["embedded"].get<size_t>(), runner::kMaxEmbeddedMessages);
  EXPECT_GT(d["messages"]["embedded"].get<size_t>(), runner::kMaxEmbeddedMessages / 2);
  // Every second keeps a complete range at its start.
  EXPECT_EQ(d["messages"]["complete"].size(), 10u);
  EXPECT_EQ(d["messages"]["complete"][3][0], 3'000'000);

  // A fault's start and stop get their own complete ranges, first.
  in.nemesis = {{2'500'000'000, "start-partition", {{"spec", "one"}}},
                {4'500'000'000, "stop-partition", nullptr}};
  d = runner::report_data(in);
  ASSERT_EQ(d["messages"]["complete"].size(), 12u);
  EXPECT_EQ(d["messages"]["complete"][0][0], 2'480'000);
  EXPECT_EQ(d["messages"]["complete"][1][0], 4'480'000);
  EXPECT_LE(d["messages"]["embedded"].get<size_t>(), runner::kMaxEmbeddedMessages);
}

TEST(CheckerAnomaly, NamesThePrefixTheStuckOpAndWhy) {
  std::stringstream in(
      R"({"process":1,"type":"invoke","f":"write","key":5,"value":1,"time":0}
{"process":1,"type":"ok","f":"write","key":5,"value":1,"time":1000000}
{"process":3,"type":"invoke","f":"write","key":5,"value":4,"time":1500000}
{"process":2,"type":"invoke","f":"read","key":5,"value":null,"time":2000000}
{"process":2,"type":"ok","f":"read","key":5,"value":3,"time":3000000}
{"process":3,"type":"ok","f":"write","key":5,"value":4,"time":4000000})");
  std::string error;
  auto h = lin::parse_history(in, &error);
  ASSERT_TRUE(h) << error;
  lin::CheckReport r = lin::check(*h);
  ASSERT_EQ(r.verdict, lin::Verdict::kInvalid);
  const lin::KeyReport& k = r.keys.at(0);
  EXPECT_EQ(k.stuck, 3u);  // the read's invoke
  ASSERT_FALSE(k.prefix.empty());
  EXPECT_EQ(k.prefix.front(), 0u);  // write 1 comes first
  EXPECT_EQ(k.why,
            "process 2 read 3 at t=0.002-0.003 s, but the only writes that could precede it wrote "
            "1 and 4.");
}

// ---- serve -------------------------------------------------------------

struct Server {
  pid_t pid = -1;
  int port = 0;
  ~Server() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};

// Starts `serve --port 0` and reads the port it printed.
void start_server(const fs::path& store, const fs::path& dir, Server* s) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  s->pid = fork();
  if (s->pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execl(RUNNER_BIN, RUNNER_BIN, "serve", "--store", store.c_str(), "--port", "0", nullptr);
    _exit(127);
  }
  close(fds[1]);
  std::string line;
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  close(fds[0]);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(line, m, std::regex("http://127\\.0\\.0\\.1:([0-9]+)/"))) << line;
  s->port = std::stoi(m[1]);
  (void)dir;
}

// One raw HTTP request; returns the whole response.
std::string http(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return "";
  }
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

std::string get(int port, const std::string& path) {
  return http(port, std::string("GET ") + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
}

TEST(Serve, ListsRunsAndServesTheirFilesReadOnly) {
  fs::path dir = scratch("serve");
  fs::path run_dir = run_test(dir,
                              {"--bin", fixture("broken-local"), "--node-count", "2",
                               "--time-limit", "1", "--rate", "20", "--seed", "7", "--no-plots"},
                              -1);
  std::string verdict = nlohmann::json::parse(slurp(run_dir / "results.json"))["valid?"] == true
                            ? "valid"
                            : "invalid";
  fs::path store = dir / "store";
  std::ofstream(dir / "secret.txt") << "outside the store";
  fs::create_symlink(dir / "secret.txt", store / "escape.txt");
  Server s;
  start_server(store, dir, &s);
  std::string run_name = run_dir.filename().string();
  std::string index = get(s.port, "/");
  EXPECT_EQ(index.rfind("HTTP/1.1 200", 0), 0u) << index;
  std::string date =
      run_name.substr(0, 4) + '-' + run_name.substr(4, 2) + '-' + run_name.substr(6, 2);
  EXPECT_NE(index.find(date), std::string::npos) << "run date missing: " << index;
  EXPECT_NE(index.find("class=\"" + verdict + "\">" + verdict), std::string::npos);
  EXPECT_NE(index.find(std::string("/lin-kv/") + run_name + "/index.html"), std::string::npos);

  std::string report = get(s.port, std::string("/lin-kv/") + run_name + "/index.html");
  EXPECT_EQ(report.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_NE(report.find("Content-Type: text/html"), std::string::npos);
  EXPECT_NE(report.find("id=\"report-data\""), std::string::npos);
  EXPECT_EQ(get(s.port, "/latest/results.json").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_NE(get(s.port, std::string("/lin-kv/") + run_name + "/").find("history.jsonl"),
            std::string::npos);

  for (const char* bad : {"/../secret.txt", "/%2e%2e/secret.txt", "/lin-kv/../../secret.txt",
                          "/escape.txt", "/%2E%2E%2Fsecret.txt", "/lin-kv/%00"})
    EXPECT_EQ(get(s.port, bad).rfind("HTTP/1.1 400", 0), 0u) << bad;
  EXPECT_EQ(get(s.port, "/nope.html").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(http(s.port, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").rfind("HTTP/1.1 405", 0),
            0u);
}

TEST(Serve, ResolvesOnlyPathsInsideTheRoot) {
  fs::path dir = scratch("resolve");
  fs::create_directories(dir / "root" / "a");
  std::ofstream(dir / "root" / "a" / "f.txt") << "x";
  std::string root = (dir / "root").string();
  EXPECT_EQ(runner::resolve_under(root, "/a/f.txt?x=1"),
            fs::canonical(dir / "root" / "a" / "f.txt").string());
  EXPECT_FALSE(runner::resolve_under(root, "/a/../../x"));
  EXPECT_FALSE(runner::resolve_under(root, "a/f.txt"));
  EXPECT_FALSE(runner::resolve_under(root, "/%zz"));
}

}  // namespace
