// A faster convolution for OpenCV 4.6 DNN on CPU. register_fast_convolution() replaces
// the "Convolution" entry of OpenCV's layer factory (process-wide) for nets created
// afterwards: 3×3, stride-1 convolutions with group 1 and enough channels (any dilation;
// dilated ones run on the polyphase sub-grids) are computed with Winograd F(4×4, 3×3)
// and OpenBLAS SGEMM, with a following ReLU fused; every other convolution is delegated
// to OpenCV's own layer, unchanged. Results match OpenCV's to within fp32 rounding
// (relative error ~1e-5). Parallel over cv::getNumThreads() threads.
//
// Details (fast_conv.cpp): fewer than 8 output channels take a direct 3×3 kernel
// (direct_conv.h) instead of Winograd; output maps under min_winograd_outputs pixels, and
// dilations that leave sub-grids too narrow for 4×4 tiles, keep OpenCV's computation; a following
// BatchNorm/Scale is folded in too; asymmetric padding (which OpenCV 4.6's own layer
// rejects) is accepted. Memory: each Winograd layer keeps its weights transformed (4× the
// layer's weights, made on its first forward), plus a few MB of scratch per thread.
#pragma once

#include <cstdint>

namespace atelier::ml {

struct FastConvolutionOptions {
  // Winograd only on output maps (× batch) of at least this many pixels. A Winograd layer
  // keeps 4× its weights transformed, and on small maps that memory buys little time: for
  // ISNet, 64×64 keeps peak memory near OpenCV's own; 32×32 is ~0.19 s faster per photo
  // on 2 cores for ~380 MB more.
  std::int64_t min_winograd_outputs = 64 * 64;
};

// Idempotent and thread-safe; affects nets created after the call (calling it again with
// other options changes them for nets created afterwards).
void register_fast_convolution(const FastConvolutionOptions& options = {});
// Restores OpenCV's built-in convolution for nets created afterwards.
void unregister_fast_convolution();
bool fast_convolution_registered();

}  // namespace atelier::ml
