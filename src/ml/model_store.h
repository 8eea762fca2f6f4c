// The model store: a directory ($ATELIER_HOME/models, see atelier_home()) with one folder
// per installed model holding the converted fp32 ONNX file and its manifest.json.
// Installation is atomic: a model is assembled in a hidden staging folder and renamed
// into place, so a killed fetch or import never leaves a half model behind, and a
// replaced model is swapped in one step. Reads are safe while another process installs.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "core/status.h"
#include "ml/manifest.h"

namespace atelier::ml {

// $ATELIER_HOME, else $XDG_CACHE_HOME/atelier, else $HOME/.cache/atelier.
Result<std::filesystem::path> atelier_home();

struct InstalledModel {
  ModelManifest manifest;
  std::filesystem::path dir;
  std::filesystem::path model_path() const { return dir / manifest.file; }
};

class ModelStore {
 public:
  explicit ModelStore(std::filesystem::path home) : home_(std::move(home)) {}
  // The store under atelier_home().
  static Result<ModelStore> open_default();

  const std::filesystem::path& home() const { return home_; }
  std::filesystem::path models_dir() const { return home_ / "models"; }

  // kNotFound "model 'NAME' is not installed (run: atelier models fetch NAME)" (the hint
  // names `models import` for names no fetch source knows).
  Result<InstalledModel> find(const std::string& name) const;
  // Installed models sorted by name; folders with a broken manifest are skipped.
  std::vector<InstalledModel> list() const;

  // Serializes `model`, writes it with `manifest` (its sha256, bytes and file are filled
  // in here) and swaps it into place. Errors name the path; disk full is kResourceExhausted.
  Result<InstalledModel> install(const onnx::ModelProto& model, ModelManifest manifest);

  // Replaces the manifest of an installed model (atomically) with `manifest`, which must
  // describe the same file (name, file, sha256 and bytes unchanged: kInvalidArgument
  // otherwise), e.g. with a precision check added.
  Status update_manifest(const InstalledModel& model, const ModelManifest& manifest) const;

  // Removes what killed fetches and imports left behind (hidden .staging-* and
  // .download-* folders older than `age`; younger ones may belong to a running process).
  void remove_stale_temporaries(std::chrono::seconds age = std::chrono::hours(1)) const;

 private:
  std::filesystem::path home_;
};

}  // namespace atelier::ml
