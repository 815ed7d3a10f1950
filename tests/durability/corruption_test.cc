// Fail-stop on damaged or foreign data: a real raftkv process started on a
// data dir with one flipped byte in a log entry or in a KV value, or on a
// dir of another node, or on a dir another process holds, refuses to serve
// with a one-line reason and a non-zero exit. It never answers.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "storage/encoding.h"

namespace {

namespace fs = std::filesystem;

struct NodeRun {
  int status;
  std::string out, err;
};

// Runs raftkv with `input` on stdin and `dir` as its data dir.
NodeRun run_node(const fs::path& dir, const std::string& input) {
  fs::path in = dir / "stdin", out = dir / "stdout", err = dir / "stderr";
  std::ofstream(in) << input;
  std::string cmd = std::string(RAFTKV_BINARY) + " --data-dir " + dir.string() + " < " +
                    in.string() + " > " + out.string() + " 2> " + err.string();
  int rc = std::system(cmd.c_str());
  auto slurp = [](const fs::path& p) {
    std::stringstream s;
    s << std::ifstream(p).rdbuf();
    return s.str();
  };
  return {WEXITSTATUS(rc), slurp(out), slurp(err)};
}

std::string init(const std::string& node = "n1") {
  return R"({"src":"c0","dest":")" + node + R"(","body":{"type":"init","msg_id":1,"node_id":")" +
         node + R"(","node_ids":[")" + node + "\"]}}\n";
}
const char* kWrite =
    R"({"src":"c1","dest":"n1","body":{"type":"write","msg_id":2,"key":"k","value":"hello"}})"
    "\n";
const char* kRead = R"({"src":"c1","dest":"n1","body":{"type":"read","msg_id":3,"key":"k"}})"
                    "\n";

// Flips one byte in the stored value under `key` of column family `cf`.
void flip_byte(const fs::path& db_path, const std::string& cf, const std::string& key,
               size_t offset_from_end) {
  rocksdb::Options opts;
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(opts, db_path.string(), &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(opts, db_path.string(), cfs, &handles, &db).ok());
  rocksdb::ColumnFamilyHandle* h = nullptr;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == cf) h = handles[i];
  }
  ASSERT_NE(h, nullptr);
  std::string v;
  ASSERT_TRUE(db->Get({}, h, key, &v).ok());
  v[v.size() - 1 - offset_from_end] ^= 0x20;
  ASSERT_TRUE(db->Put({}, h, key, v).ok());
  for (auto* x : handles) db->DestroyColumnFamilyHandle(x);
  delete db;
}

class Durability : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "raftkv-durability-XXXXXX").string();
    dir_ = mkdtemp(t.data());
    NodeRun r = run_node(dir_, init() + kWrite);
    ASSERT_EQ(r.status, 0) << r.err;
    ASSERT_NE(r.out.find("write_ok"), std::string::npos);
  }
  void TearDown() override {
    // A node started in the background may still be exiting (and rotating
    // its RocksDB LOG) while we clean up: retry until the dir is gone.
    for (int i = 0; i < 40; ++i) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
      if (!ec) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  fs::path dir_;
};

TEST_F(Durability, RestartServesTheAcknowledgedWrite) {
  NodeRun r = run_node(dir_, init() + kRead);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find(R"("value":"hello")"), std::string::npos) << r.out;
}

TEST_F(Durability, CorruptLogEntryIsRefusedWithChecksumReason) {
  // Entry 2 is the write (entry 1 is the leader's no-op).
  flip_byte(dir_ / "n1" / "log", "log", raftkv::storage::u64_key(2), 1);
  NodeRun r = run_node(dir_, init() + kRead);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.out, "") << "a node with a corrupt log must not answer";
  EXPECT_NE(r.err.find("checksum"), std::string::npos) << r.err;
}

TEST_F(Durability, CorruptKvValueIsRefusedWithChecksumReason) {
  flip_byte(dir_ / "n1" / "kv", "default", "d/\"k\"", 1);
  NodeRun r = run_node(dir_, init() + kRead);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.out.find("read_ok"), std::string::npos) << "served a corrupt value: " << r.out;
  EXPECT_NE(r.err.find("checksum"), std::string::npos) << r.err;
}

TEST_F(Durability, DataDirOfAnotherClusterIsRefused) {
  std::string other =
      R"({"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1","n2","n3"]}})"
      "\n";
  NodeRun r = run_node(dir_, other + kRead);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.out.find("read_ok"), std::string::npos);
  EXPECT_NE(r.err.find("belongs to node n1 that bootstrapped with [n1]"), std::string::npos) << r.err;
}

TEST_F(Durability, SecondProcessOnTheSameDataDirIsRefused) {
  // The first process holds the RocksDB lock while it waits for input.
  fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string cmd = std::string(RAFTKV_BINARY) + " --data-dir " + dir_.string() + " < " +
                    fifo.string() + " > /dev/null 2>&1 &";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ofstream hold(fifo);
  hold << init() << std::flush;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  NodeRun r = run_node(dir_, init() + kRead);
  hold.close();  // lets the first process exit
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.out.find("read_ok"), std::string::npos);
  EXPECT_NE(r.err.find("lock"), std::string::npos) << r.err;
}

}  // namespace
