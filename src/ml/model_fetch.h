// Getting models into the store.
//   fetch:  a known model from an npm package (`npm pack`, or a tarball already on disk):
//           the resource is reassembled from its SHA-256-named chunks (each chunk and the
//           total checked), converted to fp32 (onnx_convert.h) and installed.
//   import: any fp16/fp32 ONNX segmentation model from a file, with a pre-processing spec.
// Both verify before installing and install atomically (model_store.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "ml/manifest.h"
#include "ml/model_store.h"

namespace atelier::ml {

// A model that `atelier models fetch NAME` knows how to get.
struct FetchSource {
  std::string name;         // "isnet"
  std::string package;      // "@imgly/background-removal-data"
  std::string version;      // "1.4.5" (pinned)
  std::string resource;     // "/models/medium"
  std::uint64_t bytes = 0;  // size of the reassembled resource
  std::string sha256;       // of the reassembled resource (pinned)
  std::string license;      // "AGPL-3.0"
  std::string preset;       // pre/post-processing preset, see manifest.h
  std::string description;
};

const std::vector<FetchSource>& fetch_sources();
bool is_fetchable(const std::string& name);

using ProgressFn = std::function<void(const std::string& message)>;

struct FetchOptions {
  std::filesystem::path from_tarball;  // use this `npm pack` tarball instead of npm
  bool force = false;                  // reinstall even when an intact copy is installed
  std::chrono::seconds timeout{900};   // for `npm pack`
  ProgressFn progress;                 // step messages; may be empty
};

// Idempotent: returns the installed model when an intact copy of the same source is there.
// Errors: kFailedPrecondition no npm; kUnavailable no network; kDataLoss checksum or size
// mismatch; kResourceExhausted disk full; kInvalidArgument a tarball that is not the package.
Result<InstalledModel> fetch_model(ModelStore& store, const std::string& name, const FetchOptions& options);
// The same for a source that is not in fetch_sources() (tests, private packages).
Result<InstalledModel> fetch_from_source(ModelStore& store, const FetchSource& source, const FetchOptions& options);

// Reassembles `resource` from an npm package tarball (.tgz) using its dist/resources.json,
// checking each chunk's SHA-256 and the total size. Exposed for tests.
Result<std::vector<std::uint8_t>> read_package_resource(const std::filesystem::path& tarball,
                                                        const std::string& resource);

struct ImportOptions {
  std::filesystem::path file;  // an ONNX model (fp16 or fp32)
  std::string name;
  Preprocess preprocess;       // width/height 0: the model's input size when it is fixed, ...
  int fallback_width = 0;      // ... else these (e.g. a preset's size)
  int fallback_height = 0;
  Postprocess postprocess;     // output "": the model's first output
  std::string license = "unknown";
  ProgressFn progress;
};

// Converts, checks that OpenCV DNN loads and runs it at the declared input size, installs.
Result<InstalledModel> import_model(ModelStore& store, const ImportOptions& options);

}  // namespace atelier::ml
