#include "storage/kv_store.h"

#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include "storage/crc32c.h"
#include "storage/encoding.h"
#include "storage/log_store.h"  // sync_parent_dirs

namespace raftkv::storage {
namespace {

// Data keys live under "d/", metadata under "m/", so a user key can never
// collide with the applied or membership record. "d0" is the first key
// after every "d/".
constexpr char kAppliedKey[] = "m/applied";
constexpr char kMembershipKey[] = "m/members";
constexpr char kDataBegin[] = "d/";
constexpr char kDataEnd[] = "d0";

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

std::string unseal(const std::string& key, std::string_view v) {
  if (v.size() < 4 || get_u32(v) != crc32c(v.substr(4), crc32c(key))) {
    throw StorageError(fmt::format("kv store: checksum mismatch in the value of key {}", key));
  }
  return std::string(v.substr(4));
}

void check_kv(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) throw StorageError(fmt::format("kv store: {}: {}", what, s.ToString()));
}

struct AppliedRecord {
  uint64_t index = 0, term = 0;
  int slot = 0;
};

// index(8) term(8) [slot(1)] crc32c(4); records without the slot byte were
// written before snapshots streamed into a second slot, and mean slot 0.
AppliedRecord decode_applied(std::string_view v) {
  if ((v.size() != 20 && v.size() != 21) ||
      crc32c(v.substr(0, v.size() - 4)) != get_u32(v.substr(v.size() - 4))) {
    throw StorageError("kv store: applied index checksum mismatch");
  }
  AppliedRecord r{get_u64(v), get_u64(v.substr(8)), v.size() == 21 ? v[16] : 0};
  if (r.slot != 0 && r.slot != 1) throw StorageError("kv store: applied record names no slot");
  return r;
}

// crc32c(4) over the blob, then the blob.
std::string seal_membership(const std::string& membership) {
  std::string v;
  put_u32(v, crc32c(membership));
  v.append(membership);
  return v;
}

// The membership record in `ro`'s view, checksum verified; nullopt if
// there is none.
std::optional<std::string> read_membership(rocksdb::DB& db, const rocksdb::ReadOptions& ro) {
  std::string v;
  rocksdb::Status s = db.Get(ro, kMembershipKey, &v);
  if (s.IsNotFound()) return std::nullopt;
  check_kv(s, "read membership");
  if (v.size() < 4 || get_u32(v) != crc32c(std::string_view(v).substr(4))) {
    throw StorageError("kv store: membership checksum mismatch");
  }
  return v.substr(4);
}

// Records `membership` in `batch`; nullopt deletes the record (an install
// without one).
void write_membership(rocksdb::WriteBatch& batch, const std::optional<std::string>& membership) {
  if (membership) {
    check_kv(batch.Put(kMembershipKey, seal_membership(*membership)), "batch put");
  } else {
    check_kv(batch.Delete(kMembershipKey), "batch delete");
  }
}

}  // namespace

KvStore::KvStore(const std::string& dir) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.create_missing_column_families = true;
  opts.max_background_jobs = 2;
  opts.keep_log_file_num = 2;
  // A snapshot streams through the WAL; bounding it makes both slots flush
  // and old WAL files go.
  opts.max_total_wal_size = 64 << 20;
  // No preallocation (see LogStore): RocksDB fallocate()s each WAL in blocks
  // of 1.1 x the largest write buffer, capped at max_total_wal_size (here
  // 64 MiB), and each MANIFEST in 4 MiB blocks, even for an empty store.
  opts.allow_fallocate = false;
  // As the log store (log_store.cc): a torn tail is a crash artifact, any
  // other WAL damage is corruption and fails the open.
  opts.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  opts.track_and_verify_wals_in_manifest = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                      {"slot1", {}}};
  rocksdb::DB* raw = nullptr;
  check_kv(rocksdb::DB::Open(opts, dir, cfs, &handles_, &raw), "open");
  db_.reset(raw);
  try {
    sync_parent_dirs(dir);
    std::string v;
    rocksdb::Status s = db_->Get({}, kAppliedKey, &v);
    if (s.ok()) {
      AppliedRecord r = decode_applied(v);
      applied_ = r.index;
      applied_term_ = r.term;
      live_ = r.slot;
    } else if (!s.IsNotFound()) {
      check_kv(s, "read applied index");
    }
    membership_ = read_membership(*db_, {});
  } catch (...) {
    // The handles must go before the DB does.
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    throw;
  }
}

KvStore::~KvStore() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
}

std::optional<std::string> KvStore::get(const std::string& key) {
  std::string v;
  rocksdb::Status s = db_->Get({}, slot_cf(live_), data_key(key), &v);
  if (s.IsNotFound()) return std::nullopt;
  check_kv(s, "get");
  return unseal(key, v);
}

void KvStore::write_applied(rocksdb::WriteBatch& batch, uint64_t index, uint64_t term, int slot) {
  std::string a;
  put_u64(a, index);
  put_u64(a, term);
  a.push_back(static_cast<char>(slot));
  put_u32(a, crc32c(a));
  check_kv(batch.Put(kAppliedKey, a), "batch put");
}

void KvStore::apply(const KvWrites& writes, uint64_t applied, uint64_t applied_term,
                    const std::optional<std::string>& membership) {
  rocksdb::WriteBatch batch;
  for (const auto& [k, v] : writes) {
    if (v) {
      check_kv(batch.Put(slot_cf(live_), data_key(k), seal(k, *v)), "put");
    } else {
      check_kv(batch.Delete(slot_cf(live_), data_key(k)), "delete");
    }
  }
  write_applied(batch, applied, applied_term, live_);
  if (membership) write_membership(batch, membership);
  check_kv(db_->Write({}, &batch), "write");
  applied_ = applied;
  applied_term_ = applied_term;
  if (membership) membership_ = membership;
}

void KvStore::sync() {
  check_kv(db_->SyncWAL(), "sync");
}

// ---- snapshot reading ---------------------------------------------------------

class KvStore::Reader final : public SnapshotReader {
 public:
  Reader(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles) : db_(db) {
    snap_ = db_->GetSnapshot();
    rocksdb::ReadOptions ro;
    ro.snapshot = snap_;
    std::string v;
    rocksdb::Status s = db_->Get(ro, kAppliedKey, &v);
    AppliedRecord r;
    if (!s.IsNotFound()) {
      check_kv(s, "snapshot applied index");
      r = decode_applied(v);
    }
    index_ = r.index;
    term_ = r.term;
    membership_ = read_membership(*db_, ro);
    it_.reset(db_->NewIterator(ro, handles[r.slot]));
    it_->Seek(kDataBegin);
    done_ = !it_->Valid() || !it_->key().starts_with(kDataBegin);
  }
  ~Reader() override {
    it_.reset();
    db_->ReleaseSnapshot(snap_);
  }
  uint64_t index() const override { return index_; }
  uint64_t term() const override { return term_; }
  std::optional<std::string> membership() const override { return membership_; }
  bool done() const override { return done_; }

  KvPairs next_chunk(size_t max_bytes) override {
    KvPairs out;
    size_t bytes = 0;
    for (; !done_; it_->Next()) {
      if (!it_->Valid() || !it_->key().starts_with(kDataBegin)) break;
      // Stored: "d/" + key, and a 4-byte checksum + value (a shorter one
      // is refused by unseal below).
      size_t size = it_->key().size() - 2 + std::max<size_t>(it_->value().size(), 4) - 4;
      if (!out.empty() && bytes + size > max_bytes) break;
      std::string key(it_->key().ToStringView().substr(2));
      std::string value = unseal(key, it_->value().ToStringView());
      bytes += size;
      out.emplace_back(std::move(key), std::move(value));
    }
    check_kv(it_->status(), "snapshot scan");
    if (!it_->Valid() || !it_->key().starts_with(kDataBegin)) done_ = true;
    return out;
  }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_ = nullptr;
  std::unique_ptr<rocksdb::Iterator> it_;
  uint64_t index_ = 0, term_ = 0;
  std::optional<std::string> membership_;
  bool done_ = false;
};

std::unique_ptr<KvStorage::SnapshotReader> KvStore::read_snapshot() {
  return std::make_unique<Reader>(db_.get(), handles_);
}

// ---- snapshot installing --------------------------------------------------------

class KvStore::Writer final : public SnapshotWriter {
 public:
  Writer(KvStore& store, uint64_t index, uint64_t term, std::optional<std::string> membership)
      : store_(store),
        index_(index),
        term_(term),
        membership_(std::move(membership)),
        generation_(++store.writer_generation_) {
    slot_ = 1 - store_.live_;
    // Whatever an abandoned install left in the spare slot goes first.
    check_kv(store_.db_->DeleteRange({}, store_.slot_cf(slot_), kDataBegin, kDataEnd),
             "clear slot");
  }
  void add(const KvPairs& pairs) override {
    current();
    rocksdb::WriteBatch batch;
    for (const auto& [k, v] : pairs) {
      check_kv(batch.Put(store_.slot_cf(slot_), data_key(k), seal(k, v)), "put");
    }
    check_kv(store_.db_->Write({}, &batch), "snapshot chunk");
  }
  void commit() override {
    current();
    // Everything added must be durable before the applied record points
    // at it; then the flip itself is one synced write.
    check_kv(store_.db_->SyncWAL(), "snapshot sync");
    rocksdb::WriteBatch batch;
    store_.write_applied(batch, index_, term_, slot_);
    write_membership(batch, membership_);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    check_kv(store_.db_->Write(wo, &batch), "snapshot commit");
    int old = store_.live_;
    store_.live_ = slot_;
    store_.applied_ = index_;
    store_.applied_term_ = term_;
    store_.membership_ = membership_;
    // The old map is garbage now; a crash before this is durable only
    // delays its removal to the next install.
    check_kv(store_.db_->DeleteRange({}, store_.slot_cf(old), kDataBegin, kDataEnd), "clear old");
    generation_ = 0;
  }

 private:
  void current() const {
    if (generation_ != store_.writer_generation_) {
      throw StorageError("kv store: snapshot writer used after it was superseded or committed");
    }
  }
  KvStore& store_;
  uint64_t index_, term_;
  std::optional<std::string> membership_;
  uint64_t generation_;
  int slot_ = 1;
};

std::unique_ptr<KvStorage::SnapshotWriter> KvStore::begin_snapshot(
    uint64_t index, uint64_t term, std::optional<std::string> membership) {
  return std::make_unique<Writer>(*this, index, term, std::move(membership));
}

}  // namespace raftkv::storage
