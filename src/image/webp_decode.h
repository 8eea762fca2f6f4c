// WebP decoding with libwebp directly, instead of through cv::imdecode: when libwebp cannot
// read a file's first 32 bytes, OpenCV's WebP decoder declines it and imdecode goes on to try
// its other decoders on the same bytes -- one of them (GDCM's DICOM reader, chosen by "DICM"
// at offset 128) aborts the process on an assertion (the decode_webp fuzzer found it).
// Internal to the image layer (codec.cpp calls it).
#pragma once

#include <cstdint>
#include <span>

#include <opencv2/core.hpp>

#include "core/status.h"

namespace atelier::image::detail {

// The pixels of a complete still WebP as 8-bit RGB (CV_8UC3), or RGBA (CV_8UC4) when the file
// has alpha. No EXIF orientation or ICC conversion (codec.cpp does both). Errors,
// kInvalidArgument:
//   "corrupt or truncated WebP image (bad bitstream header)"  -- libwebp cannot read the header
//   "unsupported image format (animated WebP)"
//   "corrupt or truncated WebP image (<libwebp's status>)"     -- the image data is damaged
// Thread-safe (no shared state); nothing is printed.
Result<cv::Mat> decode_webp(std::span<const std::uint8_t> bytes);

}  // namespace atelier::image::detail
