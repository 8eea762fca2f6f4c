// Whether a reduced compute precision keeps a model's masks: each photo runs through the
// fp32 reference (OpenCV DNN's own convolution) and through the oneDNN executor in the
// precision asked for, both read as maps as the manifest says (preprocess.h), and the maps
// are compared at the model's output resolution: IoU of alpha > 127, mean |Δα| in 0..255.
// `atelier models calibrate` and the import store the result in the manifest
// (PrecisionCheck), and --precision auto uses a precision only when it met the bar.
#pragma once

#include <filesystem>
#include <vector>

#include "core/status.h"
#include "image/image.h"
#include "ml/inference.h"
#include "ml/manifest.h"
#include "ml/model_store.h"

namespace atelier::ml {

// The precisions that can be checked (not fp32: it is the reference's own).
inline constexpr Precision kCheckedPrecisions[] = {Precision::kBf16, Precision::kInt8};

// Runs the check on `photos` (at least one). Errors: kInvalidArgument for no photos or
// kAuto/kFp32; the backends' errors (a graph the executor cannot run names its node; int8
// without the manifest's calibration).
// `per_photo`, when given, receives each photo's IoU and mean |Δα|, in order.
struct PhotoAgreement {
  double iou = 0, mean_abs_alpha = 0;
};
Result<PrecisionCheck> check_precision(const InstalledModel& model, const std::vector<image::Image>& photos,
                                       Precision precision, int threads,
                                       std::vector<PhotoAgreement>* per_photo = nullptr);

// The int8 calibration of `model` on `photos` (at least one): each photo, read as the
// manifest says, runs through the fp32 oneDNN executor, which records the values of every
// convolution's input; each range is clipped at the kCalibrationQuantile of |x|. The same
// photos give the same calibration.
//
// Why clip: ranges set by the rarest activations make every other value's 8-bit step
// coarse. On ISNet, calibrated on the 5 Debian photos and checked on 16 photos of
// coco_mval_80 it was not calibrated on: extremes (1.0) gave mean IoU 0.9805, min 0.896,
// mean |Δα| 1.13; 0.99999 gave 0.9864, 0.943, 0.97; 0.9999 clipped too much (0.9801).
inline constexpr double kCalibrationQuantile = 0.99999;
Result<Int8Calibration> calibrate_int8(const InstalledModel& model, const std::vector<image::Image>& photos,
                                       int threads);

// The photos a check runs on by default: the colour photos of Debian's python3-skimage
// sample data (astronaut, chelsea, coffee, motorcycle_left, rocket) that are installed.
// kNotFound when none is.
Result<std::vector<std::filesystem::path>> default_check_photos();

// `model`'s manifest with `check` in place of any earlier check of the same precision.
ModelManifest with_check(ModelManifest manifest, const PrecisionCheck& check);

}  // namespace atelier::ml
