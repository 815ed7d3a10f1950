// raftkv: one server of a Raft-replicated, linearizable key-value store that
// speaks the Maelstrom protocol on stdin/stdout. Logs go to stderr only.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cli/core_flags.h"
#include "cli/flags.h"
#include "maelstrom/event_loop.h"
#include "maelstrom/node.h"
#include "serve/serve_main.h"

namespace {

namespace fs = std::filesystem;

// Private temporary data dirs (no --data-dir). Each is TMP/raftkv-XXXXXX and
// holds kOwnerLock, which its node keeps flock()ed for its whole life. The
// kernel drops a flock when the last descriptor of the open file goes, so
// when its process dies in any way, SIGKILL included. A node starting
// without --data-dir first removes the dirs of dead nodes:
// reclaim_abandoned_temp_dirs() below.
constexpr const char* kOwnerLock = "owner.lock";
constexpr const char* kOwnerLockNew = "owner.lock.new";

bool is_temp_dir_name(const std::string& name) {
  // mkdtemp's suffix: exactly six characters from [A-Za-z0-9].
  constexpr std::string_view kPrefix = "raftkv-";
  if (name.size() != kPrefix.size() + 6 || name.compare(0, kPrefix.size(), kPrefix) != 0) {
    return false;
  }
  for (size_t i = kPrefix.size(); i < name.size(); ++i) {
    const char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

// RocksDB's LOCK files under `dir` (DIR/<node>/log/LOCK, DIR/<node>/kv/LOCK).
std::vector<fs::path> rocksdb_lock_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it.depth() > 2) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->path().filename() == "LOCK" && it->is_regular_file(ec)) out.push_back(it->path());
  }
  return out;
}

// True when some process holds RocksDB's lock on `lock_file` (an fcntl
// write lock over the whole file) or when that cannot be told.
bool rocksdb_lock_held(const fs::path& lock_file) {
  int fd = open(lock_file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno != ENOENT;
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;
  const bool held = fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type != F_UNLCK;
  close(fd);
  return held;
}

// Removes the raftkv-XXXXXX dirs in `tmp` that are provably abandoned, and
// never a live node's:
// - a dir with kOwnerLock goes only while this process holds that flock
//   (taken without waiting: a live owner keeps it) and no RocksDB LOCK file
//   in it is held;
// - a dir without kOwnerLock (left by an older raftkv, or one whose owner is
//   still between mkdtemp and publishing its lock) goes only when it has
//   RocksDB LOCK files and none is held: an older raftkv holds them for as
//   long as it runs with its stores open, and a dir being set up has none.
// Only dirs owned by this user are considered; errors skip the dir.
void reclaim_abandoned_temp_dirs(const fs::path& tmp) {
  std::error_code ec;
  for (fs::directory_iterator it(tmp, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    const fs::path dir = it->path();
    if (!is_temp_dir_name(dir.filename().string())) continue;
    struct stat st {};
    if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) continue;

    int owner = open((dir / kOwnerLock).c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (owner < 0 && errno != ENOENT) continue;
    if (owner >= 0 && flock(owner, LOCK_EX | LOCK_NB) != 0) {
      close(owner);  // a live node
      continue;
    }
    const std::vector<fs::path> locks = rocksdb_lock_files(dir);
    bool abandoned = owner >= 0 || !locks.empty();
    for (const fs::path& l : locks) abandoned = abandoned && !rocksdb_lock_held(l);
    if (abandoned) {
      std::error_code rm;
      const auto n = fs::remove_all(dir, rm);
      if (rm) {
        std::cerr << "raftkv: could not remove abandoned temporary dir " << dir.string() << ": "
                  << rm.message() << "\n";
      } else {
        std::cerr << "raftkv: removed abandoned temporary dir " << dir.string() << " (" << n
                  << " files)\n";
      }
    }
    if (owner >= 0) close(owner);
  }
}

// Creates TMP/raftkv-XXXXXX holding kOwnerLock, flock()ed through the
// returned descriptor, which must stay open for the life of the process.
// The lock file is locked before it is published under its final name
// (rename is atomic), so no other node ever finds it unlocked while this
// process lives. Returns -1 with errno set on failure.
int create_temp_dir(const fs::path& tmp, std::string* dir) {
  std::string tmpl = (tmp / "raftkv-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) return -1;
  *dir = tmpl;
  const fs::path fresh = fs::path(tmpl) / kOwnerLockNew;
  int fd = open(fresh.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0 ||
      rename(fresh.c_str(), (fs::path(tmpl) / kOwnerLock).c_str()) != 0) {
    const int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

void on_signal(int) {
  raftkv::maelstrom::request_stop();
}

}  // namespace

int main(int argc, char** argv) {
  // `raftkv serve ...` is the TCP service; anything else is the Maelstrom
  // mode, which takes no positional arguments.
  if (argc > 1 && std::string_view(argv[1]) == "serve") {
    return raftkv::serve::serve_main(argc - 1, argv + 1);
  }
  raftkv::maelstrom::NodeOptions opts;
  raftkv::maelstrom::LoopOptions loop;
  std::random_device rd;
  opts.seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  int stats_ms = 0;

  CLI::App app(
      "A Raft-replicated, linearizable key-value store speaking the Maelstrom\n"
      "protocol (lin-kv workload: read, write, cas) on stdin/stdout. Logs go to stderr.",
      "raftkv");
  raftkv::cli::configure(app);
  app.add_option("--data-dir", opts.data_dir,
                 "keep state in DIR/<node_id>/ (survives restarts); default: a fresh temporary "
                 "dir, removed at exit")
      ->type_name("DIR");
  raftkv::cli::add_core_flags(app, opts);
  constexpr long long kMax = std::numeric_limits<int>::max();
  using raftkv::cli::add_int;
  add_int(app, "--max-line-bytes", &loop.max_line_bytes, 1024, kMax,
          "longest accepted input line; longer ones are dropped");
  add_int(app, "--stats-interval-ms", &stats_ms, 0, kMax,
          "print a stats line on stderr every N ms (0: off)");
  // stdout is the protocol channel: help goes to stderr.
  if (auto rc = raftkv::cli::parse(app, argc, argv, std::cerr)) return *rc;
  if (auto problem = raftkv::cli::check_core_flags(opts)) {
    std::cerr << "raftkv: " << *problem << "\n";
    return 2;
  }
  loop.tick_ms = opts.tick_ms;
  loop.stats_interval_ms = stats_ms;
  // Up to 6 bytes of JSON per byte of text (\u00XX escapes), plus the envelope.
  opts.forward_batch_bytes = std::min<size_t>(opts.forward_batch_bytes, loop.max_line_bytes / 8);

  std::string temp_dir;
  int temp_dir_lock = -1;  // held until exit: marks temp_dir as in use
  if (opts.data_dir.empty()) {
    std::error_code ec;
    const fs::path tmp = fs::temp_directory_path(ec);
    if (ec) {
      std::cerr << "raftkv: no temporary directory: " << ec.message() << "\n";
      return 1;
    }
    reclaim_abandoned_temp_dirs(tmp);
    temp_dir_lock = create_temp_dir(tmp, &temp_dir);
    if (temp_dir_lock < 0) {
      std::cerr << "raftkv: cannot create a temporary data dir: " << std::strerror(errno) << "\n";
      if (!temp_dir.empty()) fs::remove_all(temp_dir, ec);
      return 1;
    }
    opts.data_dir = temp_dir;
    std::cerr << "raftkv: no --data-dir given; using temporary " << temp_dir
              << " (removed at exit)\n";
  }

  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);

  int rc;
  {
    raftkv::maelstrom::Output out;
    raftkv::maelstrom::Node node(
        opts, [&out](std::string line) { out.line(std::move(line)); }, [&out] { out.flush(); });
    rc = raftkv::maelstrom::run_event_loop(node, out, loop);
    if (node.fatal()) {
      // Fail-stop: leave without closing the stores. A clean close flushes
      // and syncs again on a disk that just failed (after a failed fsync
      // that is the retry we must not make; RocksDB even asserts on it).
      out.flush();
      std::cerr.flush();
      if (!temp_dir.empty()) {
        std::error_code ec;
        fs::remove_all(temp_dir, ec);
      }
      std::_Exit(1);
    }
  }
  if (!temp_dir.empty()) {
    std::error_code ec;
    fs::remove_all(temp_dir, ec);
    close(temp_dir_lock);
  }
  return rc;
}
