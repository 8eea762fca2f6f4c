#include "ml/model_store.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/files.h"
#include "core/sha256.h"
#include "ml/model_fetch.h"
#include "ml/onnx_convert.h"

namespace atelier::ml {
namespace fs = std::filesystem;

Result<fs::path> atelier_home() {
  if (const char* h = std::getenv("ATELIER_HOME"); h && *h) return fs::path(h);
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "atelier";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "atelier";
  return failed_precondition("cannot locate the model store: set ATELIER_HOME (or HOME)");
}

Result<ModelStore> ModelStore::open_default() {
  ATELIER_ASSIGN_OR_RETURN(fs::path home, atelier_home());
  return ModelStore(home);
}

Result<InstalledModel> ModelStore::find(const std::string& name) const {
  ATELIER_TRY(validate_model_name(name));
  fs::path dir = models_dir() / name;
  fs::path manifest_path = dir / "manifest.json";
  std::error_code ec;
  if (!fs::exists(manifest_path, ec)) {
    std::string hint = is_fetchable(name) ? "atelier models fetch " + name : "atelier models import FILE.onnx --name " + name;
    return not_found("model '" + name + "' is not installed (run: " + hint + ")");
  }
  ATELIER_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, read_file(manifest_path, 1 << 20));
  Result<ModelManifest> m = manifest_from_json(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  if (!m.ok()) return m.status().with_context(manifest_path.string());
  InstalledModel model{std::move(m).value(), dir};
  auto size = fs::file_size(model.model_path(), ec);
  if (ec || size != model.manifest.bytes) {
    return data_loss("model '" + name + "' is damaged (" + model.model_path().string() +
                     " is missing or has the wrong size); fetch or import it again");
  }
  return model;
}

std::vector<InstalledModel> ModelStore::list() const {
  std::vector<InstalledModel> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(models_dir(), ec)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.empty() || name[0] == '.') continue;
    if (auto m = find(name); m.ok()) out.push_back(std::move(m).value());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.manifest.name < b.manifest.name; });
  return out;
}

void ModelStore::remove_stale_temporaries(std::chrono::seconds age) const {
  const auto now = fs::file_time_type::clock::now();
  std::error_code ec;
  for (const fs::path& dir : {home_, models_dir()}) {
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(".staging-", 0) != 0 && name.rfind(".download-", 0) != 0) continue;
      auto modified = fs::last_write_time(entry.path(), ec);
      if (!ec && now - modified > age) fs::remove_all(entry.path(), ec);
    }
  }
}

Status ModelStore::update_manifest(const InstalledModel& model, const ModelManifest& manifest) const {
  const ModelManifest& was = model.manifest;
  if (manifest.name != was.name || manifest.file != was.file || manifest.sha256 != was.sha256 ||
      manifest.bytes != was.bytes) {
    return invalid_argument("model '" + was.name + "': a new manifest must describe the same model file");
  }
  const std::string json = manifest_to_json(manifest);
  return write_file_atomic(model.dir / "manifest.json",
                           std::span(reinterpret_cast<const std::uint8_t*>(json.data()), json.size()));
}

Result<InstalledModel> ModelStore::install(const onnx::ModelProto& model, ModelManifest manifest) {
  ATELIER_TRY(validate_model_name(manifest.name));
  remove_stale_temporaries();
  ATELIER_TRY(ensure_directory(models_dir()));
  ATELIER_ASSIGN_OR_RETURN(TempDir staging, TempDir::create(models_dir(), ".staging-" + manifest.name + "-"));
  {
    ATELIER_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, serialize_onnx(model));
    manifest.file = "model.onnx";
    manifest.bytes = bytes.size();
    manifest.sha256 = sha256_hex(bytes);
    ATELIER_TRY(write_file_atomic(staging.path() / manifest.file, bytes));
  }
  std::string json = manifest_to_json(manifest);
  ATELIER_TRY(write_file_atomic(staging.path() / "manifest.json",
                                std::span(reinterpret_cast<const std::uint8_t*>(json.data()), json.size())));
  ::chmod(staging.path().c_str(), 0755);

  fs::path final_dir = models_dir() / manifest.name;
  std::error_code ec;
  if (fs::exists(final_dir, ec)) {
    // Swap in one step; the old model ends up in the staging folder, removed with it.
    if (::renameat2(AT_FDCWD, staging.path().c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) != 0) {
      return invalid_argument(final_dir.string() + ": cannot replace the installed model: " + errno_text(errno));
    }
  } else {
    if (::rename(staging.path().c_str(), final_dir.c_str()) != 0) {
      return invalid_argument(final_dir.string() + ": cannot install the model: " + errno_text(errno));
    }
    staging.release();
  }
  return InstalledModel{std::move(manifest), final_dir};
}

}  // namespace atelier::ml
