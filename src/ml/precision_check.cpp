#include "ml/precision_check.h"

#include <algorithm>
#include <cmath>

#include "ml/onednn/executor.h"
#include "ml/preprocess.h"

namespace atelier::ml {

Result<PrecisionCheck> check_precision(const InstalledModel& model, const std::vector<image::Image>& photos,
                                       Precision precision, int threads, std::vector<PhotoAgreement>* per_photo) {
  if (photos.empty()) return invalid_argument("precision check: no photos");
  if (precision != Precision::kBf16 && precision != Precision::kInt8) {
    return invalid_argument(std::string("precision check: ") + precision_name(precision) + " is not a checked precision");
  }
  ATELIER_ASSIGN_OR_RETURN(std::unique_ptr<InferenceBackend> reference,
                           make_opencv_backend(model.model_path(), threads, /*winograd=*/false));
  ATELIER_ASSIGN_OR_RETURN(std::unique_ptr<InferenceBackend> reduced,
                           make_onednn_backend(model.model_path(), model.manifest, threads, precision));
  const ModelManifest& m = model.manifest;
  PrecisionCheck check;
  check.precision = precision_name(precision);
  check.min_iou = 1;
  double sum_iou = 0, sum_alpha = 0;
  for (const image::Image& photo : photos) {
    const Tensor input = make_input_tensor(photo, m.preprocess);
    ATELIER_ASSIGN_OR_RETURN(Tensor ref_out, reference->run(m.input, input, m.postprocess.output));
    ATELIER_ASSIGN_OR_RETURN(Tensor got_out, reduced->run(m.input, input, m.postprocess.output));
    ATELIER_ASSIGN_OR_RETURN(cv::Mat ref, output_to_map(ref_out, m.postprocess));
    ATELIER_ASSIGN_OR_RETURN(cv::Mat got, output_to_map(got_out, m.postprocess));
    if (ref.size() != got.size()) return internal_error("precision check: the outputs' sizes differ");
    std::int64_t inter = 0, uni = 0;
    double abs_alpha = 0;
    for (int y = 0; y < ref.rows; ++y) {
      const float* a = ref.ptr<float>(y);
      const float* b = got.ptr<float>(y);
      for (int x = 0; x < ref.cols; ++x) {
        const float ra = std::round(a[x] * 255.f), ga = std::round(b[x] * 255.f);
        abs_alpha += std::fabs(ra - ga);
        inter += ra > 127 && ga > 127;
        uni += ra > 127 || ga > 127;
      }
    }
    const double iou = uni ? double(inter) / double(uni) : 1.0;  // both empty: the same mask
    sum_iou += iou;
    check.min_iou = std::min(check.min_iou, iou);
    sum_alpha += abs_alpha / double(ref.total());
    if (per_photo) per_photo->push_back({iou, abs_alpha / double(ref.total())});
  }
  check.photos = int(photos.size());
  check.mean_iou = sum_iou / check.photos;
  check.mean_abs_alpha = sum_alpha / check.photos;
  check.passed = meets_quality_bar(check);
  return check;
}

Result<Int8Calibration> calibrate_int8(const InstalledModel& model, const std::vector<image::Image>& photos,
                                       int threads) {
  if (photos.empty()) return invalid_argument("int8 calibration: no photos");
  ATELIER_ASSIGN_OR_RETURN(std::unique_ptr<onednn::Executor> exec,
                           compile_onednn(model.model_path(), model.manifest, threads, Precision::kFp32));
  onednn::CalibrationStats stats;
  for (const image::Image& photo : photos) {
    const Tensor input = make_input_tensor(photo, model.manifest.preprocess);
    ATELIER_TRY(exec->calibrate(input.data.data(), stats));
  }
  const onednn::InputRanges ranges = onednn::clipped_ranges(stats, kCalibrationQuantile);
  Int8Calibration c;
  c.photos = int(photos.size());
  for (const auto& [name, r] : ranges) c.input_ranges[name] = {r.lo, r.hi};
  return c;
}

Result<std::vector<std::filesystem::path>> default_check_photos() {
  const std::filesystem::path dir = "/usr/lib/python3/dist-packages/skimage/data";
  std::vector<std::filesystem::path> out;
  for (const char* name : {"astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg"}) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(dir / name, ec)) out.push_back(dir / name);
  }
  if (out.empty()) return not_found("no photos to check on in " + dir.string() + " (install python3-skimage, or name photos)");
  return out;
}

ModelManifest with_check(ModelManifest manifest, const PrecisionCheck& check) {
  auto& checks = manifest.precision_checks;
  checks.erase(std::remove_if(checks.begin(), checks.end(),
                              [&](const PrecisionCheck& c) { return c.precision == check.precision; }),
               checks.end());
  checks.push_back(check);
  return manifest;
}

}  // namespace atelier::ml
