// Benchmark (not a test): OpenCV's built-in convolution against the Winograd one
// (ml/fast_conv.h) on a segmentation model, e.g. ISNet at 1024×1024.
//
//   fast_conv_bench [model.onnx] [--runs N] [--threads N] [--mode both|builtin|fast]
//                   [--size S] [--image PATH|synthetic] [--input NAME] [--output NAME]
//                   [--layers]
//
// The input is a photo (default: python3-skimage's astronaut.png, resized to S×S,
// normalised (x/255 - 0.5) as ISNet expects), or a synthetic pattern when the photo is
// missing or --image synthetic is given; either way deterministic.
// Prints the median forward time of each, the max abs difference and the IoU of the
// masks (> 0.5) between the two outputs, and the peak RSS after each phase (getrusage;
// monotonic, so run --mode builtin / --mode fast separately for clean per-mode peaks).
// --layers prints the per-layer times of the convolution layers (slowest first).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ml/fast_conv.h"
#include "timing.h"

namespace {

using atelier::bench::cpu_seconds;
using atelier::bench::peak_rss_mb;

constexpr const char* kDefaultImage = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";

// NCHW RGB blob of the photo at `path`, or an empty Mat if it cannot be read.
cv::Mat photo_input(const std::string& path, int size) {
  cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
  if (bgr.empty()) return {};
  cv::Mat resized, rgb;
  cv::resize(bgr, resized, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  cv::cvtColor(resized, rgb, cv::COLOR_BGR2RGB);
  return cv::dnn::blobFromImage(rgb, 1.0 / 255.0, cv::Size(), cv::Scalar(127.5, 127.5, 127.5));
}

cv::Mat synthetic_input(int size) {
  const int shape[] = {1, 3, size, size};
  cv::Mat in(4, shape, CV_32F);
  float* p = in.ptr<float>();
  // Deterministic, image-like: smooth gradients plus a blob, ImageNet-normalised range.
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) {
        const float u = float(x) / size - 0.5f, v = float(y) / size - 0.5f;
        const float blob = std::exp(-(u * u + v * v) * 12.f);
        const float tex = 0.1f * std::sin(0.05f * x + 0.7f * c) * std::cos(0.03f * y);
        p[(std::size_t(c) * size + y) * size + x] = 2.f * blob - 1.f + tex + 0.2f * float(c) * u;
      }
  return in;
}

struct RunResult {
  cv::Mat output;
  std::vector<double> seconds;  // per run
  double cpu_per_run = 0;       // CPU seconds (all threads) per timed run
  double first_seconds = 0;
  double load_seconds = 0;
};

RunResult run_model(const std::string& path, const cv::Mat& input, const std::string& in_name,
                    const std::string& out_name, int runs, bool layers) {
  RunResult r;
  auto t0 = std::chrono::steady_clock::now();
  cv::dnn::Net net = cv::dnn::readNetFromONNX(path);
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  r.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu0 = 0;
  for (int i = 0; i <= runs; ++i) {
    if (i == 1) cpu0 = cpu_seconds();
    net.setInput(input, in_name);
    auto a = std::chrono::steady_clock::now();
    cv::Mat out = net.forward(out_name);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
    if (i == 0) {
      r.first_seconds = s;
    } else {
      r.seconds.push_back(s);
    }
    r.output = out.clone();
  }
  r.cpu_per_run = (cpu_seconds() - cpu0) / runs;
  if (layers) {
    std::vector<double> times;
    net.getPerfProfile(times);
    const std::vector<std::string> names = net.getLayerNames();
    std::vector<std::pair<double, std::string>> rows;
    double conv = 0, total = 0;
    for (std::size_t i = 0; i < names.size() && i < times.size(); ++i) {
      const double ms = times[i] * 1000.0 / cv::getTickFrequency();
      total += ms;
      cv::Ptr<cv::dnn::Layer> l = net.getLayer(net.getLayerId(names[i]));
      if (l->type != "Convolution") continue;
      conv += ms;
      const cv::Mat& w = l->blobs.empty() ? cv::Mat() : l->blobs[0];
      char buf[256];
      std::snprintf(buf, sizeof buf, "%s [%dx%d]", names[i].c_str(), w.dims == 4 ? w.size[0] : 0,
                    w.dims == 4 ? w.size[1] : 0);
      rows.emplace_back(ms, buf);
    }
    std::sort(rows.rbegin(), rows.rend());
    std::printf("  layers (last run): total %.1f ms, convolutions %.1f ms\n", total, conv);
    for (std::size_t i = 0; i < rows.size() && i < 25; ++i)
      std::printf("    %8.2f ms  %s\n", rows[i].first, rows[i].second.c_str());
  }
  return r;
}

void report(const char* label, const RunResult& r) {
  std::printf("%-8s load %.2f s, first forward %.3f s, median of %zu: %.3f s (runs:", label,
              r.load_seconds, r.first_seconds, r.seconds.size(), atelier::bench::median(r.seconds));
  for (double s : r.seconds) std::printf(" %.3f", s);
  std::printf("), CPU %.2f s per run, peak RSS so far %.0f MB\n", r.cpu_per_run, peak_rss_mb());
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = "/tmp/isnet_1024.onnx";
  std::string mode = "both", in_name = "input", out_name = "output", image = kDefaultImage;
  int runs = 3, size = 1024, threads = -1;
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
    else if (a == "--threads") threads = std::atoi(next().c_str());
    else if (a == "--mode") mode = next();
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
  if (mode != "both" && mode != "builtin" && mode != "fast") {
    std::fprintf(stderr, "--mode must be both, builtin or fast\n");
    return 2;
  }
  if (threads > 0) cv::setNumThreads(threads);
  cv::Mat input = image == "synthetic" ? cv::Mat() : photo_input(image, size);
  const bool photo = !input.empty();
  if (!photo) input = synthetic_input(size);
  std::printf("model %s, input 1x3x%dx%d (%s), %d threads\n", path.c_str(), size, size,
              photo ? image.c_str() : "synthetic pattern", cv::getNumThreads());

  try {
    RunResult builtin, fast;
    if (mode != "fast") {
      atelier::ml::unregister_fast_convolution();
      builtin = run_model(path, input, in_name, out_name, runs, layers);
      report("built-in", builtin);
    }
    if (mode != "builtin") {
      atelier::ml::register_fast_convolution();
      fast = run_model(path, input, in_name, out_name, runs, layers);
      atelier::ml::unregister_fast_convolution();
      report("fast", fast);
    }
    if (mode == "both") {
      CV_Assert(builtin.output.size == fast.output.size);
      const cv::Mat a = builtin.output.reshape(1, 1), b = fast.output.reshape(1, 1);
      const double max_abs = cv::norm(a, b, cv::NORM_INF);
      std::int64_t inter = 0, uni = 0;
      for (int i = 0; i < a.cols; ++i) {
        const bool x = a.at<float>(i) > 0.5f, y = b.at<float>(i) > 0.5f;
        inter += x && y;
        uni += x || y;
      }
      const double iou = uni == 0 ? 1.0 : double(inter) / double(uni);
      std::printf("speedup %.2fx, max abs diff %.3g, IoU(>0.5) %.6f (%lld px in the union)\n",
                  atelier::bench::median(builtin.seconds) / atelier::bench::median(fast.seconds), max_abs, iou, (long long)uni);
    }
  } catch (const cv::Exception& e) {
    std::fprintf(stderr, "OpenCV error: %s\n", e.what());
    return 1;
  }
  return 0;
}
