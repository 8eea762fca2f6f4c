// OpenCV's imgcodecs — PNG, TIFF and BMP decoding, and every encoding but 8-bit PNG —
// opened on first use instead of linked. libopencv_imgcodecs brings ~120 libraries (GDAL,
// GDCM, codecs for video frames, ...) whose loading cost every atelier process ~0.13 s,
// also the many that only read JPEG or WebP and write 8-bit PNG. Its two calls live in a
// module of ours, libatelier_opencv_codecs.so, looked for beside the running executable
// and then where the build put it; opened once per process (thread-safe), never from a
// path that a request or the environment names.
// Errors: kInternal "OpenCV's image codecs (libatelier_opencv_codecs.so) could not be
// loaded: <why>"; decoder/encoder exceptions as kInvalidArgument / kInternal with the
// message the callers in codec.cpp give.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/status.h"

namespace atelier::image::detail {

// cv::imdecode(bytes, IMREAD_UNCHANGED): an empty Mat when OpenCV declines the bytes;
// kInvalidArgument "decoder error" when it throws.
Result<cv::Mat> opencv_imdecode(std::span<const std::uint8_t> bytes);

// cv::imencode(ext, m, params) (m in OpenCV's BGR order); kInternal "<ext> encoder failed".
Result<std::vector<std::uint8_t>> opencv_imencode(const std::string& ext, const cv::Mat& m, const std::vector<int>& params);

}  // namespace atelier::image::detail
