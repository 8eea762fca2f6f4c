#include "core/files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "support/test_support.h"

namespace atelier {
namespace {
namespace fs = std::filesystem;

TEST(ReadFile, ReportsEachFailureWithThePath) {
  TempDir dir = testing::temp_dir();
  fs::path missing = dir.path() / "missing.png";
  auto r = read_file(missing, 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), missing.string() + ": no such file");

  r = read_file(dir.path(), 100);
  EXPECT_EQ(r.status().message(), dir.path().string() + ": is a directory");

  fs::path empty = dir.path() / "empty.jpg";
  std::ofstream(empty).close();
  r = read_file(empty, 100);
  EXPECT_EQ(r.status().message(), empty.string() + ": empty file");

  fs::path big = dir.path() / "big.bin";
  testing::write_bytes(big, std::vector<std::uint8_t>(2000, 7));
  r = read_file(big, 1000);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), big.string() + ": file is 2.0 kB, more than the 1.0 kB limit");

  r = read_file(big, 2000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 2000u);
}

// read_large_file: read_file's bytes and errors, in memory that is not zero-filled first.
TEST(ReadFile, LargeFilesGiveTheSameBytesAndErrors) {
  TempDir dir = testing::temp_dir();
  std::vector<std::uint8_t> bytes((std::size_t(5) << 20) + 3);  // more than two 2 MiB pages
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = std::uint8_t(i * 131 + (i >> 12));
  const fs::path file = dir.path() / "model.onnx";
  testing::write_bytes(file, bytes);
  auto large = read_large_file(file, std::uint64_t(1) << 30);
  ASSERT_TRUE(large.ok()) << large.status().message();
  ASSERT_EQ(large->size(), bytes.size());
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), large->data()));
  for (const fs::path& bad : {dir.path() / "missing.onnx", dir.path()}) {
    EXPECT_EQ(read_large_file(bad, 100).status().message(), read_file(bad, 100).status().message());
  }
  EXPECT_EQ(read_large_file(file, 1000).status().message(),
            file.string() + ": file is 5.2 MB, more than the 1.0 kB limit");
  LargeBuffer b;
  b.resize(10);
  std::fill(b.data(), b.data() + 10, std::uint8_t(9));
  b.resize(3 << 20);  // grows: the first bytes stay
  EXPECT_EQ(b.data()[9], 9);
  b.resize(4);
  EXPECT_EQ(b.size(), 4u);
}

TEST(AtomicFile, NothingAppearsUntilCommit) {
  TempDir dir = testing::temp_dir();
  fs::path out = dir.path() / "out.bin";
  {
    auto f = AtomicFile::create(out);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->write(std::vector<std::uint8_t>{1, 2, 3}).ok());
    EXPECT_FALSE(fs::exists(out));
    EXPECT_TRUE(fs::exists(f->temp_path()));
  }  // abandoned: the temporary file goes away, the output never appeared
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fs::is_empty(dir.path()));

  std::vector<std::uint8_t> data{4, 5, 6};
  ASSERT_TRUE(write_file_atomic(out, data).ok());
  auto back = read_file(out, 10);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, data);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(AtomicFile, UnwritableLocationsAreClearErrors) {
  TempDir dir = testing::temp_dir();
  fs::path file = dir.path() / "plain";
  testing::write_bytes(file, {1});
  Status s = write_file_atomic(file / "out.png", std::vector<std::uint8_t>{1});
  EXPECT_EQ(s.message(), (file / "out.png").string() + ": cannot write: " + file.string() + " is not a directory");
  s = write_file_atomic(dir.path() / "nodir" / "out.png", std::vector<std::uint8_t>{1});
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), (dir.path() / "nodir" / "out.png").string() + ": cannot write: directory " +
                             (dir.path() / "nodir").string() + " does not exist");
}

TEST(FormatBytes, Units) {
  EXPECT_EQ(format_bytes(999), "999 bytes");
  EXPECT_EQ(format_bytes(88188479), "88.2 MB");
  EXPECT_EQ(format_bytes(1'250'000'000), "1.25 GB");
}

}  // namespace
}  // namespace atelier
