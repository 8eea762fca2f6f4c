// Image container formats: detection by content, header probing without decoding pixels,
// the EXIF orientation tag and the embedded ICC profile. probe_image() also checks that a file is complete (a
// truncated JPEG, PNG, WebP, TIFF or BMP is reported here, before any decoder runs), so
// callers can enforce pixel limits and reject damaged files up front.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace atelier::image {

enum class Format { kUnknown, kJpeg, kPng, kWebp, kTiff, kBmp };

std::string_view format_name(Format f);  // "JPEG", "PNG", ...

// By magic bytes; kUnknown when none matches.
Format detect_format(std::span<const std::uint8_t> bytes);

// By file extension (case-insensitive): .jpg/.jpeg, .png, .webp, .tif/.tiff, .bmp.
Format format_from_extension(const std::filesystem::path& path);

struct ImageHeader {
  Format format = Format::kUnknown;
  int width = 0;
  int height = 0;
  int orientation = 1;  // EXIF orientation 1..8 (1 = as stored)
  std::vector<std::uint8_t> icc_profile;  // embedded ICC colour profile, empty when none
};

// Errors (kInvalidArgument), messages without a file name:
//   "unsupported image format (expected JPEG, PNG, WebP, TIFF or BMP)"
//   "corrupt or truncated <FORMAT> image (<detail>)"
Result<ImageHeader> probe_image(std::span<const std::uint8_t> bytes);

// The orientation tag (274) of a TIFF-structured EXIF block ("II*\0"/"MM\0*" header,
// optionally preceded by "Exif\0\0"); 1 when absent or unreadable.
int exif_orientation(std::span<const std::uint8_t> tiff);

}  // namespace atelier::image
