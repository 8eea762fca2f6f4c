#include "cli/cutout_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/common.h"
#include "core/files.h"
#include "core/progress.h"
#include "image/codec.h"
#include "vision/cutout.h"

namespace atelier::cli {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct CutoutArgs {
  std::vector<std::string> inputs;
  std::string output;
  bool mask = false;
  std::string background = "transparent";
  bool trim = false;
  int margin = 0;
  bool no_refine = false;
  bool no_decontaminate = false;
  std::string format;
  int quality = 0;  // 0: 90, or lossless WebP for masks
  std::string model = "isnet";
  std::string max_pixels = "100M";
  bool json = false;
  RuntimeFlags runtime;
};

struct Job {
  fs::path input;
  fs::path output;
  std::string error;  // set when the input could not even be listed
};

bool is_image_name(const fs::path& p) {
  return image::format_from_extension(p) != image::Format::kUnknown;
}

// Expands folders (their image files, sorted, not recursive) and pairs every input with
// its output path. Errors are usage errors: contradictions found before any work.
Result<std::vector<Job>> plan_jobs(const CutoutArgs& a, const std::string& ext) {
  std::vector<Job> jobs;
  bool any_dir = false;
  for (const auto& in : a.inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      any_dir = true;
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(in, ec)) {
        std::string name = e.path().filename().string();
        if (e.is_regular_file() && !name.empty() && name[0] != '.' && is_image_name(e.path())) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) jobs.push_back({in, {}, in + ": no images found in this folder"});
      for (auto& f : files) jobs.push_back({f, {}, ""});
    } else {
      jobs.push_back({in, {}, ""});
    }
  }
  const fs::path out(a.output);
  std::error_code ec;
  const bool single_file = a.inputs.size() == 1 && !any_dir && !fs::is_directory(out, ec) &&
                           !a.output.empty() && a.output.back() != '/';
  if (single_file) {
    jobs[0].output = out;
    return jobs;
  }
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) {
    return invalid_argument("-o " + a.output + ": must be a folder when there are several inputs or a folder input");
  }
  // <stem><ext>; a second input with the same stem (a.jpg and a.png, or one file given
  // twice) gets <stem>-2<ext>, and so on.
  std::set<std::string> taken;
  for (auto& j : jobs) {
    if (!j.error.empty()) continue;
    const std::string stem = j.input.stem().string();
    std::string name = stem + ext;
    for (int n = 2; !taken.insert(name).second; ++n) name = stem + "-" + std::to_string(n) + ext;
    j.output = out / name;
  }
  return jobs;
}

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

int run_cutout(const CutoutArgs& a) {
  // Everything that can be checked before touching a file is a usage error (exit 2).
  auto max_pixels = parse_pixel_count(a.max_pixels);
  if (!max_pixels.ok()) return print_error(max_pixels.status().message()), kExitUsage;
  image::DecodeLimits limits;
  limits.max_pixels = *max_pixels;
  auto background = vision::parse_background(a.background, limits);
  if (!background.ok()) return print_error("--background: " + background.status().message()), kExitUsage;
  if (a.margin < 0) return print_error("--margin must not be negative"), kExitUsage;
  if (a.margin > 0 && !a.trim) return print_error("--margin needs --trim"), kExitUsage;

  std::string ext = a.format.empty() ? ".png" : "." + a.format;
  auto planned = plan_jobs(a, ext);
  if (!planned.ok()) return print_error(planned.status().message()), kExitUsage;
  const std::vector<Job>& jobs = *planned;
  const bool opaque = a.mask || background->opaque();
  for (const auto& j : jobs) {
    if (!j.error.empty()) continue;
    image::Format f = image::format_from_extension(j.output);
    if (f == image::Format::kUnknown) {
      return print_error(j.output.string() + ": unknown output format (use .png, .webp or .jpg)"), kExitUsage;
    }
    if (f == image::Format::kJpeg && !opaque) {
      return print_error(j.output.string() +
                         ": JPEG cannot store transparency (use .png or .webp, or --background COLOUR|blur|FILE)"),
             kExitUsage;
    }
    std::error_code ec;
    if (fs::exists(j.input, ec) && fs::equivalent(j.input, j.output, ec)) {
      return print_error(j.output.string() + ": refusing to overwrite the input"), kExitUsage;
    }
  }
  // Folder output: create it now (once), so per-file writes only fail for real reasons.
  const bool folder = jobs.size() > 1 || (jobs.size() == 1 && jobs[0].output != fs::path(a.output));
  if (folder) {
    if (Status s = ensure_directory(a.output); !s.ok()) return print_error(s.message()), kExitFailed;
  }

  vision::CutoutOptions opt;
  opt.model = a.model;
  opt.backend.threads = a.runtime.threads;
  opt.backend.fast_convolution = !a.runtime.no_fast_conv;
  opt.refine = !a.no_refine;
  opt.decontaminate = !a.no_decontaminate;
  opt.background = std::move(background).value();
  opt.mask_only = a.mask;
  opt.trim = a.trim;
  opt.margin = a.margin;

  // A mask is data, not a picture: as WebP it is lossless unless a quality is asked for.
  const int quality = a.quality > 0 ? a.quality : (a.mask ? 101 : 90);

  // The model is loaded by the first image that decodes (ml::get_session caches it for
  // the rest of the batch), so bad inputs fail fast without waiting for a model load.
  const auto start = Clock::now();
  double load_s = 0;

  const bool verbose = !a.runtime.quiet;
  ProgressBar bar(int(jobs.size()), verbose && jobs.size() > 1);
  int done = 0, failed = 0;
  std::vector<double> times;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const Job& j = jobs[i];
    bar.update(int(i), j.input.filename().string());
    const auto t0 = Clock::now();
    Status status;
    vision::CutoutResult result;
    double loading = 0;  // the model load, done by the first image, is not its own time
    auto img = j.error.empty() ? image::read_image(j.input, limits) : Result<image::Image>(invalid_argument(j.error));
    if (!img.ok()) {
      status = img.status();
    } else {
      const auto tl = Clock::now();
      auto session = ml::get_session(opt.model, opt.backend);
      if (load_s == 0) loading = std::chrono::duration<double>(Clock::now() - tl).count();
      if (!session.ok()) {  // no model: nothing else can succeed
        bar.clear();
        print_error(session.status().message());
        return kExitFailed;
      }
      load_s = (*session)->load_seconds;
      auto r = vision::cutout(*img, opt);
      if (!r.ok()) {
        status = r.status().with_context(j.input.string());
      } else {
        result = std::move(r).value();
        status = image::write_image(j.output, result.image, {.quality = quality});
      }
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count() - loading;
    bar.clear();
    if (!status.ok()) {
      ++failed;
      print_error(status.message());
    } else {
      ++done;
      times.push_back(secs);
    }
    if (a.json) {
      nlohmann::json line = {{"input", j.input.string()}, {"ok", status.ok()}, {"seconds", secs}};
      if (!j.output.empty()) line["output"] = j.output.string();
      if (status.ok()) {
        const auto& t = result.timings;
        line["width"] = result.image.width();
        line["height"] = result.image.height();
        line["crop"] = {result.crop.x, result.crop.y, result.crop.width, result.crop.height};
        line["timings"] = {{"inference", t.inference}, {"matte", t.matte}, {"foreground", t.foreground},
                           {"composite", t.composite}};
      } else {
        line["error"] = status.message();
      }
      std::printf("%s\n", line.dump().c_str());
    } else if (verbose && status.ok()) {
      const auto& t = result.timings;
      std::printf("%s -> %s  %s (inference %s, matte %s, foreground %s, composite %s)\n", j.input.string().c_str(),
                  j.output.string().c_str(), seconds(secs).c_str(), seconds(t.inference).c_str(),
                  seconds(t.matte).c_str(), seconds(t.foreground).c_str(), seconds(t.composite).c_str());
    }
    std::fflush(stdout);
  }
  bar.clear();
  if (verbose && !a.json) {
    const double total = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("cutout: %d done, %d failed in %s (model load %s", done, failed, seconds(total).c_str(),
                seconds(load_s).c_str());
    if (!times.empty()) {
      std::sort(times.begin(), times.end());
      std::printf(", median %s per image", seconds(times[times.size() / 2]).c_str());
    }
    std::printf(")\n");
  }
  return failed ? kExitFailed : kExitOk;
}

}  // namespace

std::function<int()> add_cutout_command(CLI::App& app) {
  auto a = std::make_shared<CutoutArgs>();
  CLI::App* cmd = app.add_subcommand("cutout", "Remove the background of photos (subject matte, refined edges, new background)");
  cmd->add_option("inputs", a->inputs, "Images (JPEG, PNG, WebP, TIFF, BMP) or folders of images")->required();
  cmd->add_option("-o,--output", a->output, "Output file (one input) or folder")->required();
  cmd->add_flag("--mask", a->mask, "Write the 8-bit matte alone");
  cmd->add_option("--background", a->background,
                  "transparent | #RRGGBB | colour name | FILE | blur[=RADIUS] (default: transparent)");
  cmd->add_flag("--trim", a->trim, "Crop to the subject's bounds");
  cmd->add_option("--margin", a->margin, "Pixels kept around the subject with --trim (default 0)");
  cmd->add_flag("--no-refine", a->no_refine, "Plain bilinear upsampling of the model's matte (no edge refinement)");
  cmd->add_flag("--no-decontaminate", a->no_decontaminate, "Keep the photo's colours at soft edges");
  cmd->add_option("--format", a->format, "Output format for folder outputs: png | webp | jpg (default png)")
      ->check(CLI::IsMember({"png", "webp", "jpg"}));
  cmd->add_option("--quality", a->quality,
                  "JPEG/WebP quality 1-100; WebP 101 = lossless (default 90; masks as WebP: lossless)")
      ->check(CLI::Range(1, 101));
  cmd->add_option("--model", a->model, "Installed segmentation model (default isnet)");
  cmd->add_option("--max-pixels", a->max_pixels, "Refuse larger images (default 100M)");
  cmd->add_flag("--json", a->json, "One JSON object per input on stdout (timings, crop, errors)");
  add_runtime_flags(*cmd, a->runtime);
  return [a]() { return run_cutout(*a); };
}

}  // namespace atelier::cli
