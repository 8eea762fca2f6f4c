// JPEG decoding with libjpeg(-turbo) directly, instead of through OpenCV, so that damaged
// data is an error instead of a silently grey picture: OpenCV ignores libjpeg's warnings,
// and libjpeg only warns when the entropy-coded data ends early or is corrupt (it fills the
// rest of the image with grey). Internal to the image layer (codec.cpp calls it).
#pragma once

#include <cstdint>
#include <span>

#include <opencv2/core.hpp>

#include "core/status.h"

namespace atelier::image::detail {

// The pixels of a complete JPEG as 8-bit RGB (CV_8UC3), or gray (CV_8UC1) for one-component
// files; CMYK and YCCK files (Adobe, inverted) come out as RGB. No EXIF orientation or ICC
// conversion (codec.cpp does both). Errors, kInvalidArgument:
//   "corrupt or truncated JPEG image (image data cut short)"   -- a marker inside the scan
//   "corrupt or truncated JPEG image (image data ends early)"  -- the file ends inside it
//   "corrupt or truncated JPEG image (bad Huffman code)", "(...restart markers...)"
//   "corrupt or truncated JPEG image (<libjpeg's message>)"    -- a fatal libjpeg error
// Thread-safe (no shared state); nothing is printed.
Result<cv::Mat> decode_jpeg(std::span<const std::uint8_t> bytes);

}  // namespace atelier::image::detail
