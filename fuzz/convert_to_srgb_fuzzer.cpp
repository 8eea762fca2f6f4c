// image::convert_to_srgb: an embedded ICC profile (arbitrary bytes) applied to a small 8-bit
// RGB or float RGBA image (chosen by the input's length, so both transforms get a share of
// the executions and the profile bytes are untouched), as decode_image does with a photo's
// profile.
#include <opencv2/core.hpp>

#include "fuzz_support.h"
#include "image/color_profile.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using atelier::image::Image;
  static const Image rgb8(cv::Mat(4, 4, CV_8UC3, cv::Scalar(200, 120, 30)));
  static const Image rgba32(cv::Mat(2, 3, CV_32FC4, cv::Scalar(0.1, 0.5, 0.9, 0.5)));
  (void)atelier::image::convert_to_srgb(size % 2 == 0 ? rgb8 : rgba32, atelier::fuzz::bytes(data, size));
  return 0;
}
