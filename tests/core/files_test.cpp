#include "core/files.h"

#include <gtest/gtest.h>
#include <unistd.h>

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
