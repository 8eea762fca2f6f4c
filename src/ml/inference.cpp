#include "ml/inference.h"
#include "ml/remote_backend.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

#include "core/threads.h"
#include "ml/fast_conv.h"
#include "ml/onednn/executor.h"
#include "ml/onednn/graph.h"
#include "ml/onnx_convert.h"

namespace atelier::ml {
namespace fs = std::filesystem;

std::size_t Tensor::size() const {
  return std::accumulate(shape.begin(), shape.end(), std::size_t{1}, [](std::size_t a, int d) { return a * std::size_t(d); });
}

namespace {

class OpenCvBackend final : public InferenceBackend {
 public:
  OpenCvBackend(cv::dnn::Net net, int threads, bool winograd)
      : net_(std::move(net)), threads_(threads), winograd_(winograd) {}
  std::string name() const override { return winograd_ ? "opencv-winograd" : "opencv-dnn"; }

  Result<Tensor> run(const std::string& input_name, const Tensor& input, const std::string& output_name) override {
    if (input.data.size() != input.size()) return invalid_argument("input tensor data does not match its shape");
    std::lock_guard lock(mu_);
    try {
      cv::setNumThreads(threads_);
      cv::Mat blob(int(input.shape.size()), input.shape.data(), CV_32F, const_cast<float*>(input.data.data()));
      net_.setInput(blob, input_name);
      cv::Mat out = net_.forward(output_name);
      Tensor t;
      t.shape.assign(out.size.p, out.size.p + out.dims);
      const float* p = out.ptr<float>();
      t.data.assign(p, p + out.total());
      return t;
    } catch (const cv::Exception& e) {
      return internal_error("OpenCV DNN inference failed: " + e.err);
    }
  }

 private:
  cv::dnn::Net net_;
  int threads_;
  bool winograd_;
  std::mutex mu_;
};

class OneDnnBackend final : public InferenceBackend {
 public:
  OneDnnBackend(std::unique_ptr<onednn::Executor> exec, std::string input, std::string output, onednn::Precision p)
      : exec_(std::move(exec)), input_(std::move(input)), output_(std::move(output)), precision_(p) {}
  std::string name() const override { return std::string("onednn-") + onednn::precision_name(precision_); }

  Result<Tensor> run(const std::string& input_name, const Tensor& input, const std::string& output_name) override {
    if (input_name != input_) return invalid_argument("oneDNN backend: compiled for input '" + input_ + "', not '" + input_name + "'");
    if (output_name != output_) {
      return invalid_argument("oneDNN backend: compiled for output '" + output_ + "', not '" + output_name + "'");
    }
    const onednn::Dims& d = exec_->input_dims();
    if (input.shape != std::vector<int>{d.n, d.c, d.h, d.w} || input.data.size() != input.size()) {
      return invalid_argument("oneDNN backend: input tensor must be " + std::to_string(d.n) + "x" + std::to_string(d.c) +
                              "x" + std::to_string(d.h) + "x" + std::to_string(d.w));
    }
    std::lock_guard lock(mu_);
    // oneDNN's own threads come from OpenMP (set by the executor); OpenCV's pool serves
    // the pre- and post-processing around this call.
    ATELIER_ASSIGN_OR_RETURN(std::vector<float> out, exec_->run(input.data.data()));
    const onednn::Dims& o = exec_->output_dims();
    Tensor t;
    t.shape = {o.n, o.c, o.h, o.w};
    t.data = std::move(out);
    return t;
  }

 private:
  std::unique_ptr<onednn::Executor> exec_;
  std::string input_, output_;
  onednn::Precision precision_;
  std::mutex mu_;
};

struct CacheKey {
  std::string path;
  std::string sha256;
  BackendOptions options;
  bool operator<(const CacheKey& o) const {
    return std::tie(path, sha256, options.threads, options.backend, options.precision) <
           std::tie(o.path, o.sha256, o.options.threads, o.options.backend, o.options.precision);
  }
};

onednn::Precision executor_precision(Precision p) {
  return p == Precision::kBf16 ? onednn::Precision::kBf16
         : p == Precision::kInt8 ? onednn::Precision::kInt8
                                 : onednn::Precision::kF32;
}

std::mutex g_cache_mu;
std::map<CacheKey, std::shared_ptr<Session>> g_cache;

}  // namespace

const char* backend_name(BackendKind k) {
  switch (k) {
    case BackendKind::kAuto: return "auto";
    case BackendKind::kOneDnn: return "onednn";
    case BackendKind::kWinograd: return "winograd";
    case BackendKind::kOpenCv: return "opencv";
  }
  return "?";
}

Result<BackendKind> parse_backend(std::string_view text) {
  for (BackendKind k : {BackendKind::kAuto, BackendKind::kOneDnn, BackendKind::kWinograd, BackendKind::kOpenCv}) {
    if (text == backend_name(k)) return k;
  }
  return invalid_argument("--backend: expected auto, onednn, winograd or opencv, got '" + std::string(text) + "'");
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::kAuto: return "auto";
    case Precision::kFp32: return "fp32";
    case Precision::kBf16: return "bf16";
    case Precision::kInt8: return "int8";
  }
  return "?";
}

Result<Precision> parse_precision(std::string_view text) {
  for (Precision p : {Precision::kAuto, Precision::kFp32, Precision::kBf16, Precision::kInt8}) {
    if (text == precision_name(p)) return p;
  }
  return invalid_argument("--precision: expected auto, fp32, bf16 or int8, got '" + std::string(text) + "'");
}

Result<std::unique_ptr<InferenceBackend>> make_opencv_backend(const fs::path& onnx, int threads, bool winograd) {
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
  // The layer factory is process-wide: registration and the net's creation go together.
  static std::mutex factory_mu;
  std::lock_guard lock(factory_mu);
  if (winograd) register_fast_convolution();
  else unregister_fast_convolution();
  try {
    cv::setNumThreads(threads);
    cv::dnn::Net net = cv::dnn::readNetFromONNX(onnx.string());
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return std::unique_ptr<InferenceBackend>(new OpenCvBackend(std::move(net), threads, winograd));
  } catch (const cv::Exception& e) {
    return invalid_argument(onnx.string() + ": OpenCV DNN cannot load the model: " + e.err);
  }
}

Status check_backend_options(const BackendOptions& options) {
  if ((options.precision == Precision::kBf16 || options.precision == Precision::kInt8) &&
      (options.backend == BackendKind::kWinograd || options.backend == BackendKind::kOpenCv)) {
    return invalid_argument(std::string("--precision ") + precision_name(options.precision) +
                            " needs the oneDNN backend, not --backend " + backend_name(options.backend));
  }
  return {};
}

Precision auto_precision(const ModelManifest& manifest) {
  auto passed = [&](const char* precision) {
    return std::any_of(manifest.precision_checks.begin(), manifest.precision_checks.end(),
                       [&](const PrecisionCheck& c) { return c.precision == precision && c.passed; });
  };
  if (passed("int8") && !manifest.int8_calibration.empty()) return Precision::kInt8;
  if (passed("bf16") && onednn::has_native_bf16()) return Precision::kBf16;
  return Precision::kFp32;
}

Result<std::unique_ptr<onednn::Executor>> compile_onednn(const fs::path& onnx, const ModelManifest& manifest,
                                                        int threads, Precision precision) {
  if (precision == Precision::kAuto) precision = auto_precision(manifest);
  onednn::ExecutorOptions options;
  options.threads = threads;
  options.precision = executor_precision(precision);
  if (precision == Precision::kInt8) {
    if (manifest.int8_calibration.empty()) {
      return failed_precondition("model '" + manifest.name + "' has no int8 calibration (run atelier models calibrate " +
                                 manifest.name + ")");
    }
    for (const auto& [name, r] : manifest.int8_calibration.input_ranges) options.input_ranges[name] = {r.first, r.second};
  }
  // The file's bytes (parsed without copying the weights) and the graph's copy of the
  // weights live only while compiling.
  Result<onednn::Graph> graph = internal_error("not built");
  {
    ATELIER_ASSIGN_OR_RETURN(OnnxView view, load_onnx_view(onnx));
    const onednn::Dims dims{1, 3, manifest.preprocess.height, manifest.preprocess.width};
    graph = onednn::build_graph(std::move(view), manifest.input, dims, manifest.postprocess.output);
  }
  if (!graph.ok()) return graph.status().with_context(onnx.string());
  // After the graph's own errors (an operator the executor lacks names its node first).
  if (precision == Precision::kBf16 && !onednn::runs_bf16()) {
    return failed_precondition("--precision bf16 needs a CPU with AVX-512 (this one runs " + onednn::effective_isa() +
                               "); use fp32 or int8");
  }
  Result<std::unique_ptr<onednn::Executor>> compiled = onednn::Executor::compile(std::move(*graph), options);
  if (!compiled.ok()) return compiled.status().with_context(onnx.string());
  return std::move(*compiled);
}

Result<std::unique_ptr<InferenceBackend>> make_onednn_backend(const fs::path& onnx, const ModelManifest& manifest,
                                                              int threads, Precision precision) {
  if (precision == Precision::kAuto) precision = auto_precision(manifest);
  cv::setNumThreads(threads);  // the pre- and post-processing around inference
  ATELIER_ASSIGN_OR_RETURN(std::unique_ptr<onednn::Executor> exec, compile_onednn(onnx, manifest, threads, precision));
  return std::unique_ptr<InferenceBackend>(
      new OneDnnBackend(std::move(exec), manifest.input, manifest.postprocess.output, executor_precision(precision)));
}

Result<Tensor> Session::run(const Tensor& input) {
  ++runs_;
  return backend_->run(model_.manifest.input, input, model_.manifest.postprocess.output);
}

BackendKind auto_backend(const ModelManifest& manifest, Precision precision) {
  if (precision == Precision::kAuto) precision = auto_precision(manifest);
  const std::string isa = onednn::effective_isa();
  const bool avx512 = isa.rfind("avx512", 0) == 0 || isa.rfind("amx", 0) == 0;
  return precision == Precision::kFp32 && !avx512 ? BackendKind::kWinograd : BackendKind::kOneDnn;
}

Result<std::shared_ptr<Session>> get_session(const InstalledModel& model, const BackendOptions& options) {
  std::lock_guard lock(g_cache_mu);
  CacheKey key{model.model_path().string(), model.manifest.sha256, options};
  if (auto it = g_cache.find(key); it != g_cache.end()) return it->second;
  auto start = std::chrono::steady_clock::now();
  ATELIER_TRY(check_backend_options(options));
  ATELIER_ASSIGN_OR_RETURN(int threads, resolve_thread_count(options.threads));
  std::unique_ptr<InferenceBackend> backend;
  std::string fallback;
  const std::string& remote = options.inference_url.empty() ? model.manifest.inference_url : options.inference_url;
  if (!remote.empty()) {
    ATELIER_ASSIGN_OR_RETURN(backend, make_remote_backend(remote, model.manifest));
  } else if (options.backend == BackendKind::kOneDnn ||
             (options.backend == BackendKind::kAuto &&
              auto_backend(model.manifest, options.precision) == BackendKind::kOneDnn)) {
    Result<std::unique_ptr<InferenceBackend>> b =
        make_onednn_backend(model.model_path(), model.manifest, threads, options.precision);
    if (b.ok()) backend = std::move(*b);
    else if (options.backend == BackendKind::kOneDnn || options.precision == Precision::kBf16 ||
             options.precision == Precision::kInt8) {
      return b.status();
    }
    else fallback = b.status().message();
  }
  if (!backend) {
    ATELIER_ASSIGN_OR_RETURN(backend, make_opencv_backend(model.model_path(), threads,
                                                          options.backend != BackendKind::kOpenCv));
  }
  auto session = std::make_shared<Session>(model, std::move(backend));
  session->fallback_reason = fallback;
  session->load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  g_cache[key] = session;
  return session;
}

Result<std::shared_ptr<Session>> get_session(const std::string& model_name, const BackendOptions& options) {
  ATELIER_ASSIGN_OR_RETURN(ModelStore store, ModelStore::open_default());
  ATELIER_ASSIGN_OR_RETURN(InstalledModel model, store.find(model_name));
  return get_session(model, options);
}

void clear_sessions() {
  std::lock_guard lock(g_cache_mu);
  g_cache.clear();
}

}  // namespace atelier::ml
