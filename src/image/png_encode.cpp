#include "image/png_encode.h"

#include <opencv2/core.hpp>
#include <zlib.h>

#include <algorithm>
#include <string>

namespace atelier::image {
namespace {

constexpr int kStripRows = 128;

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  out.push_back(std::uint8_t(v >> 24));
  out.push_back(std::uint8_t(v >> 16));
  out.push_back(std::uint8_t(v >> 8));
  out.push_back(std::uint8_t(v));
}

void put_chunk(std::vector<std::uint8_t>& out, const char type[4], const std::uint8_t* data, std::size_t size) {
  put_u32(out, std::uint32_t(size));
  const std::size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  if (size > 0) out.insert(out.end(), data, data + size);
  const uLong crc = crc32(0L, out.data() + start, uInt(out.size() - start));
  put_u32(out, std::uint32_t(crc));
}

struct Strip {
  std::vector<std::uint8_t> bytes;  // raw deflate data
  uLong adler = 1;
  uLong length = 0;  // uncompressed bytes
  bool ok = false;
};

void encode_strip(const PngRows& rows, int y0, int y1, int level, bool last, Strip& strip) {
  const std::size_t row_bytes = std::size_t(rows.width) * std::size_t(rows.channels);
  std::vector<std::uint8_t> prev(row_bytes, 0), cur(row_bytes), filtered(row_bytes + 1);
  if (y0 > 0) rows.row(y0 - 1, prev.data());
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_RLE) != Z_OK) return;
  strip.bytes.resize(deflateBound(&z, uLong(row_bytes + 1) * uLong(y1 - y0)) + 64);
  z.next_out = strip.bytes.data();
  z.avail_out = uInt(strip.bytes.size());
  // Deflates what is in z.next_in; grows the output when full.
  auto run = [&](int flush) {
    for (;;) {
      if (z.avail_out == 0) {
        strip.bytes.resize(strip.bytes.size() * 2);
        z.next_out = strip.bytes.data() + z.total_out;
        z.avail_out = uInt(strip.bytes.size() - z.total_out);
      }
      const int r = deflate(&z, flush);
      if (r == Z_STREAM_ERROR) return false;
      if (flush == Z_FINISH ? r == Z_STREAM_END : (z.avail_in == 0 && z.avail_out != 0)) return true;
    }
  };
  bool ok = true;
  for (int y = y0; y < y1 && ok; ++y) {
    rows.row(y, cur.data());
    filtered[0] = 2;  // "up": the difference with the row above
    for (std::size_t i = 0; i < row_bytes; ++i) filtered[i + 1] = std::uint8_t(cur[i] - prev[i]);
    std::swap(cur, prev);
    strip.adler = adler32(strip.adler, filtered.data(), uInt(filtered.size()));
    strip.length += uLong(filtered.size());
    z.next_in = filtered.data();
    z.avail_in = uInt(filtered.size());
    ok = run(y + 1 < y1 ? Z_NO_FLUSH : (last ? Z_FINISH : Z_SYNC_FLUSH));
  }
  strip.bytes.resize(z.total_out);
  deflateEnd(&z);
  strip.ok = ok;
}

}  // namespace

Result<std::vector<std::uint8_t>> encode_png(const PngRows& rows, int level) {
  const int w = rows.width, h = rows.height;
  if (w <= 0 || h <= 0 || w > (1 << 24) || h > (1 << 24) || rows.channels < 1 || rows.channels > 4 || !rows.row) {
    return invalid_argument("PNG encoder: a " + std::to_string(w) + "x" + std::to_string(h) + " image with " +
                            std::to_string(rows.channels) + " channels cannot be encoded");
  }
  level = std::clamp(level, 0, 9);
  const int strips = (h + kStripRows - 1) / kStripRows;
  std::vector<Strip> parts(static_cast<std::size_t>(strips));
  cv::parallel_for_(cv::Range(0, strips), [&](const cv::Range& r) {
    for (int i = r.start; i < r.end; ++i) {
      encode_strip(rows, i * kStripRows, std::min(h, (i + 1) * kStripRows), level, i + 1 == strips,
                   parts[std::size_t(i)]);
    }
  });

  std::vector<std::uint8_t> idat;
  std::size_t total = 2 + 4;
  for (const Strip& s : parts) {
    if (!s.ok) return internal_error("PNG encoder: deflate failed");
    total += s.bytes.size();
  }
  idat.reserve(total);
  idat.push_back(0x78);  // zlib header: deflate, 32 KiB window
  idat.push_back(0x01);
  uLong adler = 1;
  for (const Strip& s : parts) {
    idat.insert(idat.end(), s.bytes.begin(), s.bytes.end());
    adler = adler32_combine(adler, s.adler, z_off_t(s.length));
  }
  put_u32(idat, std::uint32_t(adler));

  std::vector<std::uint8_t> png;
  png.reserve(idat.size() + 128);
  static constexpr std::uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  png.insert(png.end(), kSignature, kSignature + 8);
  static constexpr std::uint8_t kColourType[5] = {0, 0, 4, 2, 6};  // by channels: grey, grey+alpha, RGB, RGBA
  std::vector<std::uint8_t> ihdr;
  put_u32(ihdr, std::uint32_t(w));
  put_u32(ihdr, std::uint32_t(h));
  ihdr.push_back(8);                           // bits per channel
  ihdr.push_back(kColourType[rows.channels]);
  ihdr.push_back(0);                           // deflate
  ihdr.push_back(0);                           // adaptive filtering (per-row filter bytes)
  ihdr.push_back(0);                           // no interlace
  put_chunk(png, "IHDR", ihdr.data(), ihdr.size());
  const std::uint8_t srgb = 0;  // sRGB, perceptual intent
  put_chunk(png, "sRGB", &srgb, 1);
  put_chunk(png, "IDAT", idat.data(), idat.size());
  put_chunk(png, "IEND", nullptr, 0);
  return png;
}

}  // namespace atelier::image
