// PNG encoding of rendered pages, straight from cairo's premultiplied ARGB32 surface,
// through the image layer's fast encoder (image/png_encode.h: measurements and method).
// Rows are un-premultiplied as the encoder asks for them. Opaque pages are written as
// RGB, others as RGBA (straight alpha).
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "design/render_internal.h"
#include "image/png_encode.h"

namespace atelier::design::render_detail {
namespace {

// Row of the surface as straight RGB (channels 3) or RGBA (4).
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
  image::PngRows rows;
  rows.width = w;
  rows.height = h;
  rows.channels = opaque ? 3 : 4;
  rows.row = [&](int y, std::uint8_t* dst) { straight_row(data + std::ptrdiff_t(y) * stride, w, rows.channels, dst); };
  return image::encode_png(rows, level);
}

}  // namespace atelier::design::render_detail
