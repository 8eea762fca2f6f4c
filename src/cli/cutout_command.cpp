#include "cli/cutout_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/batch.h"
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

int run_cutout(const CutoutArgs& a) {
  // Everything that can be checked before touching a file is a usage error (exit 2):
  // option values and combinations, output names and formats, and the whole request's
  // files (FilePlan) — before any image is decoded or any model loaded.
  if (Status s = check_runtime(a.runtime); !s.ok()) return print_error(s.message()), kExitUsage;
  auto limits = limits_from_flag(a.max_pixels);
  if (!limits.ok()) return print_error(limits.status().message()), kExitUsage;
  const image::DecodeLimits decode = decode_limits(*limits);
  if (a.margin > 0 && !a.trim) return print_error("--margin needs --trim"), kExitUsage;
  const bool plain_background = a.background.empty() || a.background == "transparent" || a.background == "none";
  if (a.mask && !plain_background) {
    return print_error("--background: --mask writes the matte alone, without a background"), kExitUsage;
  }
  if (a.mask && a.no_decontaminate) {
    return print_error("--no-decontaminate: --mask writes the matte alone, without colours"), kExitUsage;
  }

  auto target = OutputTarget::plan(a.output, a.inputs);
  if (!target.ok()) return print_error(target.status().message()), kExitUsage;
  if (!a.format.empty() && !target->is_folder()) {
    return print_error("--format " + a.format + ": only for folder outputs (-o " + a.output + " names the format)"),
           kExitUsage;
  }
  auto background = vision::parse_background(a.background, decode);
  if (!background.ok()) return print_error("--background: " + background.status().message()), kExitUsage;
  std::vector<BatchItem> items = expand_inputs(a.inputs);
  const std::string ext = a.format.empty() ? ".png" : "." + a.format;
  const bool opaque = a.mask || background->opaque();
  FilePlan plan;
  target->add_to(plan, "-o");
  if (background->kind == vision::Background::Kind::kImage) plan.add_input(background->source, "the --background image");
  bool lossy = false;  // some output is JPEG or WebP (where --quality means something)
  for (auto& item : items) {
    if (!item.error.empty()) continue;
    plan.add_input(item.input, "the input");
    const fs::path out = target->is_folder() ? target->unique(item.input.stem().string(), ext) : target->path();
    const image::Format f = image::format_from_extension(out);
    if (f == image::Format::kUnknown) {
      return print_error(out.string() + ": unknown output format (use " + std::string(kImageOutputFormats) + ")"),
             kExitUsage;
    }
    if (f == image::Format::kJpeg && !opaque) {
      return print_error(out.string() +
                         ": JPEG cannot store transparency (use .png or .webp, or --background COLOUR|blur|FILE)"),
             kExitUsage;
    }
    if (a.quality == 101 && f != image::Format::kWebp) {
      return print_error("--quality 101 (lossless) is for WebP only; " + out.string() + " takes 1-100"), kExitUsage;
    }
    lossy = lossy || f == image::Format::kJpeg || f == image::Format::kWebp;
    plan.add_output(out, "-o");
    item.output = out;
  }
  if (a.quality > 0 && !lossy) {
    return print_error("--quality: only JPEG and WebP outputs have a quality; these outputs are lossless"), kExitUsage;
  }
  if (Status s = plan.check(); !s.ok()) return print_error(s.message()), kExitUsage;
  if (Status s = target->prepare(); !s.ok()) return print_error(s.message()), kExitFailed;

  vision::CutoutOptions opt;
  opt.model = a.model;
  opt.backend = *backend_options(a.runtime);  // checked by check_runtime before any work
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
  double load_s = -1;
  auto work = [&](const BatchItem& item) {
    ItemOutcome out;
    const fs::path& output = item.output;
    set_json_path(out.json, "output", output.string());
    auto img = image::read_image(item.input, decode);
    if (!img.ok()) return out.status = img.status(), out;
    const auto tl = Clock::now();
    auto session = ml::get_session(opt.model, opt.backend);
    if (!session.ok()) return ItemOutcome::stop(session.status());
    if (load_s < 0) {
      out.excluded_seconds = std::chrono::duration<double>(Clock::now() - tl).count();
      load_s = (*session)->load_seconds;
    }
    auto r = vision::cutout(*img, opt);
    if (!r.ok()) return out.status = r.status().with_context(item.input.string()), out;
    out.status = image::write_image(output, r->image, {.quality = quality});
    if (!out.status.ok()) return out;
    const auto& t = r->timings;
    out.json["width"] = r->image.width();
    out.json["height"] = r->image.height();
    out.json["backend"] = (*session)->backend().name();
    if (!(*session)->fallback_reason.empty()) out.json["backend_fallback"] = (*session)->fallback_reason;
    out.json["crop"] = {r->crop.x, r->crop.y, r->crop.width, r->crop.height};
    out.json["timings"] = {{"inference", t.inference}, {"matte", t.matte}, {"foreground", t.foreground},
                           {"composite", t.composite}};
    out.line = item.input.string() + " -> " + output.string();
    out.detail = "inference " + format_seconds(t.inference) + ", matte " + format_seconds(t.matte) + ", foreground " +
                 format_seconds(t.foreground) + ", composite " + format_seconds(t.composite);
    return out;
  };
  const int rc = run_batch(items, {"cutout", a.runtime.quiet, a.json}, work,
                           [&] { return "model load " + format_seconds(std::max(load_s, 0.0)); });
  target->remove_if_unused();
  return rc;
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
  add_integer_option(*cmd, "--margin", a->margin, 0, 100000, "Pixels kept around the subject with --trim, 0-100000 (default 0)");
  cmd->add_flag("--no-refine", a->no_refine, "Plain bilinear upsampling of the model's matte (no edge refinement)");
  cmd->add_flag("--no-decontaminate", a->no_decontaminate, "Keep the photo's colours at soft edges");
  cmd->add_option("--format", a->format, "Output format for folder outputs: png | webp | jpg (default png)")
      ->check(CLI::IsMember({"png", "webp", "jpg"}));
  add_integer_option(*cmd, "--quality", a->quality, 1, 101,
                     "JPEG/WebP quality 1-100; WebP 101 = lossless (default 90; masks as WebP: lossless)");
  cmd->add_option("--model", a->model, "Installed segmentation model (default isnet)");
  cmd->add_option("--max-pixels", a->max_pixels, "Refuse larger images (default 100M)");
  cmd->add_flag("--json", a->json, "One JSON object per input on stdout (timings, crop, errors)");
  add_runtime_flags(*cmd, a->runtime);
  return [a]() { return run_cutout(*a); };
}

}  // namespace atelier::cli
