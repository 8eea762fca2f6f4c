// Direct 3×3 convolution for layers with few output channels (e.g. the 1-channel side
// outputs of U²-Net/ISNet), where Winograd's GEMMs would be degenerate and OpenCV 4.6's
// own layer is slow (~3 GFLOP/s): for each output row block and input channel, the input
// rows are copied once into zero-padded lines and the 9 taps accumulate with vector
// loads into per-output-channel row accumulators kept in cache.
//
// Same conventions as winograd.h: NCHW fp32, stride 1, group 1, any dilation and padding.
// Thread-safe (pure function of its arguments); parallel over cv::getNumThreads().
#pragma once

#include "ml/winograd.h"

namespace atelier::ml {

// weights: OIHW [out_channels][in_channels][3][3] (already scaled for any fused BatchNorm);
// bias: out_channels values or nullptr.
void direct_conv3x3(const float* in, const TensorStrides& in_strides, float* out,
                    const TensorStrides& out_strides, int batch, const Conv3x3Geometry& g,
                    const float* weights, const float* bias, const ConvActivation& act);

}  // namespace atelier::ml
