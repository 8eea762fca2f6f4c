// Benchmark (not a test): one segmentation model through each inference path, on the
// same input, in one process: OpenCV DNN's own convolution ("opencv"), OpenCV with the
// Winograd layer ("winograd", ml/fast_conv.h), and the oneDNN executor ("onednn" fp32,
// "onednn-bf16", "onednn-int8"; ml/onednn). The successor of fast_conv_bench. int8 is
// calibrated first (not timed) on the python3-skimage photos the precision check uses.
//
//   inference_bench [model.onnx] [--modes opencv,winograd,onednn,onednn-bf16,onednn-int8] [--runs N]
//                   [--threads N] [--size S] [--image PATH|synthetic] [--input NAME]
//                   [--output NAME] [--layers]
//
// The input is a photo (default: python3-skimage's astronaut.png) resized to S×S and
// normalised as ISNet expects ((x - 128) / 256 per channel, RGB). For each mode: load (and
// compile) time, first run, median of N runs, CPU seconds per run (all threads: ≈ threads ×
// wall when every thread works, more when pools oversubscribe), peak RSS so far
// (monotonic: run one mode per process for its own peak), and against the first mode:
// the max |Δ| of the output, the IoU of the masks (> 0.5) and the mean |Δα| in 0..255.
// --layers: for oneDNN modes, the time per operation kind and the slowest 15 steps (for
// convolutions: GFLOP/s, shape and oneDNN implementation); ATELIER_BENCH_ALL_STEPS=1 also
// lists every convolution in order.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ml/fast_conv.h"
#include "ml/onednn/executor.h"
#include "ml/onednn/graph.h"
#include "ml/onnx_convert.h"
#include "ml/precision_check.h"
#include "timing.h"

namespace {

using atelier::bench::cpu_seconds;
using atelier::bench::peak_rss_mb;

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

constexpr const char* kDefaultImage = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";

std::vector<float> photo_input(const std::string& path, int size) {
  cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
  if (bgr.empty()) return {};
  cv::Mat resized, rgb;
  cv::resize(bgr, resized, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  cv::cvtColor(resized, rgb, cv::COLOR_BGR2RGB);
  std::vector<float> v(std::size_t(3) * size * size);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x)
        v[(std::size_t(c) * size + y) * size + x] = (float(rgb.at<cv::Vec3b>(y, x)[c]) - 128.f) / 256.f;
  return v;
}

std::vector<float> synthetic_input(int size) {
  std::vector<float> v(std::size_t(3) * size * size);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) {
        const float u = float(x) / size - 0.5f, w = float(y) / size - 0.5f;
        v[(std::size_t(c) * size + y) * size + x] =
            std::exp(-(u * u + w * w) * 12.f) - 0.5f + 0.05f * std::sin(0.05f * x + 0.7f * c) * std::cos(0.03f * y);
      }
  return v;
}

struct RunResult {
  std::vector<float> output;
  std::vector<double> seconds;
  double load = 0, first = 0, cpu_per_run = 0;
  std::string note;
};

template <typename Fn>
void timed_runs(RunResult& r, int runs, Fn&& forward) {
  double cpu0 = 0;
  for (int i = 0; i <= runs; ++i) {
    if (i == 1) cpu0 = cpu_seconds();
    const auto a = std::chrono::steady_clock::now();
    forward();
    const double s = since(a);
    if (i == 0) r.first = s;
    else r.seconds.push_back(s);
  }
  r.cpu_per_run = (cpu_seconds() - cpu0) / runs;
}

RunResult run_opencv(const std::string& path, const std::vector<float>& input, int size, const std::string& in,
                     const std::string& out, int runs, bool winograd) {
  RunResult r;
  if (winograd) atelier::ml::register_fast_convolution();
  else atelier::ml::unregister_fast_convolution();
  const auto t0 = std::chrono::steady_clock::now();
  cv::dnn::Net net = cv::dnn::readNetFromONNX(path);
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  r.load = since(t0);
  const int shape[] = {1, 3, size, size};
  const cv::Mat blob(4, shape, CV_32F, const_cast<float*>(input.data()));
  timed_runs(r, runs, [&] {
    net.setInput(blob, in);
    cv::Mat o = net.forward(out);
    r.output.assign(o.ptr<float>(), o.ptr<float>() + o.total());
  });
  atelier::ml::unregister_fast_convolution();
  return r;
}

std::unique_ptr<atelier::ml::onednn::Executor> compile(const std::string& path, int size, const std::string& in,
                                                      const std::string& out,
                                                      const atelier::ml::onednn::ExecutorOptions& options) {
  using namespace atelier::ml::onednn;
  auto model = atelier::ml::load_onnx(path);
  if (!model.ok()) throw std::runtime_error(model.status().message());
  auto graph = build_graph(*model, in, {1, 3, size, size}, out);
  if (!graph.ok()) throw std::runtime_error(graph.status().message());
  auto e = Executor::compile(std::move(*graph), options);
  if (!e.ok()) throw std::runtime_error(e.status().message());
  return std::move(*e);
}

// The convolutions' input ranges on the precision check's photos, through fp32.
atelier::ml::onednn::InputRanges calibrate(const std::string& path, int size, const std::string& in,
                                           const std::string& out, int threads) {
  using namespace atelier::ml::onednn;
  auto exec = compile(path, size, in, out, {Precision::kF32, threads, {}});
  CalibrationStats stats;
  auto photos = atelier::ml::default_check_photos();
  if (!photos.ok()) throw std::runtime_error(photos.status().message());
  for (const auto& photo : *photos) {
    const std::vector<float> x = photo_input(photo.string(), size);
    if (x.empty()) continue;
    if (atelier::Status s = exec->calibrate(x.data(), stats); !s.ok()) throw std::runtime_error(s.message());
  }
  if (stats.empty()) throw std::runtime_error("none of the calibration photos could be read");
  return clipped_ranges(stats, atelier::ml::kCalibrationQuantile);
}

RunResult run_onednn(const std::string& path, const std::vector<float>& input, int size, const std::string& in,
                     const std::string& out, int runs, int threads, atelier::ml::onednn::Precision precision,
                     bool layers) {
  using namespace atelier::ml::onednn;
  RunResult r;
  InputRanges ranges;
  if (precision == Precision::kInt8) ranges = calibrate(path, size, in, out, threads);
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Executor> exec = compile(path, size, in, out, {precision, threads, std::move(ranges)});
  r.load = since(t0);
  std::ostringstream note;
  note << "isa " << effective_isa() << ", conv " << exec->conv_implementation() << ", arena "
       << exec->arena_bytes() / (1 << 20) << " MiB, weights " << exec->weight_bytes() / (1 << 20) << " MiB, scratch "
       << exec->scratchpad_bytes() / (1 << 20) << " MiB";
  if (precision == Precision::kInt8) note << ", " << exec->int8_convolutions() << " int8 convolutions";
  r.note = note.str();
  timed_runs(r, runs, [&] {
    auto o = exec->run(input.data());
    if (!o.ok()) throw std::runtime_error(o.status().message());
    r.output = std::move(*o);
  });
  if (layers) {
    auto prof = exec->profile(input.data());
    if (!prof.ok()) throw std::runtime_error(prof.status().message());
    std::map<std::string, std::pair<double, int>> by_kind;
    double total = 0;
    for (const auto& s : *prof) {
      by_kind[s.kind].first += s.ms;
      by_kind[s.kind].second += 1;
      total += s.ms;
    }
    std::printf("  steps (profiled run, each waited for): total %.1f ms\n", total);
    for (const auto& [k, v] : by_kind) std::printf("    %-8s %8.1f ms  %5.1f%%  (%d steps)\n", k.c_str(), v.first, 100 * v.first / total, v.second);
    auto sorted = *prof;
    std::sort(sorted.begin(), sorted.end(), [](const StepTime& a, const StepTime& b) { return a.ms > b.ms; });
    for (std::size_t i = 0; i < sorted.size() && i < 15; ++i) {
      const StepTime& s = sorted[i];
      std::printf("    %8.2f ms  %-7s %-40s", s.ms, s.kind.c_str(), s.name.c_str());
      if (s.macs > 0) std::printf(" %6.0f GFLOP/s  %s", 2e-6 * double(s.macs) / s.ms, s.detail.c_str());
      std::printf("\n");
    }
    if (std::getenv("ATELIER_BENCH_ALL_STEPS")) {
      for (const auto& s : *prof)
        if (s.macs > 0) std::printf("    step %8.3f ms %6.0f GFLOP/s  %-45s %s\n", s.ms, 2e-6 * double(s.macs) / s.ms, s.detail.c_str(), s.name.c_str());
    }
  }
  return r;
}

void compare(const std::vector<float>& ref, const std::vector<float>& got) {
  if (ref.size() != got.size()) {
    std::printf("  output sizes differ (%zu vs %zu)\n", ref.size(), got.size());
    return;
  }
  double max_abs = 0, sum_alpha = 0;
  std::int64_t inter = 0, uni = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    max_abs = std::max(max_abs, double(std::fabs(ref[i] - got[i])));
    const auto alpha = [](float v) { return std::round(std::clamp(v, 0.f, 1.f) * 255.f); };
    sum_alpha += std::fabs(alpha(ref[i]) - alpha(got[i]));
    const bool a = ref[i] > 0.5f, b = got[i] > 0.5f;
    inter += a && b;
    uni += a || b;
  }
  std::printf("  vs first mode: max |d| %.3g, IoU(>0.5) %.5f, mean |d alpha| %.3f /255\n", max_abs,
              uni ? double(inter) / double(uni) : 1.0, sum_alpha / double(ref.size()));
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = "/root/.cache/atelier/models/isnet/model.onnx";
  std::string modes = "winograd,onednn,onednn-bf16", in_name = "input", out_name = "output", image = kDefaultImage;
  int runs = 3, size = 1024, threads = 2;
  bool layers = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--runs") runs = std::max(1, std::atoi(next().c_str()));
    else if (a == "--threads") threads = std::max(1, std::atoi(next().c_str()));
    else if (a == "--modes") modes = next();
    else if (a == "--size") size = std::atoi(next().c_str());
    else if (a == "--image") image = next();
    else if (a == "--input") in_name = next();
    else if (a == "--output") out_name = next();
    else if (a == "--layers") layers = true;
    else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    } else path = a;
  }
  cv::setNumThreads(threads);
  std::vector<float> input = image == "synthetic" ? std::vector<float>() : photo_input(image, size);
  const bool photo = !input.empty();
  if (!photo) input = synthetic_input(size);
  std::printf("model %s, input 1x3x%dx%d (%s), %d threads\n", path.c_str(), size, size,
              photo ? image.c_str() : "synthetic", threads);
  std::vector<float> reference;
  std::stringstream list(modes);
  std::string mode;
  try {
    while (std::getline(list, mode, ',')) {
      RunResult r;
      if (mode == "opencv" || mode == "winograd") {
        r = run_opencv(path, input, size, in_name, out_name, runs, mode == "winograd");
      } else if (mode == "onednn" || mode == "onednn-bf16" || mode == "onednn-int8") {
        using atelier::ml::onednn::Precision;
        r = run_onednn(path, input, size, in_name, out_name, runs, threads,
                       mode == "onednn" ? Precision::kF32 : mode == "onednn-bf16" ? Precision::kBf16 : Precision::kInt8,
                       layers);
      } else {
        std::fprintf(stderr, "unknown mode %s (opencv, winograd, onednn, onednn-bf16, onednn-int8)\n", mode.c_str());
        return 2;
      }
      std::printf("%-12s load %.2f s, first %.3f s, median of %zu: %.3f s, CPU %.2f s/run, peak RSS so far %.0f MB\n",
                  mode.c_str(), r.load, r.first, r.seconds.size(), atelier::bench::median(r.seconds), r.cpu_per_run,
                  peak_rss_mb());
      if (!r.note.empty()) std::printf("  %s\n", r.note.c_str());
      if (reference.empty()) reference = r.output;
      else compare(reference, r.output);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
