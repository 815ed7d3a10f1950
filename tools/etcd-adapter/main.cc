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
#include <string>

#include "adapter.h"
#include "http.h"

namespace {

constexpr const char* kUsage = R"(usage: etcd-adapter (--endpoints URL[,URL...] | --noop) [options]

A Maelstrom lin-kv node backed by etcd 3.4's v3 JSON gateway. Node i of the
cluster (its position in init's node_ids) uses endpoint i mod count.

options:
  --endpoints URLS   comma-separated etcd client URLs, e.g. http://127.0.0.1:2379
  --noop             answer every request at once (read_ok value 0) without etcd
  --timeout-ms N     per-request HTTP timeout (default 5000); on timeout a
                     write/cas gets error 13 (indefinite), a read error 11
  --max-connections N  HTTP connections to etcd at most (default 256); more
                     requests than that wait in the adapter for a free one
  --help             show this help
)";

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
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cerr << kUsage;
      return 0;
    } else if (a == "--noop") {
      opts.noop = true;
    } else if (a == "--endpoints" && i + 1 < argc) {
      std::string list = argv[++i];
      for (size_t p = 0; p <= list.size();) {
        size_t c = std::min(list.find(',', p), list.size());
        std::string e = list.substr(p, c - p);
        while (!e.empty() && e.back() == '/') e.pop_back();
        if (!e.empty()) opts.endpoints.push_back(e);
        p = c + 1;
      }
    } else if (a == "--timeout-ms" && i + 1 < argc) {
      timeout_ms = std::atol(argv[++i]);
      if (timeout_ms <= 0) {
        std::cerr << "etcd-adapter: --timeout-ms needs a positive integer\n";
        return 2;
      }
    } else if (a == "--max-connections" && i + 1 < argc) {
      max_connections = std::atol(argv[++i]);
      if (max_connections <= 0) {
        std::cerr << "etcd-adapter: --max-connections needs a positive integer\n";
        return 2;
      }
    } else {
      std::cerr << "etcd-adapter: bad option " << a << "\n" << kUsage;
      return 2;
    }
  }
  if (!opts.noop && opts.endpoints.empty()) {
    std::cerr << "etcd-adapter: give --endpoints or --noop\n" << kUsage;
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
