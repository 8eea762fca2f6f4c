// Design image sources: the one place that says why a source cannot be used, for scene
// loading and rendering alike (image_source.h).
#include "design/image_source.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <opencv2/imgcodecs.hpp>

#include "design/scene_json.h"
#include "support/test_support.h"

namespace atelier::design {
namespace {
namespace fs = std::filesystem;

std::vector<std::uint8_t> encode(const cv::Mat& m, const std::string& ext) {
  std::vector<std::uint8_t> out;
  EXPECT_TRUE(cv::imencode(ext, m, out));
  return out;
}

// A structurally complete PNG whose header claims w×h pixels (the data is tiny).
std::vector<std::uint8_t> png_claiming(std::uint32_t w, std::uint32_t h) {
  std::vector<std::uint8_t> out{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  auto chunk = [&](const std::string& type, std::vector<std::uint8_t> data) {
    auto be = [&](std::uint32_t v) { for (int s = 24; s >= 0; s -= 8) out.push_back(std::uint8_t(v >> s)); };
    be(std::uint32_t(data.size()));
    std::vector<std::uint8_t> body(type.begin(), type.end());
    body.insert(body.end(), data.begin(), data.end());
    out.insert(out.end(), body.begin(), body.end());
    be(std::uint32_t(crc32(0, body.data(), uInt(body.size()))));
  };
  std::vector<std::uint8_t> ihdr;
  for (std::uint32_t v : {w, h}) for (int s = 24; s >= 0; s -= 8) ihdr.push_back(std::uint8_t(v >> s));
  ihdr.insert(ihdr.end(), {8, 0, 0, 0, 0});  // 8-bit gray
  chunk("IHDR", ihdr);
  chunk("IDAT", {0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
  chunk("IEND", {});
  return out;
}

std::string reason(std::string_view source, const fs::path& base = {}, image::DecodeLimits limits = {}) {
  auto r = read_image_source(source, base, limits);
  return r.ok() ? "ok" : r.status().message();
}

TEST(ImageSource, UrlsAreRecognisedAndNeverFetched) {
  EXPECT_TRUE(is_url("http://example.com/a.jpg"));
  EXPECT_TRUE(is_url("HTTPS://example.com/a.jpg"));
  EXPECT_TRUE(is_url("file:///etc/passwd"));
  EXPECT_TRUE(is_url("data:image/png;base64,iVBORw0KGgo="));
  EXPECT_FALSE(is_url("photos/a.jpg"));
  EXPECT_FALSE(is_url("C:/photos/a.jpg"));
  EXPECT_FALSE(is_url("notes:2024.jpg"));
  EXPECT_EQ(reason("http://127.0.0.1:1/a.png"), "image http://127.0.0.1:1/a.png: URLs are not fetched");
  EXPECT_EQ(check_image_source("https://example.com/x.jpg", "/tmp").message(),
            "image https://example.com/x.jpg: URLs are not fetched");
}

TEST(ImageSource, EveryReasonIsNamed) {
  TempDir dir = testing::temp_dir();
  const fs::path d = dir.path();
  fs::create_directories(d / "folder");
  ASSERT_EQ(::mkfifo((d / "pipe.png").c_str(), 0600), 0);
  testing::write_bytes(d / "huge.png", png_claiming(60000, 60000));
  cv::Mat photo = testing::pattern_rgb(320, 240);
  std::vector<std::uint8_t> jpg = encode(photo, ".jpg");
  testing::write_bytes(d / "good.jpg", jpg);
  testing::write_bytes(d / "truncated.jpg", std::vector<std::uint8_t>(jpg.begin(), jpg.begin() + jpg.size() / 2));
  std::vector<std::uint8_t> cut(jpg.begin(), jpg.begin() + jpg.size() / 2);
  cut.insert(cut.end(), {0xFF, 0xD9});
  testing::write_bytes(d / "cut.jpg", cut);
  testing::write_bytes(d / "notes.png", {'h', 'e', 'l', 'l', 'o'});

  const std::string p = d.string() + "/";
  EXPECT_EQ(reason("good.jpg", d), "ok");
  EXPECT_EQ(reason("gone.jpg", d), "image " + p + "gone.jpg: no such file");
  EXPECT_EQ(reason("folder", d), "image " + p + "folder: not a regular file (a folder)");
  EXPECT_EQ(reason("pipe.png", d), "image " + p + "pipe.png: not a regular file (a FIFO)");  // and no hang
  EXPECT_EQ(reason("/dev/zero"), "image /dev/zero: not a regular file (a device)");
  EXPECT_EQ(reason("/etc/passwd"), "image /etc/passwd: not an image (expected JPEG, PNG, WebP, TIFF or BMP)");
  EXPECT_EQ(reason("/proc/self/environ"), "image /proc/self/environ: not an image (empty file)");
  EXPECT_EQ(reason("notes.png", d), "image " + p + "notes.png: not an image (expected JPEG, PNG, WebP, TIFF or BMP)");
  EXPECT_EQ(reason("huge.png", d),
            "image " + p + "huge.png: over the pixel limit (3600.0 MP, 60000x60000; the limit is 100.0 MP)");
  EXPECT_EQ(reason("truncated.jpg", d), "image " + p + "truncated.jpg: corrupt or truncated JPEG image (no end-of-image marker)");
  EXPECT_EQ(reason("cut.jpg", d), "image " + p + "cut.jpg: corrupt or truncated JPEG image (image data cut short)");
  EXPECT_EQ(reason("good.jpg", d, {.max_pixels = 1000}),
            "image " + p + "good.jpg: over the pixel limit (76800 pixels, 320x240; the limit is 1000 pixels)");
  EXPECT_EQ(reason("good.jpg", d, {.max_bytes = 100}).rfind("image " + p + "good.jpg: over the size limit (", 0), 0u);
  EXPECT_EQ(read_image_source("gone.jpg", d, {}).status().code(), StatusCode::kNotFound);

  // The cheap check agrees on what it can tell without reading.
  EXPECT_TRUE(check_image_source("good.jpg", d).ok());
  EXPECT_TRUE(check_image_source("notes.png", d).ok());
  EXPECT_EQ(check_image_source("pipe.png", d).message(), "image " + p + "pipe.png: not a regular file (a FIFO)");
  EXPECT_EQ(check_image_source("/dev/null", {}).message(), "image /dev/null: not a regular file (a device)");
}

TEST(ImageSource, ListsTheSourcesOfAScene) {
  Scene s;
  auto add = [&](BlockId id, BlockType type, std::string source) {
    Block b;
    b.id = id;
    b.type = type;
    b.image.source = std::move(source);
    s.blocks[id] = b;
  };
  add(1, BlockType::kPage, "");
  add(9, BlockType::kImage, "/abs/a.png");
  add(3, BlockType::kImage, "rel/b.jpg");
  add(4, BlockType::kImage, "");
  add(5, BlockType::kImage, "http://x/y.png");
  add(6, BlockType::kShape, "");
  auto list = image_sources(s, "/designs");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].block, 3);
  EXPECT_EQ(list[0].path, fs::path("/designs/rel/b.jpg"));
  EXPECT_EQ(list[0].source, "rel/b.jpg");
  EXPECT_EQ(list[1].block, 5);
  EXPECT_TRUE(list[1].url);
  EXPECT_TRUE(list[1].path.empty());
  EXPECT_EQ(list[2].block, 9);
  EXPECT_EQ(list[2].path, fs::path("/abs/a.png"));
}

TEST(ImageSource, LoadWarningsUseTheSameReasons) {
  TempDir dir = testing::temp_dir();
  fs::create_directories(dir.path() / "folder");
  const std::string text = R"({
  "format": "atelier-scene",
  "version": 1,
  "pages": [{"id": 1, "type": "page", "width": 100, "height": 100, "children": [
    {"id": 7, "type": "image", "source": "folder"},
    {"id": 8, "type": "image", "source": "http://example.com/a.png"},
    {"id": 9, "type": "image", "source": "/dev/zero"}
  ]}]
}
)";
  auto loaded = parse_scene(text, "d.json", dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->warnings,
            (std::vector<std::string>{
                "d.json:5:42: block 7: image " + (dir.path() / "folder").string() + ": not a regular file (a folder)",
                "d.json:6:42: block 8: image http://example.com/a.png: URLs are not fetched",
                "d.json:7:42: block 9: image /dev/zero: not a regular file (a device)"}));
  auto quiet = parse_scene(text, "d.json", dir.path(), {.check_image_sources = false});
  ASSERT_TRUE(quiet.ok());
  EXPECT_TRUE(quiet->warnings.empty());
}

}  // namespace
}  // namespace atelier::design
