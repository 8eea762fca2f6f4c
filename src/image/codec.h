// Reading and writing images: JPEG and WebP through libjpeg and libwebp, PNG, TIFF and BMP
// through OpenCV's imgcodecs (opened on first use, opencv_codecs.h), with limits checked before any pixel is decoded, EXIF orientation applied, embedded ICC
// profiles converted to sRGB (color_profile.h), and atomic output. Decoded images keep their bit depth (8/16-bit, float TIFF) and channel count
// (gray, RGB, RGBA), in RGB(A) order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "core/limits.h"
#include "core/status.h"
#include "image/format.h"
#include "image/image.h"

namespace atelier::image {

struct DecodeLimits {
  std::uint64_t max_pixels = 100'000'000;      // width × height
  std::uint64_t max_bytes = 512ull << 20;      // encoded file size
};

// The input side of a request's limits (core/limits.h: max_input_pixels, max_input_bytes).
DecodeLimits decode_limits(const Limits& limits);

// Errors (messages without a file name; read_image prefixes it):
//   kUnsupported "unsupported image format (...)"; kDataLoss "corrupt or truncated X image
//   (...)", "empty file" (an HTTP service answers 415 and 422 for them, core/status_table.h)
//   kResourceExhausted "image is 120.0 MP (12000x10000), more than the 100.0 MP limit"
//   (sizes in core's format_pixels: a limit of 1 reads "more than the 1 pixel limit").
// JPEGs are decoded by libjpeg directly (jpeg_decode.h) so that image data that ends early
// or is damaged is an error, not a half-grey picture; PNG chunk checksums are checked (PNG
// image data by libpng, the other chunks by probe_image); WebP, TIFF and BMP decoder
// failures are errors.
Result<Image> decode_image(std::span<const std::uint8_t> bytes, const DecodeLimits& limits = {});

// read_file + decode_image; every message starts with "PATH: ".
Result<Image> read_image(const std::filesystem::path& path, const DecodeLimits& limits = {});

// Third-party decoders (libpng, libjpeg, libtiff) print their own warnings to stderr.
// Command-line tools that promise one line per error turn that off; the setting is
// process-wide and, while off, stderr is muted only for the duration of each decode.
void set_decoder_messages(bool enabled);

// Applies EXIF orientation 1..8 (2: mirrored, 6: rotate 90° clockwise, ...).
Image apply_orientation(const Image& img, int orientation);

struct EncodeOptions {
  int quality = 90;  // JPEG and WebP (WebP > 100: lossless)
};

// Encodes to `format`. JPEG cannot hold alpha (kInvalidArgument); JPEG and WebP store
// 8 bits (16-bit input is scaled); PNG and TIFF keep 16 bits. 8-bit PNGs are written by
// the fast encoder of png_encode.h (up filter, zlib level 1, parallel strips), 16-bit ones
// by OpenCV's libpng.
Result<std::vector<std::uint8_t>> encode_image(const Image& img, Format format, const EncodeOptions& options = {});

// Format from the extension, then an atomic write. Errors start with "PATH: ".
Status write_image(const std::filesystem::path& path, const Image& img, const EncodeOptions& options = {});

}  // namespace atelier::image
