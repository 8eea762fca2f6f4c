// Winograd F(4×4, 3×3) convolution on CPU: the pure kernel behind fast_conv.h, free of
// OpenCV's layer machinery (it only uses cv::parallel_for_ for threads).
//
// y = conv3x3(x, w) + bias, then optionally a (leaky) ReLU, for NCHW fp32 tensors,
// stride 1, group 1, any dilation and any (also asymmetric) zero padding. A dilated
// convolution is computed on the dilation×dilation polyphase sub-grids of the output, each
// an undilated 3×3 convolution of one sub-grid of the input.
//
// Per 4×4 output tile: 6×6 input patch -> Bᵀ d B, 36 GEMMs (one per transformed position,
// OpenBLAS SGEMM, [Cout × Cin] · [Cin × tiles]), output Aᵀ m A + bias -> activation.
// Work is split into jobs of (≤ kMaxTileBlock tiles) × (a range of output channels), each
// with its own small scratch (a few MB per thread, kept thread-local between calls), so the
// transformed input of a whole feature map is never materialised.
//
// Thread-safety: a WinogradConv3x3 is immutable after set_weights(); run() may be called
// concurrently from several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace atelier::ml {

struct Conv3x3Geometry {
  int in_channels = 0;
  int out_channels = 0;
  int in_h = 0, in_w = 0;
  int out_h = 0, out_w = 0;  // normally in + pad_begin + pad_end - 2·dilation
  int pad_top = 0, pad_left = 0;
  int dilation_h = 1, dilation_w = 1;
};

// Element strides (in floats) of an NCHW tensor; the last dimension is contiguous.
struct TensorStrides {
  std::size_t batch = 0, channel = 0, row = 0;
};

struct ConvActivation {
  bool relu = false;
  float negative_slope = 0.f;  // 0: ReLU; otherwise leaky ReLU
};

// Number of 4×4 Winograd tiles that cover the output (summed over the polyphase
// sub-grids). tiles·16 / (out_h·out_w) is the work overhead against a perfect tiling.
std::int64_t winograd_tile_count(const Conv3x3Geometry& g);

class WinogradConv3x3 {
 public:
  // weights: OIHW [out_channels][in_channels][3][3]; out_scale (optional, out_channels
  // values) multiplies output channel o's weights (a fused BatchNorm/Scale).
  void set_weights(const float* weights, int out_channels, int in_channels,
                   const float* out_scale = nullptr);
  bool empty() const { return size_ == 0; }
  void clear();
  int out_channels() const { return cout_; }
  int in_channels() const { return cin_; }
  std::size_t bytes() const { return size_ * sizeof(float); }

  // in: batch × in_channels × in_h × in_w; out: batch × out_channels × out_h × out_w.
  // bias: out_channels values or nullptr. `in` and `out` must not overlap.
  void run(const float* in, const TensorStrides& in_strides, float* out,
           const TensorStrides& out_strides, int batch, const Conv3x3Geometry& g,
           const float* bias, const ConvActivation& act) const;

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float[], Free> u_;  // [36][cout][cin]; large ones on transparent huge pages
  std::size_t size_ = 0;
  int cout_ = 0, cin_ = 0;
};

// Direct (reference) 3×3 convolution in double precision accumulation, for tests.
void reference_conv3x3(const float* in, const TensorStrides& in_strides, float* out,
                       const TensorStrides& out_strides, int batch, const Conv3x3Geometry& g,
                       const float* weights, const float* bias, const ConvActivation& act);

}  // namespace atelier::ml
