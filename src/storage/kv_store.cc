#include "storage/kv_store.h"

#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include "storage/encoding.h"
#include "storage/log_store.h"

namespace raftkv::storage {
namespace {

// Data keys live under "d", metadata under "m", so a user key can never
// collide with the applied index.
constexpr char kAppliedKey[] = "m/applied";

std::string data_key(const std::string& key) { return "d/" + key; }

void check(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) throw StorageError(fmt::format("kv store: {}: {}", what, s.ToString()));
}

}  // namespace

KvStore::KvStore(const std::string& dir) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.max_background_jobs = 2;
  opts.keep_log_file_num = 2;
  rocksdb::DB* raw = nullptr;
  check(rocksdb::DB::Open(opts, dir, &raw), "open");
  db_.reset(raw);
  std::string v;
  rocksdb::Status s = db_->Get({}, kAppliedKey, &v);
  if (s.ok()) {
    if (v.size() != 8) throw StorageError("kv store: applied index is malformed");
    applied_ = get_u64(v);
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
  return v;
}

void KvStore::apply(const std::vector<std::pair<std::string, std::string>>& puts,
                    uint64_t applied) {
  rocksdb::WriteBatch batch;
  for (const auto& [k, v] : puts) check(batch.Put(data_key(k), v), "batch put");
  check(batch.Put(kAppliedKey, u64_key(applied)), "batch put");
  check(db_->Write({}, &batch), "write");
  applied_ = applied;
}

void KvStore::sync() { check(db_->FlushWAL(/*sync=*/true), "sync"); }

}  // namespace raftkv::storage
