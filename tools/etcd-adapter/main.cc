// etcd-adapter: a Maelstrom lin-kv node that stores nothing itself and
// forwards each read/write/cas to etcd's v3 JSON gateway, so the same runner
// workload can drive etcd and raftkv side by side. --noop answers without
// etcd, which measures the adapter's own cost.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <string>

#include "adapter.h"
#include "cli/flags.h"
#include "http.h"

namespace {

// Writes all of buf to stdout; a reader that went away ends the process.
void flush(std::string& buf) {
  size_t off = 0;
  while (off < buf.size()) {
    ssize_t n = ::write(STDOUT_FILENO, buf.data() + off, buf.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0);
    off += static_cast<size_t>(n);
  }
  buf.clear();
}

}  // namespace

int main(int argc, char** argv) {
  raftkv::etcd::AdapterOptions opts;
  long timeout_ms = 5000;
  long max_connections = 256;
  CLI::App app(
      "A Maelstrom lin-kv node backed by etcd 3.4's v3 JSON gateway. Node i of the\n"
      "cluster (its position in init's node_ids) uses endpoint i mod count.",
      "etcd-adapter");
  raftkv::cli::configure(app);
  // Each --endpoints adds its URLs.
  app.add_option_function<std::vector<std::string>>(
         "--endpoints",
         [&opts](const std::vector<std::string>& lists) {
           for (const std::string& list : lists) {
             for (size_t p = 0; p <= list.size();) {
               size_t c = std::min(list.find(',', p), list.size());
               std::string e = list.substr(p, c - p);
               while (!e.empty() && e.back() == '/') e.pop_back();
               if (!e.empty()) opts.endpoints.push_back(e);
               p = c + 1;
             }
           }
         },
         "comma-separated etcd client URLs, e.g. http://127.0.0.1:2379")
      ->type_name("URL[,URL...]")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->expected(1);
  app.add_flag("--noop", opts.noop, "answer every request at once (read_ok value 0) without etcd");
  constexpr long long kMax = std::numeric_limits<int>::max();
  raftkv::cli::add_int(app, "--timeout-ms", &timeout_ms, 1, kMax,
                       "per-request HTTP timeout; on timeout a write/cas gets error 13 "
                       "(indefinite), a read error 11");
  raftkv::cli::add_int(app, "--max-connections", &max_connections, 1, kMax,
                       "HTTP connections to etcd at most; more requests wait in the adapter");
  // stdout is the protocol channel: help goes to stderr.
  if (auto rc = raftkv::cli::parse(app, argc, argv, std::cerr)) return *rc;
  if (!opts.noop && opts.endpoints.empty()) {
    std::cerr << "etcd-adapter: give --endpoints or --noop\nRun with --help for usage.\n";
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);

  raftkv::etcd::HttpClient http(timeout_ms, max_connections);
  std::string out;
  raftkv::etcd::Adapter adapter(
      opts,
      [&](std::string line) {
        out += line;
        out += '\n';
      },
      [&](uint64_t id, const std::string& url, std::string body) {
        http.post(id, url, std::move(body));
      });

  // One bad line must not take the node down with every request in flight.
  auto handle = [&](std::string_view line) {
    try {
      adapter.handle_line(line);
    } catch (const std::exception& e) {
      std::cerr << "etcd-adapter: dropped a message: " << e.what() << std::endl;
    }
  };

  // One thread: wait for stdin or etcd, handle what arrived, then write all
  // replies produced in this round with one write().
  std::string in;
  bool eof = false;
  char buf[65536];
  while (!eof || http.in_flight() > 0) {
    if (http.wait(eof ? -1 : STDIN_FILENO, 1000)) {
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno != EINTR && errno != EAGAIN) eof = true;
      if (n == 0) eof = true;
      if (n > 0) in.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = in.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::string_view line(in.data() + start, nl - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty()) handle(line);
      }
      in.erase(0, start);
      if (eof && !in.empty()) handle(in);  // a last line without '\n'
    }
    http.perform([&](raftkv::etcd::HttpResult& r) { adapter.on_result(r); });
    if (!out.empty()) flush(out);
  }
  std::cerr << "etcd-adapter: exit after " << adapter.requests() << " requests, "
            << adapter.failures() << " failed, " << http.connects() << " connections opened"
            << std::endl;
  return 0;
}
