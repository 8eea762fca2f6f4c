// A faster convolution for OpenCV 4.6 DNN on CPU. register_fast_convolution() replaces
// the "Convolution" entry of OpenCV's layer factory (process-wide) for nets created
// afterwards: 3×3, stride-1 convolutions with group 1 and enough channels (any dilation;
// dilated ones run on the polyphase sub-grids) are computed with Winograd F(4×4, 3×3)
// and OpenBLAS SGEMM, with a following ReLU fused; every other convolution is delegated
// to OpenCV's own layer, unchanged. Results match OpenCV's to within fp32 rounding
// (relative error ~1e-5). Parallel over cv::getNumThreads() threads.
#pragma once

namespace atelier::ml {

// Idempotent and thread-safe; affects nets created after the call.
void register_fast_convolution();
// Restores OpenCV's built-in convolution for nets created afterwards.
void unregister_fast_convolution();
bool fast_convolution_registered();

}  // namespace atelier::ml
