#include "ml/inference.h"

#include <chrono>
#include <map>
#include <numeric>

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

#include "core/threads.h"
#include "ml/fast_conv.h"

namespace atelier::ml {
namespace fs = std::filesystem;

std::size_t Tensor::size() const {
  return std::accumulate(shape.begin(), shape.end(), std::size_t{1}, [](std::size_t a, int d) { return a * std::size_t(d); });
}

namespace {

class OpenCvBackend final : public InferenceBackend {
 public:
  OpenCvBackend(cv::dnn::Net net, int threads) : net_(std::move(net)), threads_(threads) {}
  std::string name() const override { return "opencv-dnn"; }

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
  std::mutex mu_;
};

struct CacheKey {
  std::string path;
  std::string sha256;
  BackendOptions options;
  bool operator<(const CacheKey& o) const {
    return std::tie(path, sha256, options.threads, options.fast_convolution) <
           std::tie(o.path, o.sha256, o.options.threads, o.options.fast_convolution);
  }
};

std::mutex g_cache_mu;
std::map<CacheKey, std::shared_ptr<Session>> g_cache;

}  // namespace

Result<std::unique_ptr<InferenceBackend>> make_opencv_backend(const fs::path& onnx, const BackendOptions& options) {
  ATELIER_ASSIGN_OR_RETURN(int threads, resolve_thread_count(options.threads));
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
  // The layer factory is process-wide: registration and the net's creation go together.
  static std::mutex factory_mu;
  std::lock_guard lock(factory_mu);
  if (options.fast_convolution) register_fast_convolution();
  else unregister_fast_convolution();
  try {
    cv::setNumThreads(threads);
    cv::dnn::Net net = cv::dnn::readNetFromONNX(onnx.string());
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return std::unique_ptr<InferenceBackend>(new OpenCvBackend(std::move(net), threads));
  } catch (const cv::Exception& e) {
    return invalid_argument(onnx.string() + ": OpenCV DNN cannot load the model: " + e.err);
  }
}

Result<Tensor> Session::run(const Tensor& input) {
  ++runs_;
  return backend_->run(model_.manifest.input, input, model_.manifest.postprocess.output);
}

Result<std::shared_ptr<Session>> get_session(const InstalledModel& model, const BackendOptions& options) {
  std::lock_guard lock(g_cache_mu);
  CacheKey key{model.model_path().string(), model.manifest.sha256, options};
  if (auto it = g_cache.find(key); it != g_cache.end()) return it->second;
  auto start = std::chrono::steady_clock::now();
  ATELIER_ASSIGN_OR_RETURN(std::unique_ptr<InferenceBackend> backend, make_opencv_backend(model.model_path(), options));
  auto session = std::make_shared<Session>(model, std::move(backend));
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
