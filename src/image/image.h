// The Image type: an owning 2-D pixel buffer, 8-bit, 16-bit or 32-bit float, with 1 (gray),
// 3 (RGB) or 4 (RGBA, straight alpha) channels. Channels are always in R,G,B,A order (the
// codecs convert from OpenCV's BGR at the boundary). Copies share pixels (cv::Mat
// semantics); use clone() for a deep copy. Operations in this layer never modify their
// inputs.
#pragma once

#include <cstdint>

#include <opencv2/core.hpp>

namespace atelier::image {

class Image {
 public:
  Image() = default;
  // Wraps `mat` (CV_8U, CV_16U or CV_32F; 1, 3 or 4 channels in RGB(A) order).
  explicit Image(cv::Mat mat) : mat_(std::move(mat)) {}

  int width() const { return mat_.cols; }
  int height() const { return mat_.rows; }
  int channels() const { return mat_.channels(); }
  int depth() const { return mat_.depth(); }  // CV_8U, CV_16U or CV_32F
  bool empty() const { return mat_.empty(); }
  bool has_alpha() const { return channels() == 4; }
  std::uint64_t pixel_count() const { return std::uint64_t(mat_.cols) * std::uint64_t(mat_.rows); }

  const cv::Mat& mat() const { return mat_; }
  cv::Mat& mat() { return mat_; }
  Image clone() const { return Image(mat_.clone()); }

 private:
  cv::Mat mat_;
};

// 8-bit RGB copy of any image (gray expanded, alpha dropped, 16-bit scaled by 1/257,
// float clamped from [0,1]).
Image to_rgb8(const Image& img);

// Float RGB in [0,1], same conversions as to_rgb8.
cv::Mat to_rgb_float(const Image& img);

// Row `y` of an image (gray/RGB/RGBA; 8-bit, 16-bit or float) as RGB floats in [0,1]:
// `out` receives 3 × cols values. For row-wise full-resolution operations.
void read_rgb_row(const cv::Mat& img, int y, float* out);
// Only columns [x0, x1) (clamped to the row), at their places out[3x ...].
void read_rgb_row(const cv::Mat& img, int y, float* out, int x0, int x1);

}  // namespace atelier::image
