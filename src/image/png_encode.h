// A fast PNG encoder for 8-bit images: every 8-bit PNG Atelier writes (cutouts, masks,
// rendered designs) goes through it.
//
// Measured on the 1080×1920 design benchmark page (bench/render_bench.cpp, 2 cores;
// encoding alone, median of 20): 21.6 ms → 1.73 MB; OpenCV's libpng encoder at level 1
// (libpng's adaptive filters) 80 ms → 1.63 MB, with OpenCV's fastest settings (sub
// filter, RLE) 44 ms → 1.85 MB; cairo's cairo_surface_write_to_png 337 ms → 1.45 MB.
//
// How: one PNG filter for the whole image, "up" (flat areas and vertical gradients become
// runs of zeros; Paeth made pages 12% smaller for 30% more CPU time, "sub" and per-row
// adaptive choice were larger or slower), deflated with zlib's Z_RLE strategy. Horizontal
// strips of 128 rows are compressed in parallel (cv::parallel_for_), each as raw deflate
// data ending on a byte boundary (Z_SYNC_FLUSH), and joined into one zlib stream whose
// Adler-32 is combined from the strips' (as pigz does). Strips have a fixed height, so the
// bytes do not depend on the number of threads. An sRGB chunk says what the colours are.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/status.h"

namespace atelier::image {

// zlib level Atelier writes PNGs with.
inline constexpr int kPngLevel = 1;

// An image to encode, row by row.
struct PngRows {
  int width = 0, height = 0;
  int channels = 0;  // 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA (straight alpha)
  // Writes row y (width × channels bytes, 8 bits each) to `dst`. Called from several
  // threads at once (each strip asks for its own rows, in order, and for the row above
  // its first).
  std::function<void(int y, std::uint8_t* dst)> row;
};

// PNG bytes at zlib `level` (clamped to 0..9). Errors: a size or channel count out of
// range, deflate failing (kInternal).
Result<std::vector<std::uint8_t>> encode_png(const PngRows& rows, int level = kPngLevel);

}  // namespace atelier::image
