#include "storage/log_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "storage/crc32c.h"
#include "storage/encoding.h"

namespace raftkv::storage {
namespace {

constexpr char kHardStateKey[] = "hard_state";
constexpr char kBaseKey[] = "base";
constexpr char kIdentityKey[] = "identity";

void check(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) throw StorageError(fmt::format("log store: {}: {}", what, s.ToString()));
}

std::string encode_hard_state(const raft::HardState& hs) {
  std::string v;
  put_u64(v, hs.term);
  put_u64(v, hs.commit);
  put_str(v, hs.vote);
  put_u64(v, hs.leader_commit);  // added later: absent in older stores, read as 0
  put_u32(v, crc32c(v));
  return v;
}

// The stored hard state; nullopt when none was ever saved. Throws
// StorageError when it is damaged.
std::optional<raft::HardState> read_hard_state(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
  std::string v;
  rocksdb::Status s = db.Get({}, cf, kHardStateKey, &v);
  if (s.IsNotFound()) return std::nullopt;
  check(s, "read hard state");
  if (v.size() < 24 || crc32c(std::string_view(v).substr(0, v.size() - 4)) !=
                           get_u32(std::string_view(v).substr(v.size() - 4))) {
    throw StorageError("log store: hard state checksum mismatch");
  }
  size_t pos = 16;
  std::string_view vote;
  size_t end = v.size() - 4;
  bool ok = get_str(v, &pos, &vote) && (pos == end || pos + 8 == end);
  if (!ok) throw StorageError("log store: hard state is malformed");
  uint64_t leader_commit = pos == end ? 0 : get_u64(std::string_view(v).substr(pos));
  return raft::HardState{get_u64(v), std::string(vote), get_u64(std::string_view(v).substr(8)),
                         leader_commit};
}

}  // namespace

void sync_parent_dirs(const std::string& dir) {
  std::filesystem::path p = std::filesystem::absolute(dir).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();  // "a/b/" -> "a/b"
  for (p = p.parent_path();; p = p.parent_path()) {
    int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      throw StorageError(fmt::format("open dir {}: {}", p.string(), std::strerror(errno)));
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0)
      throw StorageError(fmt::format("fsync dir {}: {}", p.string(), std::strerror(err)));
    if (p == p.root_path()) break;
  }
}

// Layout: crc32c(4) | term(8) | type(1) | data. The checksum also covers the
// index (the key) so an entry copied to the wrong place is caught too.
std::string encode_entry(const raft::Entry& e) {
  std::string v(4, '\0');
  put_u64(v, e.term);
  v.push_back(static_cast<char>(e.type));
  v.append(e.data);
  uint32_t crc = crc32c(std::string_view(v).substr(4), crc32c(u64_key(e.index)));
  std::string c;
  put_u32(c, crc);
  v.replace(0, 4, c);
  return v;
}

raft::Entry decode_entry(uint64_t index, std::string_view v) {
  if (v.size() < 13) throw StorageError(fmt::format("log entry {} is truncated", index));
  uint32_t want = get_u32(v);
  uint32_t got = crc32c(v.substr(4), crc32c(u64_key(index)));
  if (want != got) {
    throw StorageError(fmt::format(
        "log entry {} checksum mismatch (stored {:08x}, computed {:08x})", index, want, got));
  }
  raft::Entry e;
  e.index = index;
  e.term = get_u64(v.substr(4));
  uint8_t type = static_cast<uint8_t>(v[12]);
  if (type > static_cast<uint8_t>(raft::EntryType::kConfig)) {
    throw StorageError(fmt::format("log entry {} has unknown type {}", index, type));
  }
  e.type = static_cast<raft::EntryType>(type);
  e.data.assign(v.substr(13));
  return e;
}

LogStore::LogStore(const std::string& dir) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.create_missing_column_families = true;
  opts.max_background_jobs = 2;
  opts.keep_log_file_num = 2;
  // The WAL holds every CF's writes; bounding it forces the rarely written
  // meta CF to flush too, so old WAL files (full of compacted-away entries)
  // can be deleted.
  opts.max_total_wal_size = 32 << 20;
  // No preallocation: by default RocksDB fallocate()s each WAL in blocks of
  // 1.1 x the largest write buffer (here capped at max_total_wal_size: 32 MiB)
  // and each MANIFEST in 4 MiB blocks, so even an empty node took 36 MiB of
  // disk for this store. Files now grow with what is written. A synced WAL
  // append updates the file's metadata either way (its size changes), so
  // fsync costs about the same (bench/micro: BM_LogAppendSync).
  opts.allow_fallocate = false;
  // After a power cut the last WAL record may be incomplete (never synced,
  // hence never acknowledged): tolerated. A complete record with a bad
  // checksum, or a synced WAL missing or shorter than the MANIFEST says, is
  // damage to synced data: the open fails and the node fail-stops.
  // (kPointInTimeRecovery, the default, would silently stop replay there and
  // forget acknowledged entries and votes.) README.md "Power loss".
  opts.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  opts.track_and_verify_wals_in_manifest = true;
  rocksdb::ColumnFamilyOptions log_opts;
  // Smaller memtables flush sooner, and compactions then drop the entries
  // that DeleteRange covered: the disk footprint follows the live log.
  log_opts.write_buffer_size = 8 << 20;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, {}}, {"log", log_opts}, {"meta", {}}};
  rocksdb::DB* raw = nullptr;
  check(rocksdb::DB::Open(opts, dir, cfs, &handles_, &raw), "open");
  db_.reset(raw);
  try {
    sync_parent_dirs(dir);
  } catch (...) {
    // The handles must go before the DB does.
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    handles_.clear();
    throw;
  }
  log_cf_ = handles_[1];
  meta_cf_ = handles_[2];
  // save() must know where the log ends even before load() runs, so that
  // new entries replace a stale suffix.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, log_cf_));
  it->SeekToLast();
  if (it->Valid() && it->key().size() == 8) last_index_ = get_u64(it->key().ToStringView());
  std::string v;
  if (db_->Get({}, meta_cf_, kBaseKey, &v).ok() && v.size() == 16) {
    base_index_ = get_u64(v);
    last_index_ = std::max(last_index_, base_index_);
  }
  // hard_state() is the last saved one from the start, and save() decides
  // what to sync against it, even before load(). A damaged one is left for
  // load() to report.
  try {
    if (auto hs = read_hard_state(*db_, meta_cf_)) last_hs_ = std::move(*hs);
  } catch (const StorageError&) {
  }
}

LogStore::~LogStore() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
}

raft::Restored LogStore::load() {
  raft::Restored r;
  if (auto hs = read_hard_state(*db_, meta_cf_)) r.hard_state = std::move(*hs);
  std::string v;
  rocksdb::Status s = db_->Get({}, meta_cf_, kBaseKey, &v);
  if (s.ok() && v.size() == 16) {
    r.base_index = get_u64(v);
    r.base_term = get_u64(std::string_view(v).substr(8));
  }

  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, log_cf_));
  uint64_t expect = r.base_index + 1;
  uint64_t prev_term = r.base_term;
  for (it->Seek(u64_key(expect)); it->Valid(); it->Next()) {
    if (it->key().size() != 8) throw StorageError("log store: malformed log key");
    uint64_t index = get_u64(it->key().ToStringView());
    if (index != expect) {
      throw StorageError(
          fmt::format("log store: log is not contiguous (expected {}, found {})", expect, index));
    }
    raft::Entry e = decode_entry(index, it->value().ToStringView());
    if (e.term < prev_term) {
      throw StorageError(fmt::format("log store: term goes backwards at index {}", index));
    }
    prev_term = e.term;
    r.entries.push_back(std::move(e));
    ++expect;
  }
  check(it->status(), "scan log");
  base_index_ = r.base_index;
  last_index_ = r.base_index + r.entries.size();
  if (r.hard_state.commit > last_index_) {
    throw StorageError(fmt::format("log store: commit index {} beyond last log index {}",
                                   r.hard_state.commit, last_index_));
  }
  last_hs_ = r.hard_state;
  return r;
}

void LogStore::save(const std::optional<raft::HardState>& hs,
                    const std::vector<raft::Entry>& entries) {
  if (!hs && entries.empty()) return;
  rocksdb::WriteBatch batch;
  bool sync = !entries.empty();
  if (!entries.empty()) {
    uint64_t first = entries.front().index;
    if (first <= last_index_) {
      check(batch.DeleteRange(log_cf_, u64_key(first), u64_key(last_index_ + 1)), "truncate");
    }
    for (const raft::Entry& e : entries) {
      check(batch.Put(log_cf_, u64_key(e.index), encode_entry(e)), "batch put");
    }
  }
  if (hs) {
    // The commit index alone may be lost in a crash (it is re-learned from
    // the leader); term and vote may not.
    if (hs->term != last_hs_.term || hs->vote != last_hs_.vote) sync = true;
    check(batch.Put(meta_cf_, kHardStateKey, encode_hard_state(*hs)), "batch put");
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  check(db_->Write(wo, &batch), "write");
  if (sync) {
    ++syncs_;
    synced_entries_ += entries.size();
  }
  if (!entries.empty()) last_index_ = entries.back().index;
  if (hs) last_hs_ = *hs;
}

std::string base_value(uint64_t index, uint64_t term) {
  std::string v;
  put_u64(v, index);
  put_u64(v, term);
  return v;
}

void LogStore::compact(uint64_t index, uint64_t term) {
  if (index <= base_index_) return;
  rocksdb::WriteBatch batch;
  // DeleteRange is one tombstone however many entries it covers; RocksDB's
  // compaction reclaims the space in the background.
  check(batch.DeleteRange(log_cf_, u64_key(0), u64_key(index + 1)), "compact");
  check(batch.Put(meta_cf_, kBaseKey, base_value(index, term)), "batch put");
  check(db_->Write({}, &batch), "compact");
  base_index_ = index;
  last_index_ = std::max(last_index_, index);
}

void LogStore::reset_to_snapshot(uint64_t index, uint64_t term, const raft::HardState& hs) {
  rocksdb::WriteBatch batch;
  check(batch.DeleteRange(log_cf_, u64_key(0), u64_key(UINT64_MAX)), "reset");
  check(batch.Put(meta_cf_, kBaseKey, base_value(index, term)), "batch put");
  check(batch.Put(meta_cf_, kHardStateKey, encode_hard_state(hs)), "batch put");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  check(db_->Write(wo, &batch), "reset");
  ++syncs_;
  base_index_ = last_index_ = index;
  last_hs_ = hs;
}

uint64_t LogStore::log_bytes() {
  uint64_t sst = 0, mem = 0;
  db_->GetIntProperty(log_cf_, "rocksdb.total-sst-files-size", &sst);
  db_->GetIntProperty(log_cf_, "rocksdb.cur-size-all-mem-tables", &mem);
  return sst + mem;
}

std::optional<ClusterIdentity> LogStore::identity() {
  std::string v;
  rocksdb::Status s = db_->Get({}, meta_cf_, kIdentityKey, &v);
  if (s.IsNotFound()) return std::nullopt;
  check(s, "read identity");
  ClusterIdentity id;
  size_t pos = 0;
  std::string_view sv;
  if (!get_str(v, &pos, &sv)) throw StorageError("log store: identity is malformed");
  id.node_id = sv;
  while (pos < v.size()) {
    if (!get_str(v, &pos, &sv)) throw StorageError("log store: identity is malformed");
    id.node_ids.emplace_back(sv);
  }
  return id;
}

void LogStore::set_identity(const ClusterIdentity& id) {
  std::string v;
  put_str(v, id.node_id);
  for (const auto& n : id.node_ids) put_str(v, n);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  check(db_->Put(wo, meta_cf_, kIdentityKey, v), "write identity");
}

}  // namespace raftkv::storage
