// lossyfs: a FUSE passthrough filesystem that forgets what was never made
// durable. The mount serves BACKING/live; what would survive a power cut is
// kept apart: each file's synced contents in BACKING/durable/<node id>, each
// directory's synced entries in memory. A power cut (control command "cut")
// rebuilds BACKING/live from the durable state. Rules, commands and faults:
// tools/lossyfs/README.md.
#define FUSE_USE_VERSION 35

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <fuse.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ctl_client.h"

namespace {

namespace fs = std::filesystem;

enum class Kind { kFile, kDir, kSymlink };

// One inode as lossyfs models it. Its live state is the backing file; its
// durable state is the blob (files), `durable_entries` (directories) or
// `target` (symlinks).
struct Node {
  uint64_t id = 0;
  Kind kind = Kind::kFile;
  mode_t mode = 0644;
  // Files: size of the durable blob, and the byte ranges written, truncated
  // or allocated since the last fsync/fdatasync ([start, end), merged).
  off_t durable_size = 0;
  std::map<off_t, off_t> dirty;
  // Directories: name -> node id, as of the last fsync of the directory.
  std::map<std::string, uint64_t> durable_entries;
  std::string target;  // symlinks
};

struct Handle {
  int fd = -1;
  uint64_t node = 0;
  bool stale = false;  // opened before a power cut
};

struct Fault {
  std::string kind;     // fsync-eio, read-eio, write-enospc, bitflip
  std::string pattern;  // fnmatch pattern over the path relative to the mount root
  int64_t remaining;    // < 0: until cleared
};

struct LastWrite {
  bool valid = false;
  uint64_t node = 0;
  off_t off = 0;
  size_t len = 0;
};

struct Stats {
  uint64_t writes = 0, fsyncs = 0, fdatasyncs = 0, dir_fsyncs = 0, cuts = 0;
  uint64_t faults_fired = 0;
  uint64_t last_cut_dropped_bytes = 0, last_cut_dropped_files = 0, last_cut_torn_bytes = 0;
};

struct State {
  std::mutex mu;
  std::string live;     // BACKING/live
  std::string durable;  // BACKING/durable
  std::string ctl_path;
  uint64_t next_id = 1;
  uint64_t root = 0;
  std::unordered_map<uint64_t, Node> nodes;
  std::unordered_map<ino_t, uint64_t> by_ino;  // backing inode -> node id
  std::unordered_map<uint64_t, std::unique_ptr<Handle>> handles;
  uint64_t next_handle = 1;
  std::vector<Fault> faults;
  LastWrite last_write;
  std::mt19937_64 rng{0};
  Stats stats;
  int ctl_fd = -1;
};

State* g = nullptr;

std::string live_path(const char* path) {
  return g->live + path;  // FUSE paths start with '/'
}

std::string blob_path(uint64_t id) {
  return g->durable + "/" + std::to_string(id);
}

uint64_t new_node(Kind kind, mode_t mode) {
  uint64_t id = g->next_id++;
  Node& n = g->nodes[id];
  n.id = id;
  n.kind = kind;
  n.mode = mode & 07777;
  return id;
}

void add_dirty(Node& n, off_t a, off_t b) {
  if (a >= b) return;
  auto it = n.dirty.upper_bound(a);
  if (it != n.dirty.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= a) {
      a = prev->first;
      b = std::max(b, prev->second);
      it = n.dirty.erase(prev);
    }
  }
  while (it != n.dirty.end() && it->first <= b) {
    b = std::max(b, it->second);
    it = n.dirty.erase(it);
  }
  n.dirty[a] = b;
}

// The node of a backing path, creating one (not durable) for an inode lossyfs
// has not seen, which only happens if someone wrote to BACKING/live directly.
uint64_t node_of(const std::string& live, const struct stat& st) {
  auto it = g->by_ino.find(st.st_ino);
  if (it != g->by_ino.end() && g->nodes.count(it->second)) return it->second;
  Kind kind = S_ISDIR(st.st_mode) ? Kind::kDir : S_ISLNK(st.st_mode) ? Kind::kSymlink : Kind::kFile;
  uint64_t id = new_node(kind, st.st_mode);
  Node& n = g->nodes[id];
  if (kind == Kind::kFile) add_dirty(n, 0, st.st_size);
  if (kind == Kind::kSymlink) {
    char buf[PATH_MAX];
    ssize_t len = ::readlink(live.c_str(), buf, sizeof(buf));
    if (len > 0) n.target.assign(buf, static_cast<size_t>(len));
  }
  g->by_ino[st.st_ino] = id;
  return id;
}

int lookup(const char* path, uint64_t* id, struct stat* st_out = nullptr) {
  std::string lp = live_path(path);
  struct stat st;
  if (::lstat(lp.c_str(), &st) != 0) return -errno;
  *id = node_of(lp, st);
  if (st_out) *st_out = st;
  return 0;
}

// A fault of `kind` matching `path` (relative to the mount root, no leading
// '/'), consumed if it has a count.
bool fault_fires(const std::string& kind, const char* path) {
  if (!path) return false;
  const char* rel = path[0] == '/' ? path + 1 : path;
  for (auto it = g->faults.begin(); it != g->faults.end(); ++it) {
    if (it->kind != kind || ::fnmatch(it->pattern.c_str(), rel, 0) != 0) continue;
    ++g->stats.faults_fired;
    if (it->remaining > 0 && --it->remaining == 0) g->faults.erase(it);
    return true;
  }
  return false;
}

int copy_range(int from, int to, off_t a, off_t b) {
  char buf[1 << 16];
  while (a < b) {
    size_t want = static_cast<size_t>(std::min<off_t>(b - a, sizeof(buf)));
    ssize_t n = ::pread(from, buf, want, a);
    if (n < 0) return -errno;
    if (n == 0) break;
    ssize_t w = ::pwrite(to, buf, static_cast<size_t>(n), a);
    if (w != n) return w < 0 ? -errno : -EIO;
    a += n;
  }
  return 0;
}

// fsync/fdatasync of a file: its dirty ranges and size become durable.
int sync_file(Node& n, int live_fd) {
  struct stat st;
  if (::fstat(live_fd, &st) != 0) return -errno;
  int blob = ::open(blob_path(n.id).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (blob < 0) return -errno;
  int rc = 0;
  for (auto [a, b] : n.dirty) {
    b = std::min<off_t>(b, st.st_size);
    if (a < b && (rc = copy_range(live_fd, blob, a, b)) != 0) break;
  }
  if (rc == 0 && ::ftruncate(blob, st.st_size) != 0) rc = -errno;
  ::close(blob);
  if (rc != 0) return rc;
  n.dirty.clear();
  n.durable_size = st.st_size;
  if (g->last_write.valid && g->last_write.node == n.id) g->last_write.valid = false;
  return 0;
}

// Current entries of a live directory: name -> node id.
std::map<std::string, uint64_t> live_entries(const std::string& dir) {
  std::map<std::string, uint64_t> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string p = dir + "/" + name;
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0) out[name] = node_of(p, st);
  }
  ::closedir(d);
  return out;
}

// Live paths of every directory node reachable from the root.
void live_dirs(const std::string& dir, uint64_t id, std::map<uint64_t, std::string>* out) {
  (*out)[id] = dir;
  for (auto& [name, child] : live_entries(dir))
    if (g->nodes[child].kind == Kind::kDir && !out->count(child))
      live_dirs(dir + "/" + name, child, out);
}

// Forgets files among `ids` that can never be seen again: no durable name,
// no live name, not open. Their blobs would otherwise stay until the next cut.
void collect_garbage(const std::set<uint64_t>& ids) {
  std::set<uint64_t> live_nodes, open_nodes, durable_refs;
  for (auto& [ino, id] : g->by_ino) live_nodes.insert(id);
  for (auto& [h, hd] : g->handles)
    if (!hd->stale) open_nodes.insert(hd->node);
  for (auto& [id, n] : g->nodes)
    if (n.kind == Kind::kDir)
      for (auto& [name, child] : n.durable_entries) durable_refs.insert(child);
  for (uint64_t id : ids) {
    auto it = g->nodes.find(id);
    if (it == g->nodes.end() || it->second.kind != Kind::kFile) continue;
    if (live_nodes.count(id) || open_nodes.count(id) || durable_refs.count(id)) continue;
    if (g->last_write.valid && g->last_write.node == id) g->last_write.valid = false;
    ::unlink(blob_path(id).c_str());
    g->nodes.erase(it);
  }
}

// fsync of a directory: its entries become durable. A rename is one
// transaction (as in ext4's journal): when this directory gains or loses a
// name of some node, that node's names in other directories are made
// durable too, so a rename across directories is never half durable.
int sync_dir(uint64_t dir_id, const std::string& dir_live) {
  Node& d = g->nodes[dir_id];
  auto now = live_entries(dir_live);
  std::set<uint64_t> moved;
  for (auto& [name, id] : now) {
    auto it = d.durable_entries.find(name);
    if (it == d.durable_entries.end() || it->second != id) moved.insert(id);
  }
  for (auto& [name, id] : d.durable_entries) {
    auto it = now.find(name);
    if (it == now.end() || it->second != id) moved.insert(id);
  }
  d.durable_entries = now;
  if (moved.empty()) return 0;
  std::map<uint64_t, std::string> dirs;
  live_dirs(g->live, g->root, &dirs);
  for (auto& [other_id, other_path] : dirs) {
    if (other_id == dir_id) continue;
    Node& o = g->nodes[other_id];
    auto other_now = live_entries(other_path);
    for (auto it = o.durable_entries.begin(); it != o.durable_entries.end();) {
      auto ln = other_now.find(it->first);
      if (moved.count(it->second) && (ln == other_now.end() || ln->second != it->second))
        it = o.durable_entries.erase(it);
      else
        ++it;
    }
    for (auto& [name, id] : other_now)
      if (moved.count(id)) o.durable_entries[name] = id;
  }
  collect_garbage(moved);
  return 0;
}

// ---- power cut -----------------------------------------------------------

void remove_tree_contents(const std::string& dir) {
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir, ec)) fs::remove_all(e.path(), ec);
}

void materialize(uint64_t dir_id, const std::string& path, std::set<uint64_t>* seen_dirs,
                 std::map<uint64_t, std::string>* files) {
  Node& d = g->nodes[dir_id];
  for (auto& [name, id] : d.durable_entries) {
    auto nit = g->nodes.find(id);
    if (nit == g->nodes.end()) continue;
    Node& n = nit->second;
    std::string p = path + "/" + name;
    if (n.kind == Kind::kDir) {
      if (seen_dirs->count(id)) continue;  // only the first durable name of a directory
      seen_dirs->insert(id);
      ::mkdir(p.c_str(), n.mode | 0700);
      materialize(id, p, seen_dirs, files);
    } else if (n.kind == Kind::kSymlink) {
      ::symlink(n.target.c_str(), p.c_str());
    } else if (auto f = files->find(id); f != files->end()) {
      ::link(f->second.c_str(), p.c_str());
    } else {
      int out = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, n.mode | 0600);
      int in = ::open(blob_path(id).c_str(), O_RDONLY | O_CLOEXEC);
      if (out >= 0 && in >= 0) copy_range(in, out, 0, n.durable_size);
      if (out >= 0) {
        if (::ftruncate(out, n.durable_size) != 0) { /* reported by the size check below */
        }
        ::fchmod(out, n.mode);
        ::close(out);
      }
      if (in >= 0) ::close(in);
      (*files)[id] = p;
    }
  }
}

std::string power_cut(bool tear, std::optional<uint64_t> seed) {
  if (seed) g->rng.seed(*seed);
  // Handles opened before the cut belong to processes that lost power.
  for (auto& [h, hd] : g->handles) {
    if (!hd->stale && hd->fd >= 0) ::close(hd->fd);
    hd->fd = -1;
    hd->stale = true;
  }
  uint64_t dropped_bytes = 0, dropped_files = 0, torn = 0;
  for (auto& [id, n] : g->nodes) {
    if (n.dirty.empty()) continue;
    ++dropped_files;
    for (auto [a, b] : n.dirty) dropped_bytes += static_cast<uint64_t>(b - a);
  }
  // Tear: a random prefix of the last unsynced write reaches the disk. The
  // bytes come from the live file, which still holds what was written.
  if (tear && g->last_write.valid && g->nodes.count(g->last_write.node)) {
    LastWrite w = g->last_write;
    Node& n = g->nodes[w.node];
    torn = w.len == 0 ? 0 : std::uniform_int_distribution<size_t>(0, w.len - 1)(g->rng);
    // Find the node's live file (any name) to read the bytes from.
    std::string src;
    std::map<uint64_t, std::string> dirs;
    live_dirs(g->live, g->root, &dirs);
    for (auto& [did, dpath] : dirs)
      for (auto& [name, id] : live_entries(dpath))
        if (id == w.node && src.empty()) src = dpath + "/" + name;
    int in = src.empty() ? -1 : ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
    int out = ::open(blob_path(w.node).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    // The file's earlier unsynced ranges reached the disk whole (written
    // back before the cut), the last write only up to the tear.
    off_t end = w.off + static_cast<off_t>(torn);
    bool ok = in >= 0 && out >= 0 && ::ftruncate(out, n.durable_size) == 0;
    for (auto [a, b] : n.dirty) {
      if (!ok || a >= end) break;
      ok = copy_range(in, out, a, std::min(b, end)) == 0;
      if (ok) n.durable_size = std::max<off_t>(n.durable_size, std::min(b, end));
    }
    if (!ok) torn = 0;
    if (in >= 0) ::close(in);
    if (out >= 0) ::close(out);
  }
  g->last_write.valid = false;
  remove_tree_contents(g->live);
  std::set<uint64_t> seen_dirs{g->root};
  std::map<uint64_t, std::string> files;
  materialize(g->root, g->live, &seen_dirs, &files);
  // Forget nodes that did not survive, and re-map the rebuilt inodes.
  std::set<uint64_t> keep(seen_dirs.begin(), seen_dirs.end());
  for (auto& [id, p] : files) keep.insert(id);
  for (auto& [did, dn] : g->nodes)
    if (seen_dirs.count(did))
      for (auto& [name, id] : dn.durable_entries)
        if (g->nodes.count(id) && g->nodes[id].kind == Kind::kSymlink) keep.insert(id);
  for (auto it = g->nodes.begin(); it != g->nodes.end();) {
    if (!keep.count(it->first)) {
      ::unlink(blob_path(it->first).c_str());
      it = g->nodes.erase(it);
    } else {
      it->second.dirty.clear();
      ++it;
    }
  }
  g->by_ino.clear();
  std::function<void(const std::string&, uint64_t)> remap = [&](const std::string& dir,
                                                                uint64_t id) {
    struct stat st;
    if (::lstat(dir.c_str(), &st) == 0) g->by_ino[st.st_ino] = id;
    for (auto& [name, child] : g->nodes[id].durable_entries) {
      std::string p = dir + "/" + name;
      if (::lstat(p.c_str(), &st) != 0) continue;
      if (g->by_ino.count(st.st_ino)) continue;
      g->by_ino[st.st_ino] = child;
      if (g->nodes[child].kind == Kind::kDir) remap(p, child);
    }
  };
  remap(g->live, g->root);
  ++g->stats.cuts;
  g->stats.last_cut_dropped_bytes = dropped_bytes;
  g->stats.last_cut_dropped_files = dropped_files;
  g->stats.last_cut_torn_bytes = torn;
  return "ok cut dropped_files=" + std::to_string(dropped_files) +
         " dropped_bytes=" + std::to_string(dropped_bytes) + " torn_bytes=" + std::to_string(torn);
}

// Everything present at mount time is durable.
void adopt_existing(const std::string& dir, uint64_t dir_id) {
  Node& d = g->nodes[dir_id];
  d.durable_entries = live_entries(dir);
  for (auto& [name, id] : g->nodes[dir_id].durable_entries) {
    Node& n = g->nodes[id];
    std::string p = dir + "/" + name;
    if (n.kind == Kind::kDir) {
      adopt_existing(p, id);
    } else if (n.kind == Kind::kFile && !n.dirty.empty()) {
      int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        sync_file(n, fd);
        ::close(fd);
      }
    }
  }
}

// ---- control socket ------------------------------------------------------

std::string handle_command(const std::string& line) {
  std::istringstream in(line);
  std::string cmd;
  in >> cmd;
  std::lock_guard<std::mutex> lock(g->mu);
  if (cmd == "ping") return "ok";
  if (cmd == "cut") {
    bool tear = false;
    std::optional<uint64_t> seed;
    std::string w;
    while (in >> w) {
      if (w == "tear") {
        tear = true;
      } else if (w.rfind("seed=", 0) == 0) {
        seed = std::stoull(w.substr(5));
      } else {
        return "error: usage: cut [tear] [seed=N]";
      }
    }
    return power_cut(tear, seed);
  }
  if (cmd == "fault") {
    Fault f;
    std::string count;
    in >> f.kind >> f.pattern;
    if (f.kind != "fsync-eio" && f.kind != "read-eio" && f.kind != "write-enospc" &&
        f.kind != "bitflip")
      return "error: usage: fault fsync-eio|read-eio|write-enospc|bitflip PATTERN [COUNT]";
    if (f.pattern.empty()) return "error: fault needs a PATTERN";
    f.remaining = -1;
    if (in >> count) {
      try {
        f.remaining = std::stoll(count);
      } catch (...) {
        return "error: bad COUNT";
      }
      if (f.remaining == 0) return "error: COUNT must be positive";
    }
    g->faults.push_back(f);
    return "ok";
  }
  if (cmd == "clear") {
    g->faults.clear();
    return "ok";
  }
  if (cmd == "stats") {
    uint64_t dirty_files = 0, dirty_bytes = 0;
    for (auto& [id, n] : g->nodes) {
      if (n.dirty.empty()) continue;
      ++dirty_files;
      for (auto [a, b] : n.dirty) dirty_bytes += static_cast<uint64_t>(b - a);
    }
    const Stats& s = g->stats;
    return "ok writes=" + std::to_string(s.writes) + " fsyncs=" + std::to_string(s.fsyncs) +
           " fdatasyncs=" + std::to_string(s.fdatasyncs) +
           " dir_fsyncs=" + std::to_string(s.dir_fsyncs) + " cuts=" + std::to_string(s.cuts) +
           " faults_fired=" + std::to_string(s.faults_fired) +
           " dirty_files=" + std::to_string(dirty_files) +
           " dirty_bytes=" + std::to_string(dirty_bytes);
  }
  return "error: unknown command '" + cmd + "' (ping, cut, fault, clear, stats)";
}

void control_loop() {
  for (;;) {
    int c = ::accept4(g->ctl_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    std::string line;
    char buf[512];
    while (line.find('\n') == std::string::npos) {
      ssize_t n = ::read(c, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    if (auto nl = line.find('\n'); nl != std::string::npos) line.resize(nl);
    std::string reply = handle_command(line) + "\n";
    size_t off = 0;
    while (off < reply.size()) {
      ssize_t n = ::write(c, reply.data() + off, reply.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(c);
  }
}

// ---- FUSE operations -----------------------------------------------------

Handle* handle_of(fuse_file_info* fi) {
  if (!fi || !fi->fh) return nullptr;
  auto it = g->handles.find(fi->fh);
  return it == g->handles.end() ? nullptr : it->second.get();
}

void* op_init(fuse_conn_info*, fuse_config* cfg) {
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->direct_io = 1;    // every read and write comes here: no page cache to outlive a cut
  cfg->hard_remove = 1;  // unlink really unlinks (no .fuse_hidden files)
  cfg->nullpath_ok = 0;  // paths for every operation (NULL only for unlinked open files)
  cfg->use_ino = 0;
  std::thread(control_loop).detach();
  return nullptr;
}

int op_getattr(const char* path, struct stat* st, fuse_file_info* fi) {
  std::lock_guard<std::mutex> lock(g->mu);
  if (Handle* h = handle_of(fi)) {
    if (h->stale) return -EIO;
    return ::fstat(h->fd, st) == 0 ? 0 : -errno;
  }
  if (!path) return -ENOENT;
  return ::lstat(live_path(path).c_str(), st) == 0 ? 0 : -errno;
}

int op_access(const char* path, int mask) {
  std::lock_guard<std::mutex> lock(g->mu);
  return ::access(live_path(path).c_str(), mask) == 0 ? 0 : -errno;
}

int op_readlink(const char* path, char* buf, size_t size) {
  std::lock_guard<std::mutex> lock(g->mu);
  ssize_t n = ::readlink(live_path(path).c_str(), buf, size - 1);
  if (n < 0) return -errno;
  buf[n] = '\0';
  return 0;
}

int op_readdir(const char* path, void* buf, fuse_fill_dir_t filler, off_t, fuse_file_info*,
               fuse_readdir_flags) {
  std::lock_guard<std::mutex> lock(g->mu);
  DIR* d = ::opendir(live_path(path).c_str());
  if (!d) return -errno;
  while (dirent* e = ::readdir(d)) {
    struct stat st {};
    st.st_ino = e->d_ino;
    st.st_mode = static_cast<mode_t>(DTTOIF(e->d_type));
    if (filler(buf, e->d_name, &st, 0, static_cast<fuse_fill_dir_flags>(0))) break;
  }
  ::closedir(d);
  return 0;
}

int register_new(const std::string& lp, Kind kind, mode_t mode) {
  struct stat st;
  if (::lstat(lp.c_str(), &st) != 0) return -errno;
  uint64_t id = new_node(kind, mode);
  g->by_ino[st.st_ino] = id;  // a new inode: any older mapping of this number is stale
  if (kind == Kind::kSymlink) {
    char t[PATH_MAX];
    ssize_t len = ::readlink(lp.c_str(), t, sizeof(t));
    if (len > 0) g->nodes[id].target.assign(t, static_cast<size_t>(len));
  }
  return 0;
}

int op_mkdir(const char* path, mode_t mode) {
  std::lock_guard<std::mutex> lock(g->mu);
  std::string lp = live_path(path);
  if (::mkdir(lp.c_str(), mode) != 0) return -errno;
  return register_new(lp, Kind::kDir, mode);
}

int op_symlink(const char* target, const char* path) {
  std::lock_guard<std::mutex> lock(g->mu);
  std::string lp = live_path(path);
  if (::symlink(target, lp.c_str()) != 0) return -errno;
  return register_new(lp, Kind::kSymlink, 0777);
}

int op_mknod(const char* path, mode_t mode, dev_t rdev) {
  std::lock_guard<std::mutex> lock(g->mu);
  if (!S_ISREG(mode)) return -EPERM;  // regular files only
  std::string lp = live_path(path);
  if (::mknod(lp.c_str(), mode, rdev) != 0) return -errno;
  return register_new(lp, Kind::kFile, mode);
}

int op_unlink(const char* path) {
  std::lock_guard<std::mutex> lock(g->mu);
  std::string lp = live_path(path);
  struct stat st;
  if (::lstat(lp.c_str(), &st) != 0) return -errno;
  uint64_t id = node_of(lp, st);
  if (::unlink(lp.c_str()) != 0) return -errno;
  if (st.st_nlink <= 1) g->by_ino.erase(st.st_ino);
  collect_garbage({id});
  return 0;
}

int op_rmdir(const char* path) {
  std::lock_guard<std::mutex> lock(g->mu);
  std::string lp = live_path(path);
  struct stat st;
  if (::lstat(lp.c_str(), &st) != 0) return -errno;
  if (::rmdir(lp.c_str()) != 0) return -errno;
  g->by_ino.erase(st.st_ino);
  return 0;
}

int op_rename(const char* from, const char* to, unsigned int flags) {
  std::lock_guard<std::mutex> lock(g->mu);
  std::string lf = live_path(from), lt = live_path(to);
  struct stat sf, stt;
  if (::lstat(lf.c_str(), &sf) != 0) return -errno;
  node_of(lf, sf);
  bool target_exists = ::lstat(lt.c_str(), &stt) == 0;
  if (target_exists) node_of(lt, stt);
  if (::syscall(SYS_renameat2, AT_FDCWD, lf.c_str(), AT_FDCWD, lt.c_str(), flags) != 0)
    return -errno;
  if (target_exists && !(flags & RENAME_EXCHANGE) && stt.st_ino != sf.st_ino &&
      (S_ISDIR(stt.st_mode) || stt.st_nlink <= 1))
    g->by_ino.erase(stt.st_ino);
  return 0;
}

int op_link(const char* from, const char* to) {
  std::lock_guard<std::mutex> lock(g->mu);
  std::string lf = live_path(from);
  struct stat st;
  if (::lstat(lf.c_str(), &st) != 0) return -errno;
  node_of(lf, st);
  return ::link(lf.c_str(), live_path(to).c_str()) == 0 ? 0 : -errno;
}

int op_chmod(const char* path, mode_t mode, fuse_file_info* fi) {
  std::lock_guard<std::mutex> lock(g->mu);
  Handle* h = handle_of(fi);
  if (h && h->stale) return -EIO;
  int rc = h ? ::fchmod(h->fd, mode) : ::chmod(live_path(path).c_str(), mode);
  if (rc != 0) return -errno;
  uint64_t id = h ? h->node : 0;
  if (!h && lookup(path, &id) != 0) return 0;
  g->nodes[id].mode = mode & 07777;
  return 0;
}

int op_chown(const char* path, uid_t uid, gid_t gid, fuse_file_info* fi) {
  std::lock_guard<std::mutex> lock(g->mu);
  Handle* h = handle_of(fi);
  if (h && h->stale) return -EIO;
  int rc = h ? ::fchown(h->fd, uid, gid) : ::lchown(live_path(path).c_str(), uid, gid);
  return rc == 0 ? 0 : -errno;
}

int op_utimens(const char* path, const timespec tv[2], fuse_file_info* fi) {
  std::lock_guard<std::mutex> lock(g->mu);
  Handle* h = handle_of(fi);
  if (h && h->stale) return -EIO;
  int rc = h ? ::futimens(h->fd, tv)
             : ::utimensat(AT_FDCWD, live_path(path).c_str(), tv, AT_SYMLINK_NOFOLLOW);
  return rc == 0 ? 0 : -errno;
}

int do_truncate(Node& n, int fd, off_t size) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return -errno;
  if (::ftruncate(fd, size) != 0) return -errno;
  add_dirty(n, std::min(st.st_size, size), std::max(st.st_size, size));
  if (st.st_size != size && n.dirty.empty()) add_dirty(n, size, size + 1);
  return 0;
}

int op_truncate(const char* path, off_t size, fuse_file_info* fi) {
  std::lock_guard<std::mutex> lock(g->mu);
  if (Handle* h = handle_of(fi)) {
    if (h->stale) return -EIO;
    return do_truncate(g->nodes[h->node], h->fd, size);
  }
  uint64_t id;
  if (int rc = lookup(path, &id); rc != 0) return rc;
  int fd = ::open(live_path(path).c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  int rc = do_truncate(g->nodes[id], fd, size);
  ::close(fd);
  return rc;
}

// Flags for the backing file: always readable (fsync copies from it), no
// O_APPEND (the kernel passes the offset), no O_DIRECT (the backing may be tmpfs).
int backing_flags(int flags) {
  int acc = flags & O_ACCMODE;
  flags &= ~(O_ACCMODE | O_DIRECT | O_APPEND);
  return flags | (acc == O_RDONLY ? O_RDONLY : O_RDWR) | O_CLOEXEC;
}

int open_handle(int fd, uint64_t id, fuse_file_info* fi) {
  auto h = std::make_unique<Handle>();
  h->fd = fd;
  h->node = id;
  uint64_t key = g->next_handle++;
  g->handles[key] = std::move(h);
  fi->fh = key;
  fi->direct_io = 1;
  return 0;
}

int op_create(const char* path, mode_t mode, fuse_file_info* fi) {
  std::lock_guard<std::mutex> lock(g->mu);
  std::string lp = live_path(path);
  struct stat before;
  bool existed = ::lstat(lp.c_str(), &before) == 0;
  int fd = ::open(lp.c_str(), backing_flags(fi->flags) | O_CREAT, mode);
  if (fd < 0) return -errno;
  uint64_t id;
  if (existed) {
    struct stat st;
    ::fstat(fd, &st);
    id = node_of(lp, st);
    if ((fi->flags & O_TRUNC) && before.st_size > 0) add_dirty(g->nodes[id], 0, before.st_size);
  } else {
    register_new(lp, Kind::kFile, mode);
    struct stat st;
    ::fstat(fd, &st);
    id = g->by_ino[st.st_ino];
  }
  return open_handle(fd, id, fi);
}

int op_open(const char* path, fuse_file_info* fi) {
  std::lock_guard<std::mutex> lock(g->mu);
  std::string lp = live_path(path);
  struct stat before;
  if (::lstat(lp.c_str(), &before) != 0) return -errno;
  uint64_t id = node_of(lp, before);
  int fd = ::open(lp.c_str(), backing_flags(fi->flags & ~(O_CREAT | O_EXCL)));
  if (fd < 0) return -errno;
  if ((fi->flags & O_TRUNC) && before.st_size > 0) add_dirty(g->nodes[id], 0, before.st_size);
  return open_handle(fd, id, fi);
}

int op_read(const char* path, char* buf, size_t size, off_t off, fuse_file_info* fi) {
  std::lock_guard<std::mutex> lock(g->mu);
  Handle* h = handle_of(fi);
  if (!h || h->stale) return -EIO;
  if (fault_fires("read-eio", path)) return -EIO;
  ssize_t n = ::pread(h->fd, buf, size, off);
  if (n < 0) return -errno;
  if (n > 0 && fault_fires("bitflip", path)) {
    uint64_t bit =
        std::uniform_int_distribution<uint64_t>(0, static_cast<uint64_t>(n) * 8 - 1)(g->rng);
    buf[bit / 8] = static_cast<char>(buf[bit / 8] ^ (1 << (bit % 8)));
  }
  return static_cast<int>(n);
}

int op_write(const char* path, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
  std::lock_guard<std::mutex> lock(g->mu);
  Handle* h = handle_of(fi);
  if (!h || h->stale) return -EIO;
  if (fault_fires("write-enospc", path)) return -ENOSPC;
  ssize_t n = ::pwrite(h->fd, buf, size, off);
  if (n < 0) return -errno;
  ++g->stats.writes;
  add_dirty(g->nodes[h->node], off, off + n);
  g->last_write = {true, h->node, off, static_cast<size_t>(n)};
  return static_cast<int>(n);
}

int op_statfs(const char*, struct statvfs* st) {
  return ::statvfs(g->live.c_str(), st) == 0 ? 0 : -errno;
}

int op_flush(const char*, fuse_file_info*) {
  return 0;
}

int op_release(const char*, fuse_file_info* fi) {
  std::lock_guard<std::mutex> lock(g->mu);
  auto it = g->handles.find(fi->fh);
  if (it != g->handles.end()) {
    if (!it->second->stale && it->second->fd >= 0) ::close(it->second->fd);
    uint64_t id = it->second->node;
    g->handles.erase(it);
    collect_garbage({id});
  }
  return 0;
}

int op_fsync(const char* path, int datasync, fuse_file_info* fi) {
  std::lock_guard<std::mutex> lock(g->mu);
  Handle* h = handle_of(fi);
  if (!h || h->stale) return -EIO;
  Node& n = g->nodes[h->node];
  ++(datasync ? g->stats.fdatasyncs : g->stats.fsyncs);
  if (fault_fires("fsync-eio", path)) {
    // As Linux after a failed writeback: the dirty data is dropped from the
    // durable path (the page cache keeps serving it until the power goes),
    // and the next fsync has nothing left to report.
    n.dirty.clear();
    if (g->last_write.valid && g->last_write.node == n.id) g->last_write.valid = false;
    return -EIO;
  }
  return sync_file(n, h->fd);
}

int op_fsyncdir(const char* path, int, fuse_file_info*) {
  std::lock_guard<std::mutex> lock(g->mu);
  if (!path) return -EIO;
  ++g->stats.dir_fsyncs;
  if (fault_fires("fsync-eio", path)) return -EIO;
  uint64_t id;
  if (int rc = lookup(path, &id); rc != 0) return rc;
  if (g->nodes[id].kind != Kind::kDir) return -ENOTDIR;
  return sync_dir(id, std::string(path) == "/" ? g->live : live_path(path));
}

int op_fallocate(const char*, int mode, off_t off, off_t len, fuse_file_info* fi) {
  std::lock_guard<std::mutex> lock(g->mu);
  Handle* h = handle_of(fi);
  if (!h || h->stale) return -EIO;
  // Preallocation that changes nothing visible (RocksDB reserves WAL and
  // MANIFEST space this way) is accepted without reserving backing space:
  // it would cost tens of MB of real disk per database.
  if (mode == FALLOC_FL_KEEP_SIZE) return 0;
  struct stat st;
  if (::fstat(h->fd, &st) != 0) return -errno;
  if (::fallocate(h->fd, mode, off, len) != 0) return -errno;
  struct stat after;
  if (::fstat(h->fd, &after) == 0 && after.st_size != st.st_size)
    add_dirty(g->nodes[h->node], std::min(st.st_size, after.st_size),
              std::max(st.st_size, after.st_size));
  if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
    add_dirty(g->nodes[h->node], off, off + len);
  return 0;
}

int usage() {
  std::fprintf(
      stderr,
      "usage: lossyfs [--seed N] [--ctl SOCKET] [--die-with-parent] BACKING MOUNTPOINT\n"
      "         serves BACKING/live at MOUNTPOINT, keeps synced state in BACKING/durable;\n"
      "         control socket default: BACKING/ctl.sock\n"
      "       lossyfs ctl SOCKET COMMAND...\n"
      "         commands: ping | cut [tear] [seed=N] | stats | clear |\n"
      "                   fault fsync-eio|read-eio|write-enospc|bitflip PATTERN [COUNT]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "ctl") {
    if (args.size() < 3) return usage();
    std::string cmd;
    for (size_t i = 2; i < args.size(); ++i) cmd += (i > 2 ? " " : "") + args[i];
    std::string reply = lossyfs::control(args[1], cmd);
    std::printf("%s\n", reply.c_str());
    return reply.rfind("ok", 0) == 0 ? 0 : 1;
  }
  uint64_t seed = 0;
  bool die_with_parent = false;
  std::string ctl;
  std::vector<std::string> pos;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--seed" && i + 1 < args.size()) {
      seed = std::stoull(args[++i]);
    } else if (args[i] == "--die-with-parent") {
      die_with_parent = true;
    } else if (args[i] == "--ctl" && i + 1 < args.size()) {
      ctl = args[++i];
    } else if (args[i] == "-h" || args[i] == "--help") {
      usage();
      return 0;
    } else {
      pos.push_back(args[i]);
    }
  }
  if (pos.size() != 2) return usage();
  // --die-with-parent: stop (and unmount) when the process that started us
  // dies, e.g. a test runner that was SIGKILLed.
  if (die_with_parent) ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  static State state;
  g = &state;
  std::error_code ec;
  fs::path backing = fs::absolute(pos[0]);
  g->live = (backing / "live").string();
  g->durable = (backing / "durable").string();
  fs::create_directories(g->live, ec);
  fs::create_directories(g->durable, ec);
  if (ec) {
    std::fprintf(stderr, "lossyfs: cannot create %s: %s\n", backing.c_str(), ec.message().c_str());
    return 1;
  }
  g->rng.seed(seed);
  g->ctl_path = ctl.empty() ? (backing / "ctl.sock").string() : ctl;
  {
    struct stat st;
    ::lstat(g->live.c_str(), &st);
    g->root = new_node(Kind::kDir, st.st_mode);
    g->by_ino[st.st_ino] = g->root;
    adopt_existing(g->live, g->root);
  }
  g->ctl_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (g->ctl_path.size() >= sizeof(addr.sun_path)) {
    std::fprintf(stderr, "lossyfs: control socket path too long: %s\n", g->ctl_path.c_str());
    return 1;
  }
  std::memcpy(addr.sun_path, g->ctl_path.c_str(), g->ctl_path.size() + 1);
  ::unlink(g->ctl_path.c_str());
  if (::bind(g->ctl_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(g->ctl_fd, 16) != 0) {
    std::fprintf(stderr, "lossyfs: control socket %s: %s\n", g->ctl_path.c_str(),
                 std::strerror(errno));
    return 1;
  }

  static fuse_operations ops{};
  ops.init = op_init;
  ops.getattr = op_getattr;
  ops.access = op_access;
  ops.readlink = op_readlink;
  ops.readdir = op_readdir;
  ops.mkdir = op_mkdir;
  ops.symlink = op_symlink;
  ops.mknod = op_mknod;
  ops.unlink = op_unlink;
  ops.rmdir = op_rmdir;
  ops.rename = op_rename;
  ops.link = op_link;
  ops.chmod = op_chmod;
  ops.chown = op_chown;
  ops.utimens = op_utimens;
  ops.truncate = op_truncate;
  ops.create = op_create;
  ops.open = op_open;
  ops.read = op_read;
  ops.write = op_write;
  ops.statfs = op_statfs;
  ops.flush = op_flush;
  ops.release = op_release;
  ops.fsync = op_fsync;
  ops.fsyncdir = op_fsyncdir;
  ops.fallocate = op_fallocate;

  // Single-threaded, in the foreground; the control thread takes the same lock.
  std::string mnt = pos[1];
  std::vector<std::string> fargs = {
      "lossyfs", mnt, "-f", "-s", "-o", "fsname=lossyfs,subtype=lossyfs,default_permissions"};
  std::vector<char*> fargv;
  for (auto& a : fargs) fargv.push_back(a.data());
  fargv.push_back(nullptr);
  int rc = fuse_main(static_cast<int>(fargs.size()), fargv.data(), &ops, nullptr);
  ::unlink(g->ctl_path.c_str());
  return rc;
}
