// Running models. An InferenceBackend runs one loaded model on float tensors. Local ones:
// the oneDNN executor (ml/onednn: the default where it can run the graph), OpenCV DNN with
// the Winograd convolution (the fallback for graphs the executor cannot run), and OpenCV
// DNN's own convolution (the reference path); and a KServe v2 remote one
// (remote_backend.h: --inference-url). A Session pairs a backend with the model's manifest and is cached per
// process: each model is loaded once and reused by every later call.
#pragma once

#include <cstdint>
#include <filesystem>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ml/model_store.h"

namespace atelier::ml {
namespace onednn {
class Executor;
}

struct Tensor {
  std::vector<int> shape;  // e.g. {1, 3, 1024, 1024}
  std::vector<float> data;  // row-major, product(shape) values
  std::size_t size() const;
};

class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;
  // "onednn-fp32", "onednn-bf16", "opencv-winograd", "opencv-dnn".
  virtual std::string name() const = 0;
  // Runs the model on `input` (fed to graph input `input_name`) and returns `output_name`.
  // Thread-safe: calls on one backend are serialised.
  virtual Result<Tensor> run(const std::string& input_name, const Tensor& input, const std::string& output_name) = 0;
};

// kAuto: oneDNN when it can run the graph, else Winograd; in fp32 on a CPU without
// AVX-512 Winograd, which is faster there. kWinograd: OpenCV DNN with the Winograd layer
// (fast_conv.h). kOpenCv: OpenCV DNN's own convolution.
enum class BackendKind { kAuto, kOneDnn, kWinograd, kOpenCv };
// The compute precision of the oneDNN backend (the OpenCV ones are fp32 only); kAuto:
// auto_precision() of the model. kInt8 needs the model's int8 calibration (manifest.h).
enum class Precision { kAuto, kFp32, kBf16, kInt8 };

// "auto", "onednn", "winograd", "opencv" / "auto", "fp32", "bf16", "int8"; parse errors
// (kInvalidArgument) list the choices.
const char* backend_name(BackendKind k);
Result<BackendKind> parse_backend(std::string_view text);
const char* precision_name(Precision p);
Result<Precision> parse_precision(std::string_view text);

struct BackendOptions {
  int threads = 0;  // 0: ATELIER_THREADS or all cores (core/threads.h)
  BackendKind backend = BackendKind::kAuto;
  Precision precision = Precision::kAuto;
  // A KServe v2 server that runs the models instead (remote_backend.h; --inference-url);
  // empty: each model's manifest's inference_url, else local. threads/backend/precision
  // then apply to the remote's own configuration, not here.
  std::string inference_url;
  friend bool operator==(const BackendOptions&, const BackendOptions&) = default;
};
// kInvalidArgument for combinations no backend runs ("--precision bf16 needs the oneDNN
// backend, not --backend winograd", the same for int8); get_session checks the same
// before loading.
Status check_backend_options(const BackendOptions& options);

// Loads an fp32 ONNX file into OpenCV DNN (CPU), with the Winograd layer when `winograd`.
// Errors name the file.
Result<std::unique_ptr<InferenceBackend>> make_opencv_backend(const std::filesystem::path& onnx, int threads,
                                                              bool winograd);
// Compiles an fp32 ONNX file for the oneDNN executor at the manifest's input size, in
// `precision` (kAuto: auto_precision). Errors name the file and, for a graph the executor
// cannot run, the node ("...: oneDNN executor: node 'x' (LSTM): operator not supported");
// int8 without a calibration is kFailedPrecondition ("model 'x' has no int8 calibration
// (run atelier models calibrate x)").
Result<std::unique_ptr<InferenceBackend>> make_onednn_backend(const std::filesystem::path& onnx,
                                                              const ModelManifest& manifest, int threads,
                                                              Precision precision);
// The executor itself, for calibration and benchmarks (same errors).
Result<std::unique_ptr<onednn::Executor>> compile_onednn(const std::filesystem::path& onnx,
                                                        const ModelManifest& manifest, int threads, Precision precision);

// What --backend auto tries first for a model in `precision`: oneDNN, except in fp32 on a
// CPU without AVX-512, where OpenCV DNN with the Winograd convolution is faster (ISNet at
// 1024², 2 threads, AMD EPYC with AVX2: 1.70 s against 2.33 s per inference,
// inference_bench); kWinograd then.
BackendKind auto_backend(const ModelManifest& manifest, Precision precision);

// What --precision auto means for a model: the fastest precision whose check in the
// manifest met the quality bar (manifest.h): int8 (when calibrated), then bf16 where the
// CPU runs it natively (emulated bf16 is slower than fp32), else fp32.
Precision auto_precision(const ModelManifest& manifest);

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
  // Why kAuto did not use oneDNN (the executor's error), empty when it did.
  std::string fallback_reason;

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
