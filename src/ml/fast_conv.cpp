// A "Convolution" layer for OpenCV 4.6 DNN that runs eligible 3×3 convolutions with
// Winograd F(4×4, 3×3) (winograd.h), or, for very few output channels, a direct kernel
// (direct_conv.h), and delegates everything else to OpenCV's own layer.
//
// OpenCV's LayerFactory keeps a stack of constructors per type name: registerLayer pushes,
// unregisterLayer pops, and nets use the top one when their layers are created (during
// readNet*/addLayer). Our constructor builds OpenCV's built-in layer first (so that
// OpenCV itself parses kernel/stride/pad/dilation params); convolutions that are not
// eligible get exactly that layer back. Eligible ones (3×3, stride 1, group 1, explicit
// padding, constant fp32 weights, enough input channels) get a FastConvolutionLayer that
// keeps the built-in layer as a fallback for non-CPU targets and for shapes where
// Winograd does not pay (a large dilation on a tiny map), decided at finalize() from the
// shapes; the fallback path is OpenCV's computation, bit for bit.
//
// Fusion: OpenCV calls finalize() and then tryFuse()/setActivation() on every allocation
// (after unsetAttached()); a following BatchNorm/Scale (per-channel scale and shift) is
// folded into the weights and bias, a following ReLU / leaky ReLU into the output
// transform. Other activations are left to OpenCV (setActivation returns false).
#include "ml/fast_conv.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/dnn/all_layers.hpp>
#include <opencv2/dnn/layer.hpp>
#include <opencv2/dnn/shape_utils.hpp>

#include "ml/direct_conv.h"
#include "ml/winograd.h"

namespace atelier::ml {
namespace {

using cv::Mat;
using cv::Ptr;
using cv::dnn::LayerParams;

// Winograd from this many output channels on; fewer take the direct kernel.
constexpr int kMinWinogradOutChannels = 8;
// Below this many input channels OpenCV's own layer is as good.
constexpr int kMinInChannels = 4;
// FastConvolutionOptions::min_winograd_outputs of the current registration (see fit_of()).
std::atomic<std::int64_t> g_min_winograd_outputs{FastConvolutionOptions{}.min_winograd_outputs};

enum class ConvKernel { kWinograd, kDirect };

class FastConvolutionLayer final : public cv::dnn::ConvolutionLayer {
 public:
  // `parsed`: OpenCV's layer for these params (kernel, stride, pads, dilation as OpenCV
  // reads them); it is kept as the fallback unless `asymmetric_pads_end` is given, for
  // params OpenCV's layer rejects (asymmetric padding; `parsed` then has symmetric pads).
  FastConvolutionLayer(const LayerParams& params, Ptr<cv::dnn::BaseConvolutionLayer> parsed,
                       const std::vector<size_t>* asymmetric_pads_end = nullptr) {
    setParamsFrom(params);
    kernel_size = parsed->kernel_size;
    strides = parsed->strides;
    dilations = parsed->dilations;
    pads_begin = parsed->pads_begin;
    pads_end = asymmetric_pads_end ? *asymmetric_pads_end : parsed->pads_end;
    padMode = parsed->padMode;
    adjust_pads = parsed->adjust_pads;
    numOutput = parsed->numOutput;
    if (!asymmetric_pads_end) builtin_ = std::move(parsed);
    weights_ = blobs[0];
    if (blobs.size() >= 2) bias_.assign(blobs[1].ptr<float>(), blobs[1].ptr<float>() + blobs[1].total());
    cout_ = weights_.size[0];
    cin_ = weights_.size[1];
    algorithm_ = cout_ >= kMinWinogradOutChannels ? ConvKernel::kWinograd : ConvKernel::kDirect;
  }

  bool supportBackend(int backendId) override { return backendId == cv::dnn::DNN_BACKEND_OPENCV; }

  bool getMemoryShapes(const std::vector<cv::dnn::MatShape>& inputs, const int requiredOutputs,
                       std::vector<cv::dnn::MatShape>& outputs,
                       std::vector<cv::dnn::MatShape>& internals) const override {
    if (builtin_) return builtin_->getMemoryShapes(inputs, requiredOutputs, outputs, internals);
    CV_Assert(inputs.size() == 1 && inputs[0].size() == 4 && inputs[0][1] == cin_);
    const cv::dnn::MatShape& in = inputs[0];
    const int oh = in[2] + int(pads_begin[0] + pads_end[0]) - 2 * int(dilations[0]);
    const int ow = in[3] + int(pads_begin[1] + pads_end[1]) - 2 * int(dilations[1]);
    CV_Assert(oh > 0 && ow > 0);
    outputs.assign(1, cv::dnn::MatShape{in[0], cout_, oh, ow});
    internals.clear();
    return false;
  }

  int64 getFLOPS(const std::vector<cv::dnn::MatShape>& inputs,
                 const std::vector<cv::dnn::MatShape>& outputs) const override {
    if (builtin_) return builtin_->getFLOPS(inputs, outputs);
    CV_Assert(!outputs.empty());
    return int64(cv::dnn::total(outputs[0])) * (2 * 9 * int64(cin_) + 1);
  }

  void finalize(cv::InputArrayOfArrays inputs_arr, cv::OutputArrayOfArrays outputs_arr) override {
    // A new allocation: fusions are re-applied by the net after this call.
    scale_.clear();
    shift_.clear();
    const Fit fit = fit_of(inputs_arr, outputs_arr);
    use_fast_ = fit == Fit::kGood || (fit == Fit::kWasteful && !builtin_);
    if (use_fast_) return;
    if (!builtin_) {
      CV_Error(cv::Error::StsNotImplemented,
               "convolution with asymmetric padding: only on the CPU target with fp32 data");
    }
    release_prepared();
    builtin_->preferableTarget = preferableTarget;
    builtin_->finalize(inputs_arr, outputs_arr);
  }

  bool setActivation(const Ptr<cv::dnn::ActivationLayer>& layer) override {
    if (layer.empty()) {
      act_ = ConvActivation{};
      if (builtin_) builtin_->setActivation(layer);
      return false;
    }
    if (!use_fast_) return builtin_ ? builtin_->setActivation(layer) : false;
    if (act_.relu) return false;
    Ptr<cv::dnn::ReLULayer> relu = layer.dynamicCast<cv::dnn::ReLULayer>();
    if (relu.empty()) return false;
    act_.relu = true;
    act_.negative_slope = relu->negativeSlope;
    return true;
  }

  bool tryFuse(Ptr<cv::dnn::Layer>& top) override {
    if (!use_fast_) return builtin_ ? builtin_->tryFuse(top) : false;
    if (act_.relu) return false;  // a scale after the activation does not fold
    Mat w, b;
    top->getScaleShift(w, b);
    if (w.empty() && b.empty()) return false;
    const auto usable = [&](const Mat& m) {
      return m.empty() || (m.type() == CV_32F && m.isContinuous() &&
                           (m.total() == 1 || m.total() == std::size_t(cout_)));
    };
    if (!usable(w) || !usable(b)) return false;
    if (scale_.empty()) scale_.assign(cout_, 1.f);
    if (shift_.empty()) shift_.assign(cout_, 0.f);
    for (int o = 0; o < cout_; ++o) {
      const float s = w.empty() ? 1.f : w.ptr<float>()[w.total() == 1 ? 0 : o];
      const float t = b.empty() ? 0.f : b.ptr<float>()[b.total() == 1 ? 0 : o];
      scale_[o] *= s;
      shift_[o] = shift_[o] * s + t;
    }
    return true;
  }

  void forward(cv::InputArrayOfArrays inputs_arr, cv::OutputArrayOfArrays outputs_arr,
               cv::OutputArrayOfArrays internals_arr) override {
    if (!use_fast_) {
      CV_Assert(builtin_);
      builtin_->forward(inputs_arr, outputs_arr, internals_arr);
      return;
    }
    std::vector<Mat> inputs, outputs;
    inputs_arr.getMatVector(inputs);
    outputs_arr.getMatVector(outputs);
    CV_Assert(inputs.size() == 1 && outputs.size() == 1);
    const Mat& in = inputs[0];
    Mat& out = outputs[0];
    CV_Assert(in.type() == CV_32F && out.type() == CV_32F && in.dims == 4 && out.dims == 4);
    CV_Assert(in.size[1] == cin_ && out.size[1] == cout_ && in.size[0] == out.size[0]);
    CV_Assert(in.step[3] == sizeof(float) && out.step[3] == sizeof(float));
    CV_Assert(in.data != out.data);

    prepare();
    const Conv3x3Geometry g = geometry(in.size[2], in.size[3], out.size[2], out.size[3]);
    const TensorStrides is{in.step[0] / sizeof(float), in.step[1] / sizeof(float),
                           in.step[2] / sizeof(float)};
    const TensorStrides os{out.step[0] / sizeof(float), out.step[1] / sizeof(float),
                           out.step[2] / sizeof(float)};
    const float* bias = bias_eff_.empty() ? nullptr : bias_eff_.data();
    if (algorithm_ == ConvKernel::kWinograd) {
      wino_.run(in.ptr<float>(), is, out.ptr<float>(), os, in.size[0], g, bias, act_);
    } else {
      const float* w = scaled_weights_.empty() ? weights_.ptr<float>() : scaled_weights_.data();
      direct_conv3x3(in.ptr<float>(), is, out.ptr<float>(), os, in.size[0], g, w, bias, act_);
    }
  }

 private:
  // kGood: run our kernel; kWasteful: it works but OpenCV's layer is expected to be
  // faster; kNo: not for our kernels (target, data type, shapes).
  enum class Fit { kNo, kGood, kWasteful };

  Conv3x3Geometry geometry(int in_h, int in_w, int out_h, int out_w) const {
    Conv3x3Geometry g;
    g.in_channels = cin_;
    g.out_channels = cout_;
    g.in_h = in_h;
    g.in_w = in_w;
    g.out_h = out_h;
    g.out_w = out_w;
    g.pad_top = int(pads_begin[0]);
    g.pad_left = int(pads_begin[1]);
    g.dilation_h = int(dilations[0]);
    g.dilation_w = int(dilations[1]);
    return g;
  }

  Fit fit_of(cv::InputArrayOfArrays inputs_arr, cv::OutputArrayOfArrays outputs_arr) const {
    if (preferableTarget != cv::dnn::DNN_TARGET_CPU) return Fit::kNo;
    if (inputs_arr.kind() != cv::_InputArray::STD_VECTOR_MAT ||
        outputs_arr.kind() != cv::_InputArray::STD_VECTOR_MAT)
      return Fit::kNo;
    std::vector<Mat> inputs, outputs;
    inputs_arr.getMatVector(inputs);
    outputs_arr.getMatVector(outputs);
    if (inputs.size() != 1 || outputs.size() != 1) return Fit::kNo;
    const Mat& in = inputs[0];
    const Mat& out = outputs[0];
    if (in.dims != 4 || out.dims != 4 || in.type() != CV_32F || out.type() != CV_32F) return Fit::kNo;
    if (in.size[1] != cin_ || out.size[1] != cout_ || in.size[0] != out.size[0]) return Fit::kNo;
    const int dh = int(dilations[0]), dw = int(dilations[1]);
    // Output size as the explicit padding gives it (guards against a shape we do not model).
    if (out.size[2] != in.size[2] + int(pads_begin[0] + pads_end[0]) - 2 * dh ||
        out.size[3] != in.size[3] + int(pads_begin[1] + pads_end[1]) - 2 * dw)
      return Fit::kNo;
    if (algorithm_ == ConvKernel::kDirect) return Fit::kGood;
    const Conv3x3Geometry g = geometry(in.size[2], in.size[3], out.size[2], out.size[3]);
    // Winograd keeps 36/9 = 4× the layer's weights, transformed. Per byte of that, the
    // multiplies it saves scale with the output pixels, so small maps are left to OpenCV:
    // for ISNet, Winograd on the 16×16 stage would cost ~180 MB for ~10 ms, on the 32×32
    // stages ~380 MB for ~0.19 s; from 64×64 on it keeps peak memory under the peer's.
    const std::int64_t outputs_n = std::int64_t(out.size[2]) * out.size[3];
    if (outputs_n * in.size[0] < min_winograd_outputs_) return Fit::kWasteful;
    // Tiles that overhang the (sub-grid) output waste work: with dilation d on a small
    // map the sub-grids are tiny. Winograd does 4·tiles/outputs of the direct multiplies
    // (1/4 at best); keep it where that is at most 1/2, and where sub-grid rows hold at
    // least 2 tiles (the transforms work on runs of tiles along a row).
    const std::int64_t tiles = winograd_tile_count(g);
    if (tiles * 8 > outputs_n || out.size[3] / dw < 5) return Fit::kWasteful;
    return Fit::kGood;
  }

  // Weights for the current fused scale (transformed once, again only if the scale
  // changes), and the effective bias.
  void prepare() {
    if (algorithm_ == ConvKernel::kWinograd) {
      if (wino_.empty() || prepared_scale_ != scale_) {
        wino_.set_weights(weights_.ptr<float>(), cout_, cin_, scale_.empty() ? nullptr : scale_.data());
        prepared_scale_ = scale_;
      }
    } else if (prepared_scale_ != scale_ || (!scale_.empty() && scaled_weights_.empty())) {
      scaled_weights_.clear();
      if (!scale_.empty()) {
        const float* w = weights_.ptr<float>();
        scaled_weights_.resize(weights_.total());
        const std::size_t per_out = std::size_t(cin_) * 9;
        for (std::size_t i = 0; i < scaled_weights_.size(); ++i)
          scaled_weights_[i] = w[i] * scale_[i / per_out];
      }
      prepared_scale_ = scale_;
    }
    bias_eff_.clear();
    if (bias_.empty() && shift_.empty()) return;
    bias_eff_.resize(cout_);
    for (int o = 0; o < cout_; ++o) {
      const float b = bias_.empty() ? 0.f : bias_[o];
      bias_eff_[o] = scale_.empty() ? b + (shift_.empty() ? 0.f : shift_[o])
                                    : b * scale_[o] + shift_[o];
    }
  }

  void release_prepared() {
    wino_.clear();
    std::vector<float>().swap(scaled_weights_);
    prepared_scale_.clear();
  }

  Ptr<cv::dnn::BaseConvolutionLayer> builtin_;  // OpenCV's layer; empty for asymmetric pads
  const std::int64_t min_winograd_outputs_ = g_min_winograd_outputs.load();
  Mat weights_;                                 // OIHW
  std::vector<float> bias_;                     // empty: no bias
  int cout_ = 0, cin_ = 0;
  ConvKernel algorithm_ = ConvKernel::kWinograd;

  bool use_fast_ = false;             // decided by finalize()
  std::vector<float> scale_, shift_;  // fused per-output-channel scale/shift (empty: none)
  ConvActivation act_;
  WinogradConv3x3 wino_;
  std::vector<float> scaled_weights_;  // direct kernel: weights × scale_ (empty: none)
  std::vector<float> prepared_scale_;  // the scale wino_ / scaled_weights_ were built with
  std::vector<float> bias_eff_;
};

bool eligible(const LayerParams& params, const cv::dnn::BaseConvolutionLayer& conv) {
  if (params.blobs.empty() || params.blobs.size() > 2) return false;  // weights as an input
  const Mat& w = params.blobs[0];
  if (w.dims != 4 || w.type() != CV_32F || !w.isContinuous()) return false;
  if (w.size[2] != 3 || w.size[3] != 3) return false;
  if (params.get<int>("group", 1) != 1) return false;
  if (conv.kernel_size.size() != 2 || conv.kernel_size[0] != 3 || conv.kernel_size[1] != 3) return false;
  if (conv.strides.size() != 2 || conv.strides[0] != 1 || conv.strides[1] != 1) return false;
  if (conv.dilations.size() != 2 || conv.dilations[0] < 1 || conv.dilations[1] < 1) return false;
  if (conv.pads_begin.size() != 2 || conv.pads_end.size() != 2 || !conv.padMode.empty()) return false;
  if (conv.numOutput != w.size[0]) return false;
  if (params.blobs.size() == 2) {
    const Mat& b = params.blobs[1];
    if (b.type() != CV_32F || !b.isContinuous() || b.total() != std::size_t(w.size[0])) return false;
  }
  return w.size[0] >= 1 && w.size[1] >= kMinInChannels;
}

// Asymmetric 2-D padding as OpenCV's params spell it (pad_t/pad_l/pad_b/pad_r, or "pad"
// with 4 values: top, left, bottom, right, as the ONNX importer sets it).
bool asymmetric_pads(const LayerParams& params, std::vector<size_t>& begin, std::vector<size_t>& end) {
  int t, l, b, r;
  if (params.has("pad_t") && params.has("pad_l") && params.has("pad_b") && params.has("pad_r")) {
    t = params.get<int>("pad_t");
    l = params.get<int>("pad_l");
    b = params.get<int>("pad_b");
    r = params.get<int>("pad_r");
  } else if (params.has("pad") && params.get("pad").size() == 4) {
    const cv::dnn::DictValue& p = params.get("pad");
    t = p.get<int>(0);
    l = p.get<int>(1);
    b = p.get<int>(2);
    r = p.get<int>(3);
  } else {
    return false;
  }
  if (t < 0 || l < 0 || b < 0 || r < 0 || (t == b && l == r)) return false;
  begin = {size_t(t), size_t(l)};
  end = {size_t(b), size_t(r)};
  return true;
}

// OpenCV 4.6's layer rejects asymmetric padding; our kernels handle it. OpenCV parses the
// rest from a copy of the params with the padding made symmetric.
Ptr<cv::dnn::Layer> create_asymmetric(const LayerParams& params) {
  std::vector<size_t> begin, end;
  if (!asymmetric_pads(params, begin, end)) return {};
  LayerParams sym = params;
  for (const char* key : {"pad_t", "pad_l", "pad_b", "pad_r", "pad"}) sym.erase(key);
  sym.set("pad_t", int(begin[0]));
  sym.set("pad_b", int(begin[0]));
  sym.set("pad_l", int(begin[1]));
  sym.set("pad_r", int(begin[1]));
  Ptr<cv::dnn::BaseConvolutionLayer> parsed = cv::dnn::ConvolutionLayer::create(sym);
  if (!eligible(sym, *parsed)) return {};
  return cv::makePtr<FastConvolutionLayer>(params, parsed, &end);
}

Ptr<cv::dnn::Layer> create_convolution(LayerParams& params) {
  Ptr<cv::dnn::BaseConvolutionLayer> builtin;
  try {
    builtin = cv::dnn::ConvolutionLayer::create(params);
  } catch (const cv::Exception&) {
    Ptr<cv::dnn::Layer> fast = create_asymmetric(params);
    if (fast) return fast;
    throw;
  }
  if (!eligible(params, *builtin)) return builtin;
  return cv::makePtr<FastConvolutionLayer>(params, builtin);
}

std::mutex& registration_mutex() {
  static std::mutex m;
  return m;
}
std::atomic<bool> g_registered{false};

}  // namespace

void register_fast_convolution(const FastConvolutionOptions& options) {
  std::lock_guard<std::mutex> lock(registration_mutex());
  g_min_winograd_outputs.store(options.min_winograd_outputs);
  if (g_registered.load()) return;
  try {
    cv::dnn::LayerFactory::registerLayer("Convolution", &create_convolution);
    g_registered.store(true);
  } catch (const cv::Exception&) {
    // Left unregistered; fast_convolution_registered() reports it.
  }
}

void unregister_fast_convolution() {
  std::lock_guard<std::mutex> lock(registration_mutex());
  if (!g_registered.load()) return;
  try {
    cv::dnn::LayerFactory::unregisterLayer("Convolution");
  } catch (const cv::Exception&) {
  }
  g_registered.store(false);
}

bool fast_convolution_registered() { return g_registered.load(); }

}  // namespace atelier::ml
