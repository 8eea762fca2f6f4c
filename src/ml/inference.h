// Running models. An InferenceBackend runs one loaded model on float tensors; the OpenCV
// DNN implementation is the local default (a KServe v2 remote one can implement the same
// interface). A Session pairs a backend with the model's manifest and is cached per
// process: each model is loaded once and reused by every later call.
#pragma once

#include <cstdint>
#include <filesystem>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "ml/model_store.h"

namespace atelier::ml {

struct Tensor {
  std::vector<int> shape;  // e.g. {1, 3, 1024, 1024}
  std::vector<float> data;  // row-major, product(shape) values
  std::size_t size() const;
};

class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;
  virtual std::string name() const = 0;
  // Runs the model on `input` (fed to graph input `input_name`) and returns `output_name`.
  // Thread-safe: calls on one backend are serialised.
  virtual Result<Tensor> run(const std::string& input_name, const Tensor& input, const std::string& output_name) = 0;
};

struct BackendOptions {
  int threads = 0;               // 0: ATELIER_THREADS or all cores (core/threads.h)
  bool fast_convolution = true;  // Winograd 3×3 convolutions (fast_conv.h)
  friend bool operator==(const BackendOptions&, const BackendOptions&) = default;
};

// Loads an fp32 ONNX file into OpenCV DNN (CPU). Errors name the file.
Result<std::unique_ptr<InferenceBackend>> make_opencv_backend(const std::filesystem::path& onnx,
                                                              const BackendOptions& options);

// A loaded model: its manifest plus a backend.
class Session {
 public:
  Session(InstalledModel model, std::unique_ptr<InferenceBackend> backend)
      : model_(std::move(model)), backend_(std::move(backend)) {}
  const ModelManifest& manifest() const { return model_.manifest; }
  InferenceBackend& backend() { return *backend_; }
  // Runs the model on `input` (fed to the manifest's input, returning its output).
  Result<Tensor> run(const Tensor& input);
  // How many times run() was called: shows that analyses are not repeated.
  int runs() const { return runs_.load(); }
  // Seconds spent loading (for timing reports).
  double load_seconds = 0;

 private:
  InstalledModel model_;
  std::unique_ptr<InferenceBackend> backend_;
  std::atomic<int> runs_{0};
};

// Process-wide cache of sessions, keyed by model file and options. Thread-safe.
Result<std::shared_ptr<Session>> get_session(const InstalledModel& model, const BackendOptions& options);
// Finds `name` in the default store, then get_session.
Result<std::shared_ptr<Session>> get_session(const std::string& model_name, const BackendOptions& options);
// Drops every cached session (tests, memory pressure).
void clear_sessions();

}  // namespace atelier::ml
