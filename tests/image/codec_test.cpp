#include "image/codec.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdio>  // before jpeglib.h
#include <jpeglib.h>
#include <zlib.h>

#include "support/test_support.h"

namespace atelier::image {
namespace {
namespace fs = std::filesystem;

std::vector<std::uint8_t> encode_bgr(const cv::Mat& bgr, const std::string& ext, std::vector<int> params = {}) {
  std::vector<std::uint8_t> out;
  EXPECT_TRUE(cv::imencode(ext, bgr, out, params));
  return out;
}

// A JPEG with an EXIF APP1 segment whose IFD0 holds Orientation = `orientation`.
std::vector<std::uint8_t> jpeg_with_orientation(const cv::Mat& bgr, int orientation, bool big_endian) {
  std::vector<std::uint8_t> jpg = encode_bgr(bgr, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 100});
  std::vector<std::uint8_t> tiff;
  auto u16 = [&](int v) {
    if (big_endian) { tiff.push_back(std::uint8_t(v >> 8)); tiff.push_back(std::uint8_t(v)); }
    else { tiff.push_back(std::uint8_t(v)); tiff.push_back(std::uint8_t(v >> 8)); }
  };
  auto u32 = [&](std::uint32_t v) {
    if (big_endian) { u16(int(v >> 16)); u16(int(v & 0xffff)); } else { u16(int(v & 0xffff)); u16(int(v >> 16)); }
  };
  tiff = big_endian ? std::vector<std::uint8_t>{'M', 'M'} : std::vector<std::uint8_t>{'I', 'I'};
  u16(42); u32(8);           // header, IFD0 at 8
  u16(1);                    // one entry
  u16(274); u16(3); u32(1);  // Orientation, SHORT, count 1
  u16(orientation); u16(0);  // value (left-justified) + padding
  u32(0);                    // no next IFD
  std::vector<std::uint8_t> app1{0xFF, 0xE1};
  std::size_t len = 2 + 6 + tiff.size();
  app1.push_back(std::uint8_t(len >> 8));
  app1.push_back(std::uint8_t(len));
  for (char c : std::string("Exif\0\0", 6)) app1.push_back(std::uint8_t(c));
  app1.insert(app1.end(), tiff.begin(), tiff.end());
  jpg.insert(jpg.begin() + 2, app1.begin(), app1.end());
  return jpg;
}

// Four flat quadrants: top-left red, top-right green, bottom-left blue, bottom-right white.
cv::Mat quadrants_bgr(int w, int h) {
  cv::Mat m(h, w, CV_8UC3);
  m(cv::Rect(0, 0, w / 2, h / 2)).setTo(cv::Scalar(0, 0, 255));
  m(cv::Rect(w / 2, 0, w - w / 2, h / 2)).setTo(cv::Scalar(0, 255, 0));
  m(cv::Rect(0, h / 2, w / 2, h - h / 2)).setTo(cv::Scalar(255, 0, 0));
  m(cv::Rect(w / 2, h / 2, w - w / 2, h - h / 2)).setTo(cv::Scalar(255, 255, 255));
  return m;
}

char corner_colour(const Image& img, int cx, int cy) {
  int x = cx ? img.width() - 4 : 3, y = cy ? img.height() - 4 : 3;
  cv::Vec3b p = img.mat().at<cv::Vec3b>(y, x);
  if (p[0] > 200 && p[1] > 200 && p[2] > 200) return 'W';
  if (p[0] > 200) return 'R';
  if (p[1] > 200) return 'G';
  if (p[2] > 200) return 'B';
  return '?';
}

// Corners read clockwise from the top left.
std::string corners(const Image& img) {
  return {corner_colour(img, 0, 0), corner_colour(img, 1, 0), corner_colour(img, 1, 1), corner_colour(img, 0, 1)};
}

TEST(Codec, DecodesEachFormatInRgbOrder) {
  cv::Mat bgr = quadrants_bgr(64, 48);
  for (std::string ext : {".png", ".jpg", ".webp", ".tiff", ".bmp"}) {
    auto img = decode_image(encode_bgr(bgr, ext));
    ASSERT_TRUE(img.ok()) << ext << ": " << img.status().message();
    EXPECT_EQ(img->width(), 64);
    EXPECT_EQ(img->height(), 48);
    EXPECT_EQ(img->channels(), 3) << ext;
    EXPECT_EQ(corners(*img), "RGWB") << ext;
  }
}

TEST(Codec, KeepsGrayAlphaAndSixteenBits) {
  cv::Mat gray(10, 12, CV_8UC1, cv::Scalar(77));
  auto g = decode_image(encode_bgr(gray, ".png"));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->channels(), 1);
  EXPECT_EQ(g->mat().at<std::uint8_t>(5, 5), 77);

  cv::Mat bgra(10, 12, CV_8UC4, cv::Scalar(10, 20, 30, 40));
  auto a = decode_image(encode_bgr(bgra, ".png"));
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->channels(), 4);
  EXPECT_EQ(a->mat().at<cv::Vec4b>(0, 0), cv::Vec4b(30, 20, 10, 40));

  cv::Mat deep(10, 12, CV_16UC3, cv::Scalar(1000, 2000, 60000));
  for (std::string ext : {".png", ".tiff"}) {
    auto d = decode_image(encode_bgr(deep, ext));
    ASSERT_TRUE(d.ok()) << ext;
    EXPECT_EQ(d->depth(), CV_16U);
    EXPECT_EQ(d->mat().at<cv::Vec3w>(3, 3), cv::Vec3w(60000, 2000, 1000)) << ext;
  }
}

TEST(Codec, HonoursEveryExifOrientation) {
  // Stored as RGWB (clockwise from top left); what each orientation displays.
  const char* expected[9] = {"", "RGWB", "GRBW", "WBRG", "BWGR", "RBWG", "BRGW", "WGRB", "GWBR"};
  cv::Mat bgr = quadrants_bgr(64, 48);
  for (int o = 1; o <= 8; ++o) {
    for (bool be : {false, true}) {
      auto img = decode_image(jpeg_with_orientation(bgr, o, be));
      ASSERT_TRUE(img.ok()) << img.status().message();
      EXPECT_EQ(corners(*img), expected[o]) << "orientation " << o;
      EXPECT_EQ(img->width(), o >= 5 ? 48 : 64) << "orientation " << o;
    }
  }
}

TEST(Codec, RejectsBadInputWithExactReasons) {
  cv::Mat bgr = quadrants_bgr(64, 48);
  auto reason = [](std::vector<std::uint8_t> bytes, DecodeLimits limits = {}) {
    auto r = decode_image(bytes, limits);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  std::vector<std::uint8_t> png = encode_bgr(bgr, ".png");
  cv::Mat photo = testing::pattern_rgb(640, 480);
  std::vector<std::uint8_t> jpg = encode_bgr(photo, ".jpg");
  std::vector<std::uint8_t> webp = encode_bgr(bgr, ".webp");
  std::vector<std::uint8_t> tif = encode_bgr(photo, ".tiff");
  std::vector<std::uint8_t> bmp = encode_bgr(bgr, ".bmp");
  auto cut = [](std::vector<std::uint8_t> v) { v.resize(v.size() * 2 / 3); return v; };

  EXPECT_EQ(reason({}), "empty file");
  EXPECT_EQ(reason({'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!'}),
            "unsupported image format (expected JPEG, PNG, WebP, TIFF or BMP)");
  EXPECT_EQ(reason(cut(png)), "corrupt or truncated PNG image (chunk runs past the end)");
  EXPECT_EQ(reason(cut(jpg)), "corrupt or truncated JPEG image (no end-of-image marker)");
  EXPECT_EQ(reason(cut(webp)), "corrupt or truncated WebP image (RIFF data runs past the end)");
  EXPECT_EQ(reason(cut(bmp)), "corrupt or truncated BMP image (pixel data runs past the end)");
  // libtiff writes the directory after the pixels: a cut file loses it.
  EXPECT_EQ(reason(cut(tif)), "corrupt or truncated TIFF image (image directory runs past the end)");
  // Directory intact, but a strip's byte count points past the end of the file.
  std::vector<std::uint8_t> tif_data_cut = tif;
  ASSERT_EQ(tif[0], 'I');
  auto le = [&](std::size_t at, int n) {
    std::uint32_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | tif[at + i];
    return v;
  };
  std::uint32_t ifd = le(4, 4);
  for (std::uint32_t e = 0; e < le(ifd, 2); ++e) {
    std::size_t entry = ifd + 2 + e * 12;
    if (le(entry, 2) != 279) continue;
    std::size_t size = le(entry + 2, 2) == 3 ? 2 : 4;
    std::size_t at = size * le(entry + 4, 4) <= 4 ? entry + 8 : le(entry + 8, 4);
    for (std::size_t i = 0; i < size; ++i) tif_data_cut[at + i] = 0xF0;
  }
  EXPECT_EQ(reason(tif_data_cut), "corrupt or truncated TIFF image (image data runs past the end)");
  std::vector<std::uint8_t> header_only(png.begin(), png.begin() + 33);
  EXPECT_EQ(reason(header_only), "corrupt or truncated PNG image (no IEND chunk)");
  // Damaged compressed data with an intact structure fails in the decoder.
  std::vector<std::uint8_t> scrambled = png;
  for (std::size_t i = 60; i < scrambled.size() - 40; ++i) scrambled[i] ^= 0x5a;
  EXPECT_EQ(reason(scrambled).rfind("corrupt", 0), 0u) << reason(scrambled);

  DecodeLimits small;
  small.max_pixels = 1000;
  EXPECT_EQ(reason(png, small), "image is 3072 pixels (64x48), more than the 1000 pixels limit");
  small.max_pixels = 1;  // --max-pixels 1: not "0.0 MP"
  EXPECT_EQ(reason(png, small), "image is 3072 pixels (64x48), more than the 1 pixel limit");
  small.max_pixels = 3'000'000;
  cv::Mat big(2000, 2000, CV_8UC1, cv::Scalar(0));
  EXPECT_EQ(reason(encode_bgr(big, ".png"), small), "image is 4.0 MP (2000x2000), more than the 3.0 MP limit");
  small.max_bytes = 100;
  EXPECT_EQ(reason(png, small).rfind("file is ", 0), 0u);
}

TEST(Codec, ReadImageNamesTheFile) {
  TempDir dir = testing::temp_dir();
  fs::path bad = dir.path() / "notes.png";
  testing::write_bytes(bad, {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'});
  auto r = read_image(bad);
  EXPECT_EQ(r.status().message(), bad.string() + ": unsupported image format (expected JPEG, PNG, WebP, TIFF or BMP)");
  r = read_image(dir.path() / "none.jpg");
  EXPECT_EQ(r.status().message(), (dir.path() / "none.jpg").string() + ": no such file");
}

TEST(Codec, WritesAtomicallyAndRefusesAlphaInJpeg) {
  TempDir dir = testing::temp_dir();
  Image rgba(cv::Mat(8, 8, CV_8UC4, cv::Scalar(1, 2, 3, 128)));
  Status s = write_image(dir.path() / "out.jpg", rgba);
  EXPECT_EQ(s.message(), (dir.path() / "out.jpg").string() +
                             ": JPEG cannot store transparency (use PNG or WebP, or an opaque background)");
  EXPECT_TRUE(fs::is_empty(dir.path()));
  for (std::string name : {"out.png", "out.webp"}) {
    ASSERT_TRUE(write_image(dir.path() / name, rgba, {.quality = 101}).ok());
    auto back = read_image(dir.path() / name);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->mat().at<cv::Vec4b>(4, 4), cv::Vec4b(1, 2, 3, 128)) << name;
  }
  EXPECT_EQ(write_image(dir.path() / "out.gif", rgba).message(),
            (dir.path() / "out.gif").string() + ": unknown output format (use .png, .webp, .jpg, .tif or .bmp)");
}

// A JPEG cut in the middle of its image data, with an end-of-image marker appended: the
// structure looks complete, libjpeg fills the rest with grey and only warns.
TEST(Codec, JpegCutMidScanIsCorrupt) {
  cv::Mat photo = testing::pattern_rgb(640, 480);
  std::vector<std::uint8_t> jpg = encode_bgr(photo, ".jpg");
  for (double part : {0.3, 0.5, 0.8}) {
    std::vector<std::uint8_t> cut(jpg.begin(), jpg.begin() + std::ptrdiff_t(double(jpg.size()) * part));
    cut.push_back(0xFF);
    cut.push_back(0xD9);
    auto r = decode_image(cut);
    ASSERT_FALSE(r.ok()) << part;
    EXPECT_EQ(r.status().message(), "corrupt or truncated JPEG image (image data cut short)") << part;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  }
  // The whole file still decodes, and bytes after the end marker do no harm.
  std::vector<std::uint8_t> trailing = jpg;
  trailing.insert(trailing.end(), {'t', 'r', 'a', 'i', 'l'});
  auto whole = decode_image(trailing);
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  // The same pixels as OpenCV's own decoder (the same libjpeg underneath).
  cv::Mat rgb;
  cv::cvtColor(cv::imdecode(jpg, cv::IMREAD_COLOR), rgb, cv::COLOR_BGR2RGB);
  EXPECT_LE(cv::norm(whole->mat(), rgb, cv::NORM_INF), 1.0);
  // Damage in the header is a fatal libjpeg error, named as such.
  std::vector<std::uint8_t> bad_tables = jpg;
  for (std::size_t i = 2; i + 3 < bad_tables.size(); ++i) {
    if (bad_tables[i] == 0xFF && bad_tables[i + 1] == 0xC4) {  // DHT: claim table class 7
      bad_tables[i + 4] = 0x70;
      break;
    }
  }
  auto r = decode_image(bad_tables);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("corrupt or truncated JPEG image (", 0), 0u) << r.status().message();
}

TEST(Codec, JpegGrayAndCmykDecode) {
  cv::Mat gray(16, 24, CV_8UC1, cv::Scalar(77));
  auto g = decode_image(encode_bgr(gray, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 100}));
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->channels(), 1);
  EXPECT_NEAR(g->mat().at<std::uint8_t>(8, 8), 77, 1);

  // An Adobe-style (inverted) CMYK JPEG written with libjpeg: C'=255, M'=128, Y'=0, K'=200
  // (stored values, 255 = no ink) is R = 200, G = 100, B = 0.
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* mem = nullptr;
  unsigned long mem_size = 0;
  jpeg_mem_dest(&c, &mem, &mem_size);
  c.image_width = 16;
  c.image_height = 16;
  c.input_components = 4;
  c.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 100, TRUE);
  jpeg_start_compress(&c, TRUE);
  std::vector<std::uint8_t> row(16 * 4);
  for (int x = 0; x < 16; ++x) {
    row[std::size_t(x) * 4 + 0] = 255;
    row[std::size_t(x) * 4 + 1] = 128;
    row[std::size_t(x) * 4 + 2] = 0;
    row[std::size_t(x) * 4 + 3] = 200;
  }
  while (c.next_scanline < c.image_height) {
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::vector<std::uint8_t> cmyk(mem, mem + mem_size);
  std::free(mem);
  auto img = decode_image(cmyk);
  ASSERT_TRUE(img.ok()) << img.status().message();
  ASSERT_EQ(img->channels(), 3);
  const cv::Vec3b p = img->mat().at<cv::Vec3b>(8, 8);
  EXPECT_NEAR(p[0], 200, 3);
  EXPECT_NEAR(p[1], 100, 3);
  EXPECT_NEAR(p[2], 0, 3);
}

// libpng only warns about a damaged ancillary chunk (and drops it); probe_image checks the
// checksum of every chunk but the image data (which libpng checks itself).
TEST(Codec, PngChunkWithABadChecksumIsCorrupt) {
  std::vector<std::uint8_t> png = encode_bgr(quadrants_bgr(64, 48), ".png");
  auto chunk = [](const std::string& type, const std::string& data, bool good_crc) {
    std::vector<std::uint8_t> c;
    const std::uint32_t len = std::uint32_t(data.size());
    for (int s = 24; s >= 0; s -= 8) c.push_back(std::uint8_t(len >> s));
    std::string body = type + data;
    c.insert(c.end(), body.begin(), body.end());
    std::uint32_t crc = std::uint32_t(crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size())));
    if (!good_crc) crc ^= 1;
    for (int s = 24; s >= 0; s -= 8) c.push_back(std::uint8_t(crc >> s));
    return c;
  };
  for (bool good : {true, false}) {
    std::vector<std::uint8_t> with_text = png;
    auto text = chunk("tEXt", std::string("Comment\0hello", 13), good);
    with_text.insert(with_text.begin() + 33, text.begin(), text.end());  // after IHDR
    auto r = decode_image(with_text);
    if (good) {
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_EQ(corners(*r), "RGWB");
    } else {
      EXPECT_EQ(r.status().message(), "corrupt or truncated PNG image (bad checksum in the tEXt chunk)");
    }
  }
  std::vector<std::uint8_t> bad_header = png;
  bad_header[20] ^= 0x01;  // inside IHDR's data (the height)
  EXPECT_EQ(decode_image(bad_header).status().message(), "corrupt or truncated PNG image (bad checksum in the IHDR chunk)");
}

// The decode_webp fuzzer's reproducer: a WebP header that libwebp cannot read, with "DICM"
// at offset 128. cv::imdecode declined it as WebP and handed it to GDCM's DICOM reader,
// which aborted the process on an assertion; libwebp now decodes WebP itself.
TEST(Codec, BrokenWebpNeverReachesAnotherDecoder) {
  const std::string head("RIFF\x4a\0\0\0WEBPVP8L\x3e\0\0\0\x2f\x07" "EBPICC\0\0ICCP\0\0\0\0ICC", 41);
  std::vector<std::uint8_t> bytes(head.begin(), head.end());
  bytes.resize(128, 0xce);
  for (char c : std::string("DICM\x14\x10")) bytes.push_back(std::uint8_t(c));
  ASSERT_EQ(bytes.size(), 134u);
  auto r = decode_image(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "corrupt or truncated WebP image (bad bitstream header)");
}

TEST(Codec, WebpKeepsAlphaAndDamageIsAnError) {
  cv::Mat bgra(10, 12, CV_8UC4, cv::Scalar(10, 20, 30, 40));
  std::vector<std::uint8_t> lossless = encode_bgr(bgra, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101});
  auto a = decode_image(lossless);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_EQ(a->channels(), 4);
  EXPECT_EQ(a->mat().at<cv::Vec4b>(4, 5), cv::Vec4b(30, 20, 10, 40));

  // The container intact, the lossy bitstream after its frame header scrambled.
  std::vector<std::uint8_t> lossy = encode_bgr(testing::pattern_rgb(320, 240), ".webp");
  ASSERT_GT(lossy.size(), 200u);
  for (std::size_t i = 60; i < lossy.size(); ++i) lossy[i] ^= 0x5a;
  auto d = decode_image(lossy);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message().rfind("corrupt or truncated WebP image (", 0), 0u) << d.status().message();
}

TEST(Codec, DecodeLimitsComeFromTheRequestLimits) {
  Limits l;
  l.max_input_pixels = 12;
  l.max_input_bytes = 34;
  const DecodeLimits d = decode_limits(l);
  EXPECT_EQ(d.max_pixels, 12u);
  EXPECT_EQ(d.max_bytes, 34u);
}

}  // namespace
}  // namespace atelier::image
