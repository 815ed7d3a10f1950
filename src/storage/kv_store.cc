#include "storage/kv_store.h"

#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include "storage/crc32c.h"
#include "storage/encoding.h"
#include "storage/log_store.h"

namespace raftkv::storage {
namespace {

// Data keys live under "d", metadata under "m", so a user key can never
// collide with the applied index.
constexpr char kAppliedKey[] = "m/applied";

std::string data_key(const std::string& key) {
  return "d/" + key;
}

// Values carry a CRC32C over key and value, so a flipped byte is reported
// rather than served.
std::string seal(const std::string& key, const std::string& value) {
  std::string v;
  put_u32(v, crc32c(value, crc32c(key)));
  v.append(value);
  return v;
}

void check(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) throw StorageError(fmt::format("kv store: {}: {}", what, s.ToString()));
}

}  // namespace

KvStore::KvStore(const std::string& dir) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.max_background_jobs = 2;
  opts.keep_log_file_num = 2;
  // As the log store (log_store.cc): a torn tail is a crash artifact, any
  // other WAL damage is corruption and fails the open.
  opts.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  opts.track_and_verify_wals_in_manifest = true;
  rocksdb::DB* raw = nullptr;
  check(rocksdb::DB::Open(opts, dir, &raw), "open");
  db_.reset(raw);
  sync_parent_dirs(dir);
  std::string v;
  rocksdb::Status s = db_->Get({}, kAppliedKey, &v);
  if (s.ok()) {
    if (v.size() != 20 ||
        crc32c(std::string_view(v).substr(0, 16)) != get_u32(std::string_view(v).substr(16))) {
      throw StorageError("kv store: applied index checksum mismatch");
    }
    applied_ = get_u64(v);
    applied_term_ = get_u64(std::string_view(v).substr(8));
  } else if (!s.IsNotFound()) {
    check(s, "read applied index");
  }
}

KvStore::~KvStore() = default;

std::optional<std::string> KvStore::get(const std::string& key) {
  std::string v;
  rocksdb::Status s = db_->Get({}, data_key(key), &v);
  if (s.IsNotFound()) return std::nullopt;
  check(s, "get");
  if (v.size() < 4 || get_u32(v) != crc32c(std::string_view(v).substr(4), crc32c(key))) {
    throw StorageError(fmt::format("kv store: checksum mismatch in the value of key {}", key));
  }
  return v.substr(4);
}

// Adds the puts and the applied point (checksummed) to one batch, so they
// land atomically.
static void add_to_batch(rocksdb::WriteBatch& batch,
                         const std::vector<std::pair<std::string, std::string>>& puts,
                         uint64_t index, uint64_t term) {
  for (const auto& [k, v] : puts) check(batch.Put(data_key(k), seal(k, v)), "batch put");
  std::string a;
  put_u64(a, index);
  put_u64(a, term);
  put_u32(a, crc32c(a));
  check(batch.Put(kAppliedKey, a), "batch put");
}

void KvStore::apply(const std::vector<std::pair<std::string, std::string>>& puts, uint64_t applied,
                    uint64_t applied_term) {
  rocksdb::WriteBatch batch;
  add_to_batch(batch, puts, applied, applied_term);
  check(db_->Write({}, &batch), "write");
  applied_ = applied;
  applied_term_ = applied_term;
}

std::unique_ptr<KvStore::SnapshotReader> KvStore::read_snapshot() {
  auto r = std::unique_ptr<SnapshotReader>(new SnapshotReader());
  r->db_ = db_.get();
  r->snap_ = db_->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = r->snap_;
  std::string v;
  rocksdb::Status s = db_->Get(ro, kAppliedKey, &v);
  if (!s.IsNotFound()) {
    check(s, "snapshot applied index");
    r->index_ = get_u64(v);
    r->term_ = get_u64(std::string_view(v).substr(8));
  }
  r->it_.reset(db_->NewIterator(ro));
  r->it_->Seek("d/");
  return r;
}

KvStore::SnapshotReader::~SnapshotReader() {
  it_.reset();
  if (snap_) db_->ReleaseSnapshot(snap_);
}

std::vector<std::pair<std::string, std::string>> KvStore::SnapshotReader::next_chunk(
    size_t max_bytes) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t bytes = 0;
  for (; it_->Valid() && bytes < max_bytes; it_->Next()) {
    std::string_view k = it_->key().ToStringView();
    if (k.substr(0, 2) != "d/") break;
    std::string key(k.substr(2));
    std::string_view v = it_->value().ToStringView();
    if (v.size() < 4 || get_u32(v) != crc32c(v.substr(4), crc32c(key))) {
      throw StorageError(fmt::format("kv store: checksum mismatch in the value of key {}", key));
    }
    bytes += key.size() + v.size();
    out.emplace_back(std::move(key), std::string(v.substr(4)));
  }
  check(it_->status(), "snapshot scan");
  if (!it_->Valid() || !it_->key().starts_with("d/")) done_ = true;
  return out;
}

void KvStore::install_snapshot(const std::vector<std::pair<std::string, std::string>>& pairs,
                               uint64_t index, uint64_t term) {
  rocksdb::WriteBatch batch;
  // "d0" is the first key after every "d/..." key.
  check(batch.DeleteRange(db_->DefaultColumnFamily(), "d/", "d0"), "snapshot clear");
  add_to_batch(batch, pairs, index, term);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  check(db_->Write(wo, &batch), "install snapshot");
  applied_ = index;
  applied_term_ = term;
}

void KvStore::sync() {
  check(db_->SyncWAL(), "sync");
}

}  // namespace raftkv::storage
