// Bilinear resampling with an explicit pixel-grid convention. Models are trained with a
// particular resize, so a manifest names it and every resize of that model's input and
// output follows it:
//   kHalfPixel   pixel centres align: src = (dst + 0.5)·scale − 0.5 (OpenCV, PyTorch
//                align_corners=False, ONNX "half_pixel")
//   kAsymmetric  top-left corners align: src = dst·scale (ONNX "asymmetric"; IMG.LY's
//                JavaScript pipeline for ISNet)
// RowUpsampler produces one destination row at a time, so full-resolution operations can
// read a low-resolution map without materialising it at full size.
#pragma once

#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "core/status.h"

namespace atelier::image {

enum class Sampling { kHalfPixel, kAsymmetric };

std::string_view sampling_name(Sampling s);  // "half_pixel", "asymmetric"
Result<Sampling> parse_sampling(std::string_view name);

// Any depth and channel count; 8/16-bit results are rounded.
cv::Mat resize_bilinear(const cv::Mat& src, cv::Size size, Sampling sampling);

class RowUpsampler {
 public:
  struct Tap {
    int i0, i1;
    float w1;
  };
  // Source indices and weight of each destination index along one axis.
  static std::vector<Tap> taps(int src_len, int dst_len, Sampling sampling);

  // `src` CV_32F with 1..4 channels; rows of `dst_size` are produced on demand.
  RowUpsampler(const cv::Mat& src, cv::Size dst_size, Sampling sampling = Sampling::kHalfPixel);
  // Writes dst row `y` (dst_size.width × channels floats) into `out`. Thread-safe.
  void row(int y, float* out) const;
  // Only columns [x0, x1) of row `y` (clamped to the row), at their places in `out`
  // (out[x · channels ...]); the rest of `out` is left as it was.
  void row(int y, float* out, int x0, int x1) const;
  int channels() const { return src_.channels(); }

 private:
  cv::Mat src_;
  cv::Size dst_;
  std::vector<Tap> xs_, ys_;
};

}  // namespace atelier::image
