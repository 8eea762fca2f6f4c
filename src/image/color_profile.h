// Colour management on input: photos that embed an ICC profile (Display P3 from phones,
// Adobe RGB from cameras, ...) are converted to sRGB when decoded, so that every operation
// and every output (written without a profile, i.e. read as sRGB) sees the colours the
// photographer saw. Little CMS 2 does the transform (relative colorimetric intent).
#pragma once

#include <cstdint>
#include <span>

#include "image/image.h"

namespace atelier::image {

// Converts an RGB or RGBA image (8/16-bit or float) from `icc` to sRGB. Returns it unchanged
// when the profile is empty, describes sRGB already, cannot be parsed, or is not an RGB
// profile (a gray or CMYK profile on an RGB image): a bad profile never makes a photo
// unreadable. Alpha is kept as is.
Image convert_to_srgb(const Image& img, std::span<const std::uint8_t> icc);

}  // namespace atelier::image
