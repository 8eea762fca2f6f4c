// Benchmark (not a test): the cutout pipeline around the model, stage by stage, on photos
// of any size, so the stages after inference can be measured without the model's noise.
//
//   pipeline_bench [--runs N] [--threads N] [--model NAME] PHOTO...
//
// Per photo: decode (read_image), the model's input tensor (make_input_tensor: resize and
// normalise), inference once (not repeated: inference_bench measures it), then N runs of
// cutout_with_matte at default settings (transparent background) with the medians of its
// stages — matte (refinement), foreground (decontamination), composite — and of the whole
// call ("after"), and N PNG encodings of its RGBA result. Peak RSS at the end. Timing on a shared machine is noisy: compare stages within one run.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/huge_page_new.h"
#include "core/threads.h"
#include "image/codec.h"
#include "image/huge_page_mats.h"
#include "ml/inference.h"
#include "ml/preprocess.h"
#include "timing.h"
#include "vision/cutout.h"
#include "vision/subject.h"

int main(int argc, char** argv) {
  using namespace atelier;
  image::use_huge_pages_for_large_buffers();  // as the atelier command does
  keep_freed_blocks_for_reuse();
  int runs = 5, threads = 0;
  std::string model = "isnet";
  std::vector<std::string> photos;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--model" && i + 1 < argc) model = argv[++i];
    else photos.push_back(a);
  }
  if (photos.empty() || runs < 1) {
    std::fprintf(stderr, "usage: pipeline_bench [--runs N] [--threads N] [--model NAME] PHOTO...\n");
    return 2;
  }
  ml::BackendOptions backend;
  backend.threads = threads;
  auto session = ml::get_session(model, backend);
  if (!session.ok()) {
    std::fprintf(stderr, "pipeline_bench: %s\n", session.status().message().c_str());
    return 1;
  }
  std::printf("%-28s %8s %8s %8s %8s %8s %8s %8s %8s  (ms, median of %d)\n", "photo", "decode", "input", "matte",
              "fgnd", "compos", "png", "after", "model", runs);
  for (const std::string& path : photos) {
    image::Image photo;
    const double decode = bench::median_ms([&] { photo = *image::read_image(path); }, 1);
    const auto& pre = (*session)->manifest().preprocess;
    const double input = bench::median_ms([&] { (void)ml::make_input_tensor(photo, pre); }, runs);
    vision::SubjectMap coarse;
    const double model_ms = bench::median_ms([&] { coarse = *vision::predict_subject(photo, **session); }, 1);
    vision::CutoutOptions options;
    std::vector<double> matte, fg, composite;
    vision::CutoutResult result;
    const double after = bench::median_ms(
        [&] {
          result = *vision::cutout_with_matte(photo, coarse, options);
          matte.push_back(1e3 * result.timings.matte);
          fg.push_back(1e3 * result.timings.foreground);
          composite.push_back(1e3 * result.timings.composite);
        },
        runs);
    const double png = bench::median_ms([&] { (void)image::encode_image(result.image, image::Format::kPng); }, runs);
    std::string name = path.substr(path.find_last_of('/') + 1);
    std::printf("%-28s %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f\n", name.c_str(), decode, input,
                bench::median(matte), bench::median(fg), bench::median(composite), png, after, model_ms);
  }
  std::printf("peak RSS %.0f MB\n", bench::peak_rss_mb());
  return 0;
}
