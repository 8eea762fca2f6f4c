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
#include "cli/declared_options.h"
#include "ops/cutout_op.h"
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
  std::string max_pixels = "100M";
  bool json = false;
  RuntimeFlags runtime;
  std::unique_ptr<DeclaredOptions> declared;  // the operation's options (ops/cutout_op.h)
};

int run_cutout(const CutoutArgs& a) {
  // Everything that can be checked before touching a file is a usage error (exit 2):
  // option values and combinations, output names and formats, and the whole request's
  // files (FilePlan) — before any image is decoded or any model loaded.
  if (Status s = check_runtime(a.runtime); !s.ok()) return print_error(s.message()), kExitUsage;
  auto limits = limits_from_flag(a.max_pixels);
  if (!limits.ok()) return print_error(limits.status().message()), kExitUsage;
  const image::DecodeLimits decode = decode_limits(*limits);
  auto values = a.declared->values();
  if (!values.ok()) return print_error(values.status().message()), kExitUsage;
  ops::RunContext ctx;
  ctx.limits = *limits;
  ctx.backend = *backend_options(a.runtime);  // checked by check_runtime before any work
  ctx.option_prefix = "--";
  ctx.allow_paths = true;
  auto options = ops::cutout_options(*values, ctx);
  if (!options.ok()) return print_error(options.status().message()), kExitUsage;
  const std::string format = values->text("format");
  const int requested_quality = values->has("quality") ? int(values->integer("quality")) : 0;

  auto target = OutputTarget::plan(a.output, a.inputs);
  if (!target.ok()) return print_error(target.status().message()), kExitUsage;
  if (!format.empty() && !target->is_folder()) {
    return print_error("--format " + format + ": only for folder outputs (-o " + a.output + " names the format)"),
           kExitUsage;
  }
  vision::CutoutOptions opt = std::move(options).value();
  std::vector<BatchItem> items = expand_inputs(a.inputs);
  const std::string ext = format.empty() ? ".png" : "." + format;
  const bool opaque = opt.mask_only || opt.background.opaque();
  FilePlan plan;
  target->add_to(plan, "-o");
  if (opt.background.kind == vision::Background::Kind::kImage) plan.add_input(opt.background.source, "the --background image");
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
    if (requested_quality == 101 && f != image::Format::kWebp) {
      return print_error("--quality 101 (lossless) is for WebP only; " + out.string() + " takes 1-100"), kExitUsage;
    }
    lossy = lossy || f == image::Format::kJpeg || f == image::Format::kWebp;
    plan.add_output(out, "-o");
    item.output = out;
  }
  if (requested_quality > 0 && !lossy) {
    return print_error("--quality: only JPEG and WebP outputs have a quality; these outputs are lossless"), kExitUsage;
  }
  if (Status s = plan.check(); !s.ok()) return print_error(s.message()), kExitUsage;
  if (Status s = target->prepare(); !s.ok()) return print_error(s.message()), kExitFailed;

  // A mask is data, not a picture: as WebP it is lossless unless a quality is asked for.
  const int quality = requested_quality > 0 ? requested_quality : (opt.mask_only ? 101 : 90);

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
  CLI::App* cmd = app.add_subcommand("cutout", ops::find_operation("cutout")->spec.summary);
  cmd->add_option("inputs", a->inputs, "Images (JPEG, PNG, WebP, TIFF, BMP) or folders of images")->required();
  cmd->add_option("-o,--output", a->output, "Output file (one input) or folder")->required();
  a->declared = std::make_unique<DeclaredOptions>(*cmd, ops::find_operation("cutout")->spec);
  cmd->add_option("--max-pixels", a->max_pixels, "Refuse larger images (default 100M)");
  cmd->add_flag("--json", a->json, "One JSON object per input on stdout (timings, crop, errors)");
  add_runtime_flags(*cmd, a->runtime);
  return [a]() { return run_cutout(*a); };
}

}  // namespace atelier::cli
