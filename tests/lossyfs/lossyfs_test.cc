// lossyfs's durability rules on a real mount: what survives a power cut is
// exactly what was fsynced (file data) and what was fsynced in its directory
// (names), a torn tail is a prefix of the last write, and each fault does
// what tools/lossyfs/README.md says.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "mount.h"

namespace {

using lossyfs_test::Mount;
namespace fs = std::filesystem;

class LossyFs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = lossyfs_test::fuse_unavailable(); !why.empty())
      GTEST_SKIP() << "FUSE unavailable: " << why;
    m_ = std::make_unique<Mount>();
    ASSERT_TRUE(m_->ok()) << m_->error();
  }
  void TearDown() override { m_.reset(); }

  std::string p(const std::string& rel) const { return (m_->path() / rel).string(); }

  // Creates/overwrites `rel` with `data` at offset `off`; fsyncs if asked.
  void write(const std::string& rel, const std::string& data, bool sync, off_t off = -1) {
    int fd = ::open(p(rel).c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0) << rel << ": " << std::strerror(errno);
    if (off < 0) off = ::lseek(fd, 0, SEEK_END);
    ASSERT_EQ(::pwrite(fd, data.data(), data.size(), off), static_cast<ssize_t>(data.size()));
    if (sync) {
      ASSERT_EQ(::fsync(fd), 0) << std::strerror(errno);
    }
    ::close(fd);
  }
  void sync_file(const std::string& rel) {
    int fd = ::open(p(rel).c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::fsync(fd), 0) << std::strerror(errno);
    ::close(fd);
  }
  void sync_dir(const std::string& rel = "") {
    int fd = ::open(p(rel).c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::fsync(fd), 0) << std::strerror(errno);
    ::close(fd);
  }
  std::string read(const std::string& rel) const {
    std::stringstream s;
    s << std::ifstream(p(rel)).rdbuf();
    return s.str();
  }
  bool exists(const std::string& rel) const { return fs::exists(p(rel)); }
  void cut(const std::string& args = "") {
    std::string cmd = "cut";
    if (!args.empty()) cmd.append(" ").append(args);
    std::string r = m_->control(cmd);
    ASSERT_EQ(r.rfind("ok cut", 0), 0u) << r;
  }

  std::unique_ptr<Mount> m_;
};

TEST_F(LossyFs, SyncedDataSurvivesUnsyncedDataDoesNot) {
  write("f", "synced", true);
  sync_dir();
  write("f", "-unsynced", false);
  EXPECT_EQ(read("f"), "synced-unsynced");  // the live view has everything
  cut();
  EXPECT_EQ(read("f"), "synced");
}

TEST_F(LossyFs, FdatasyncMakesDataAndSizeDurable) {
  write("f", "", false);
  sync_dir();
  int fd = ::open(p("f").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "abcdef", 6, 0), 6);
  ASSERT_EQ(::fdatasync(fd), 0);
  ::close(fd);
  cut();
  EXPECT_EQ(read("f"), "abcdef");
}

TEST_F(LossyFs, FileDataWithoutFsyncIsLostEvenIfTheNameIsDurable) {
  write("f", "data", false);
  sync_dir();
  cut();
  ASSERT_TRUE(exists("f"));
  EXPECT_EQ(fs::file_size(p("f")), 0u);
}

TEST_F(LossyFs, CreateWithoutDirectoryFsyncIsLost) {
  write("f", "data", true);  // data synced, name not
  cut();
  EXPECT_FALSE(exists("f"));
  write("g", "data", true);
  sync_dir();
  cut();
  EXPECT_EQ(read("g"), "data");
}

TEST_F(LossyFs, NewDirectoryNeedsItsParentFsynced) {
  fs::create_directories(p("d"));
  write("d/f", "x", true);
  sync_dir("d");  // d's entries are durable, d itself is not
  cut();
  EXPECT_FALSE(exists("d"));
  fs::create_directories(p("d"));
  write("d/f", "x", true);
  sync_dir("d");
  sync_dir();
  cut();
  EXPECT_EQ(read("d/f"), "x");
}

TEST_F(LossyFs, RenameWithoutDirectoryFsyncIsUndone) {
  write("a", "old", true);
  sync_dir();
  write("tmp", "new", true);
  fs::rename(p("tmp"), p("a"));
  EXPECT_EQ(read("a"), "new");
  cut();
  EXPECT_EQ(read("a"), "old");
  EXPECT_FALSE(exists("tmp"));  // tmp's name was never durable either

  write("tmp", "new", true);
  fs::rename(p("tmp"), p("a"));
  sync_dir();
  cut();
  EXPECT_EQ(read("a"), "new");
  EXPECT_FALSE(exists("tmp"));
}

TEST_F(LossyFs, RenameAcrossDirectoriesIsAtomicOnEitherFsync) {
  fs::create_directories(p("d1"));
  fs::create_directories(p("d2"));
  write("d1/f", "x", true);
  sync_dir("d1");
  sync_dir("d2");
  sync_dir();
  fs::rename(p("d1/f"), p("d2/f"));
  sync_dir("d2");
  cut();
  EXPECT_FALSE(exists("d1/f"));
  EXPECT_EQ(read("d2/f"), "x");
}

TEST_F(LossyFs, UnlinkWithoutDirectoryFsyncIsUndone) {
  write("f", "keep", true);
  sync_dir();
  fs::remove(p("f"));
  EXPECT_FALSE(exists("f"));
  cut();
  EXPECT_EQ(read("f"), "keep");
  fs::remove(p("f"));
  sync_dir();
  cut();
  EXPECT_FALSE(exists("f"));
}

TEST_F(LossyFs, TruncateIsDurableOnlyAfterFsync) {
  write("f", std::string(100, 'a'), true);
  sync_dir();
  fs::resize_file(p("f"), 10);
  cut();
  EXPECT_EQ(fs::file_size(p("f")), 100u);
  fs::resize_file(p("f"), 10);
  sync_file("f");
  cut();
  EXPECT_EQ(read("f"), std::string(10, 'a'));
  // Shrink then grow: the regrown bytes are zeros, not the old contents.
  fs::resize_file(p("f"), 4);
  fs::resize_file(p("f"), 8);
  sync_file("f");
  cut();
  EXPECT_EQ(read("f"), std::string(4, 'a') + std::string(4, '\0'));
}

TEST_F(LossyFs, TornTailIsAPrefixOfTheLastWrite) {
  std::set<size_t> sizes;
  for (int seed = 1; seed <= 8; ++seed) {
    std::string name = "f";
    name += std::to_string(seed);
    write(name, "AAAA", true);
    sync_dir();
    write(name, std::string(1000, 'B'), false);
    cut("tear seed=" + std::to_string(seed));
    std::string got = read(name);
    ASSERT_GE(got.size(), 4u);
    ASSERT_LT(got.size(), 1004u);
    EXPECT_EQ(got, "AAAA" + std::string(got.size() - 4, 'B'));
    sizes.insert(got.size());
  }
  EXPECT_GT(sizes.size(), 4u) << "tears should land at different byte boundaries";
  EXPECT_GT(*sizes.rbegin(), 4u);
  // Without "tear", nothing unsynced survives.
  write("g", "AAAA", true);
  sync_dir();
  write("g", std::string(1000, 'B'), false);
  cut();
  EXPECT_EQ(read("g"), "AAAA");
}

TEST_F(LossyFs, OpenFilesFailAfterACut) {
  write("f", "x", true);
  sync_dir();
  int fd = ::open(p("f").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  cut();
  char c;
  EXPECT_EQ(::pread(fd, &c, 1, 0), -1);
  EXPECT_EQ(errno, EIO);
  EXPECT_EQ(::fsync(fd), -1);
  ::close(fd);
  EXPECT_EQ(read("f"), "x");
}

TEST_F(LossyFs, FsyncEioDropsTheDataAndTheRetrySucceeds) {
  write("f", "base", true);
  sync_dir();
  ASSERT_EQ(m_->control("fault fsync-eio f 1"), "ok");
  int fd = ::open(p("f").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "-lost", 5, 4), 5);
  EXPECT_EQ(::fsync(fd), -1);
  EXPECT_EQ(errno, EIO);
  // fsyncgate: the retry reports success, but the data never reached the disk.
  EXPECT_EQ(::fsync(fd), 0);
  ::close(fd);
  EXPECT_EQ(read("f"), "base-lost");
  cut();
  // The second fsync persisted the size, not the lost bytes: zeros.
  EXPECT_EQ(read("f"), std::string("base") + std::string(5, '\0'));
}

TEST_F(LossyFs, ReadEio) {
  write("f", "data", true);
  write("g", "data", true);
  ASSERT_EQ(m_->control("fault read-eio f"), "ok");
  int fd = ::open(p("f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  char buf[4];
  EXPECT_EQ(::read(fd, buf, 4), -1);
  EXPECT_EQ(errno, EIO);
  ::close(fd);
  EXPECT_EQ(read("g"), "data");  // other files are fine
  ASSERT_EQ(m_->control("clear"), "ok");
  EXPECT_EQ(read("f"), "data");
}

TEST_F(LossyFs, WriteEnospc) {
  ASSERT_EQ(m_->control("fault write-enospc sub/* 1"), "ok");
  fs::create_directories(p("sub"));
  int fd = ::open(p("sub/f").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(::write(fd, "x", 1), -1);
  EXPECT_EQ(errno, ENOSPC);
  EXPECT_EQ(::write(fd, "x", 1), 1);  // COUNT 1: only once
  ::close(fd);
}

TEST_F(LossyFs, BitflipChangesExactlyOneBitOfOneRead) {
  std::string data(4096, '\x5a');
  write("f", data, true);
  ASSERT_EQ(m_->control("fault bitflip f 1"), "ok");
  std::string got = read("f");
  ASSERT_EQ(got.size(), data.size());
  int bits = 0;
  for (size_t i = 0; i < data.size(); ++i)
    bits += __builtin_popcount(static_cast<unsigned char>(got[i] ^ data[i]));
  EXPECT_EQ(bits, 1);
  EXPECT_EQ(read("f"), data);  // the disk itself is intact
}

TEST_F(LossyFs, DeletedFilesDoNotKeepTheirSyncedCopies) {
  auto blobs = [&] {
    size_t k = 0;
    for (auto& e : fs::directory_iterator(m_->root() / "backing" / "durable"))
      k += !e.is_directory();
    return k;
  };
  for (int i = 0; i < 20; ++i) {
    std::string name = "f";
    name += std::to_string(i);
    write(name, std::string(1000, 'x'), true);
    sync_dir();
    fs::remove(p(name));
    sync_dir();
  }
  write("never-durable", "x", true);
  fs::remove(p("never-durable"));
  EXPECT_LE(blobs(), 1u);
  cut();
  EXPECT_TRUE(fs::is_empty(m_->path()));
}

TEST_F(LossyFs, ControlRejectsBadCommands) {
  EXPECT_EQ(m_->control("fault nonsense x").rfind("error", 0), 0u);
  EXPECT_EQ(m_->control("bogus").rfind("error", 0), 0u);
  EXPECT_EQ(m_->control("stats").rfind("ok writes=", 0), 0u);
}

}  // namespace
