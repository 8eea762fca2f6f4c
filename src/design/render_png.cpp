// PNG encoding of rendered pages, straight from cairo's premultiplied ARGB32 surface.
//
// Measured on the 1080×1920 benchmark page (bench/render_bench.cpp, 2 cores; encoding
// alone, median of 20): this encoder 21.6 ms → 1.73 MB; OpenCV's libpng encoder at level 1
// (libpng's adaptive filters) 80 ms → 1.63 MB, with OpenCV's fastest settings (sub filter,
// RLE) 44 ms → 1.85 MB, both after an un-premultiply/BGR conversion; cairo's
// cairo_surface_write_to_png 337 ms → 1.45 MB.
//
// How: rows are un-premultiplied and filtered here with one filter for the whole image,
// PNG filter "up" (flat design areas and vertical gradients become runs of zeros; Paeth
// made the page 12% smaller but cost 30% more CPU time in all, "sub" and per-row adaptive
// choice were larger or slower), then deflated with zlib's Z_RLE strategy (~10% faster
// than the default strategy at level 1 for 1.5% more bytes). Horizontal strips of
// kStripRows rows are compressed in parallel, each as raw deflate data ending on a byte
// boundary (Z_SYNC_FLUSH), and joined into one zlib stream whose Adler-32 is combined from
// the strips' (as pigz does). Strips have a fixed height, so the bytes do not depend on
// the number of threads. Opaque pages are written as RGB, others as RGBA (straight alpha).
// An sRGB chunk says what the colours are.
#include <opencv2/core.hpp>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "design/render_internal.h"

namespace atelier::design::render_detail {
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

// Row y of the surface as straight RGB (channels 3) or RGBA (4).
void straight_row(const std::uint8_t* src, int w, int channels, std::uint8_t* dst) {
  const auto& t = unpremultiply_lut();
  for (int x = 0; x < w; ++x, src += 4, dst += channels) {
    const std::uint8_t a = src[3];
    if (a == 255) {
      dst[0] = src[2];
      dst[1] = src[1];
      dst[2] = src[0];
    } else {
      const std::uint8_t* row = &t[std::size_t(a) * 256];
      dst[0] = row[src[2]];
      dst[1] = row[src[1]];
      dst[2] = row[src[0]];
    }
    if (channels == 4) dst[3] = a;
  }
}

struct Strip {
  std::vector<std::uint8_t> bytes;  // raw deflate data
  uLong adler = 1;
  uLong length = 0;  // uncompressed bytes
  bool ok = false;
};

void encode_strip(const std::uint8_t* data, int stride, int w, int y0, int y1, int channels, int level, bool last,
                  Strip& strip) {
  const std::size_t row_bytes = std::size_t(w) * std::size_t(channels);
  std::vector<std::uint8_t> prev(row_bytes, 0), cur(row_bytes), filtered(row_bytes + 1);
  if (y0 > 0) straight_row(data + std::ptrdiff_t(y0 - 1) * stride, w, channels, prev.data());
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
    straight_row(data + std::ptrdiff_t(y) * stride, w, channels, cur.data());
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

const std::array<std::uint8_t, 256 * 256>& unpremultiply_lut() {
  static const auto table = [] {
    std::array<std::uint8_t, 256 * 256> t{};
    for (int a = 1; a < 256; ++a) {
      for (int c = 0; c < 256; ++c) t[std::size_t(a * 256 + c)] = std::uint8_t(std::min(255, (c * 255 + a / 2) / a));
    }
    return t;
  }();
  return table;
}

Result<std::vector<std::uint8_t>> encode_png(cairo_surface_t* surface, int level) {
  cairo_surface_flush(surface);
  const int w = cairo_image_surface_get_width(surface), h = cairo_image_surface_get_height(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  const std::uint8_t* data = cairo_image_surface_get_data(surface);
  if (data == nullptr || w <= 0 || h <= 0 || cairo_image_surface_get_format(surface) != CAIRO_FORMAT_ARGB32) {
    return internal_error("PNG encoder: not an ARGB32 image");
  }
  bool opaque = true;
  for (int y = 0; y < h && opaque; ++y) {
    const std::uint8_t* row = data + std::ptrdiff_t(y) * stride;
    for (int x = 0; x < w; ++x) opaque &= row[4 * x + 3] == 255;
  }
  const int channels = opaque ? 3 : 4;
  level = std::clamp(level, 0, 9);

  const int strips = (h + kStripRows - 1) / kStripRows;
  std::vector<Strip> parts(static_cast<std::size_t>(strips));
  cv::parallel_for_(cv::Range(0, strips), [&](const cv::Range& r) {
    for (int i = r.start; i < r.end; ++i) {
      encode_strip(data, stride, w, i * kStripRows, std::min(h, (i + 1) * kStripRows), channels, level, i + 1 == strips,
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
  std::vector<std::uint8_t> ihdr;
  put_u32(ihdr, std::uint32_t(w));
  put_u32(ihdr, std::uint32_t(h));
  ihdr.push_back(8);                      // bits per channel
  ihdr.push_back(opaque ? 2 : 6);         // RGB or RGBA
  ihdr.push_back(0);                      // deflate
  ihdr.push_back(0);                      // adaptive filtering (per-row filter bytes)
  ihdr.push_back(0);                      // no interlace
  put_chunk(png, "IHDR", ihdr.data(), ihdr.size());
  const std::uint8_t srgb = 0;  // sRGB, perceptual intent
  put_chunk(png, "sRGB", &srgb, 1);
  put_chunk(png, "IDAT", idat.data(), idat.size());
  put_chunk(png, "IEND", nullptr, 0);
  return png;
}

}  // namespace atelier::design::render_detail
