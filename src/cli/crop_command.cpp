#include "cli/crop_command.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include <opencv2/imgproc.hpp>

#include "cli/batch.h"
#include "cli/common.h"
#include "core/files.h"
#include "core/text.h"
#include "image/codec.h"
#include "vision/analysis_cache.h"
#include "vision/smart_crop.h"

namespace atelier::cli {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Options crop and saliency share.
struct AnalysisArgs {
  std::string saliency = "auto";
  std::string model = "isnet";
  std::string max_pixels = "100M";
  bool json = false;
  RuntimeFlags runtime;
};

void add_analysis_flags(CLI::App& cmd, AnalysisArgs& a) {
  cmd.add_option("--saliency", a.saliency,
                 "auto (the model when installed, else fast) | model | fast (no model: spectral residual, faces, "
                 "centre) (default auto)");
  cmd.add_option("--model", a.model, "Segmentation model for the subject term (default isnet)");
  cmd.add_option("--max-pixels", a.max_pixels, "Refuse larger images (default 100M)");
  cmd.add_flag("--json", a.json, "One JSON object per input on stdout");
  add_runtime_flags(cmd, a.runtime);
}

// Checks the shared flags; fills options and limits. Usage errors are printed here.
bool resolve_analysis(const AnalysisArgs& a, vision::SaliencyOptions& opt, Limits& limits) {
  if (Status s = check_runtime(a.runtime); !s.ok()) return print_error(s.message()), false;
  auto source = vision::parse_saliency_source(a.saliency);
  if (!source.ok()) return print_error("--saliency: " + source.status().message()), false;
  auto parsed = limits_from_flag(a.max_pixels);
  if (!parsed.ok()) return print_error(parsed.status().message()), false;
  opt.source = *source;
  opt.model = a.model;
  opt.backend = *backend_options(a.runtime);  // checked by check_runtime before any work
  limits = *parsed;
  return true;
}

// The model's load, done once by the first item that needs it, is charged to no item.
// Returns the seconds it took (0 when loaded already or not used), or an error that stops
// the batch (the model is required, or broken).
Result<double> load_model_once(const vision::SaliencyOptions& opt) {
  if (opt.source == vision::SaliencyOptions::Source::kFast) return 0.0;
  const auto t = Clock::now();
  auto session = ml::get_session(opt.model, opt.backend);
  if (!session.ok()) {
    if (opt.source == vision::SaliencyOptions::Source::kAuto && session.status().code() == StatusCode::kNotFound) {
      return 0.0;
    }
    return session.status();
  }
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string default_extension(const fs::path& input) {
  switch (image::format_from_extension(input)) {
    case image::Format::kJpeg: return ".jpg";
    case image::Format::kWebp: return ".webp";
    default: return ".png";
  }
}

// ---- crop ------------------------------------------------------------------------------

struct CropArgs {
  std::vector<std::string> inputs;
  std::string output;
  std::vector<std::string> aspects;
  std::vector<std::string> sizes;
  bool allow_upscale = false;
  double zoom = 1.0;
  std::string explain;
  std::string format;
  int quality = 0;  // 0: 90
  bool list_presets = false;
  AnalysisArgs analysis;
};

struct Target {
  vision::Aspect aspect;
  std::optional<cv::Size> size;
};

int list_presets() {
  std::printf("%-20s %11s %8s  %s\n", "PRESET", "SIZE", "RATIO", "USE");
  for (const auto& p : vision::crop_presets()) {
    auto a = vision::parse_aspect(p.name);
    std::string size = std::to_string(p.width) + "x" + std::to_string(p.height);
    std::string ratio = std::to_string(a->width) + ":" + std::to_string(a->height);
    std::printf("%-20s %11s %8s  %s\n", p.name.c_str(), size.c_str(), ratio.c_str(), p.description.c_str());
  }
  return kExitOk;
}

int run_crop(const CropArgs& a) {
  if (a.list_presets) return list_presets();
  if (a.inputs.empty()) return print_error("crop: no input images (see atelier crop --help)"), kExitUsage;
  if (a.output.empty()) return print_error("crop: --output is required"), kExitUsage;
  vision::CropOptions opt;
  Limits limits;
  if (!resolve_analysis(a.analysis, opt.saliency, limits)) return kExitUsage;
  std::vector<Target> targets;
  for (const auto& text : a.aspects) {
    auto aspect = vision::parse_aspect(text);
    if (!aspect.ok()) return print_error("--aspect: " + aspect.status().message()), kExitUsage;
    targets.push_back({*aspect, std::nullopt});
  }
  for (const auto& text : a.sizes) {
    auto size = parse_size("--size", text);
    if (!size.ok()) return print_error(size.status().message()), kExitUsage;
    // Only an upscaled crop reaches the size; without --allow-upscale it is a maximum.
    if (a.allow_upscale) {
      if (Status s = check_output_size("--size " + text, size->first, size->second, limits); !s.ok()) {
        return print_error(s.message() + " (--max-pixels)"), kExitUsage;
      }
    }
    auto aspect = vision::parse_aspect(std::to_string(size->first) + ":" + std::to_string(size->second));
    aspect->name = text;
    targets.push_back({*aspect, cv::Size(size->first, size->second)});
  }
  if (targets.empty()) return print_error("crop: give at least one --aspect or --size"), kExitUsage;
  if (!(a.zoom > 0.0 && a.zoom <= 1.0)) return print_error("--zoom: expected a scale in (0, 1]"), kExitUsage;
  if (a.allow_upscale && a.sizes.empty()) return print_error("--allow-upscale: only with --size"), kExitUsage;
  opt.min_scale = float(a.zoom);
  std::vector<vision::Aspect> aspects;
  for (const auto& t : targets) aspects.push_back(t.aspect);

  auto target = OutputTarget::plan(a.output, a.inputs, int(targets.size()));
  if (!target.ok()) return print_error(target.status().message()), kExitUsage;
  if (!a.format.empty() && !target->is_folder()) {
    return print_error("--format " + a.format + ": only for folder outputs (-o " + a.output + " names the format)"),
           kExitUsage;
  }
  const std::vector<BatchItem> items = expand_inputs(a.inputs);
  FilePlan plan;
  target->add_to(plan, "-o");
  // Outputs per item and target, planned (and checked) before any work.
  std::vector<std::vector<fs::path>> outputs(items.size());
  bool lossy = false;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].error.empty()) continue;
    plan.add_input(items[i].input, "the input");
    const std::string ext = a.format.empty() ? default_extension(items[i].input) : "." + a.format;
    for (const auto& t : targets) {
      const fs::path out = target->is_folder() ? target->unique(items[i].input.stem().string() + "-" + t.aspect.name, ext)
                                               : target->path();
      const image::Format f = image::format_from_extension(out);
      if (f == image::Format::kUnknown) {
        return print_error(out.string() + ": unknown output format (use " + std::string(kImageOutputFormats) + ")"),
               kExitUsage;
      }
      if (a.quality == 101 && f != image::Format::kWebp) {
        return print_error("--quality 101 (lossless) is for WebP only; " + out.string() + " takes 1-100"), kExitUsage;
      }
      lossy = lossy || f == image::Format::kJpeg || f == image::Format::kWebp;
      plan.add_output(out, "-o");
      outputs[i].push_back(out);
    }
  }
  if (a.quality > 0 && !lossy) {
    return print_error("--quality: only JPEG and WebP outputs have a quality; these outputs are lossless"), kExitUsage;
  }
  // --explain: a file for one input, else a folder of <stem>-explain.png.
  const bool explain_folder = !a.explain.empty() && (items.size() > 1 || a.explain.back() == '/');
  std::vector<fs::path> explains(items.size());
  if (!a.explain.empty()) {
    std::error_code ec;
    if (explain_folder) {
      if (image::format_from_extension(a.explain) != image::Format::kUnknown && !fs::is_directory(a.explain, ec)) {
        return print_error("--explain " + a.explain + ": must be a folder when there are several inputs"), kExitUsage;
      }
      plan.add_output_folder(a.explain, "--explain");
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (!items[i].error.empty()) continue;
        explains[i] = fs::path(a.explain) / (items[i].input.stem().string() + "-explain.png");
        plan.add_output(explains[i], "--explain");
      }
    } else {
      if (image::format_from_extension(a.explain) == image::Format::kUnknown) {
        return print_error("--explain " + a.explain + ": unknown output format (use " +
                           std::string(kImageOutputFormats) + ")"),
               kExitUsage;
      }
      explains[0] = a.explain;
      plan.add_output(a.explain, "--explain");
    }
  }
  if (Status s = plan.check(); !s.ok()) return print_error(s.message()), kExitUsage;
  const image::DecodeLimits decode = decode_limits(limits);
  if (Status s = target->prepare(); !s.ok()) return print_error(s.message()), kExitFailed;
  bool explain_created = false;
  if (explain_folder) {
    std::error_code ec;
    explain_created = !fs::exists(a.explain, ec);
    if (Status s = ensure_directory(a.explain); !s.ok()) return print_error(s.message()), kExitFailed;
  }
  const int quality = a.quality > 0 ? a.quality : 90;

  bool loaded = false;
  std::size_t index = 0;
  auto work = [&](const BatchItem& item) {
    const std::vector<fs::path>& outs = outputs[index];
    const fs::path& explain_file = explains[index++];
    ItemOutcome out;
    auto photo = image::read_image(item.input, decode);
    if (!photo.ok()) return ItemOutcome::failed(photo.status());
    if (!loaded) {
      auto load = load_model_once(opt.saliency);
      if (!load.ok()) return ItemOutcome::stop(load.status());
      out.excluded_seconds = *load;
      loaded = true;
    }
    auto r = vision::smart_crop(*photo, aspects, opt);
    if (!r.ok()) return ItemOutcome::failed(r.status().with_context(item.input.string()));
    out.json["width"] = photo->width();
    out.json["height"] = photo->height();
    out.json["saliency"] = {{"source", r->saliency.source}, {"faces", r->saliency.faces.size()}};
    out.json["timings"] = {{"analysis", r->analysis_seconds}, {"search", r->search_seconds}};
    nlohmann::json crops = nlohmann::json::array();
    std::string listing;
    for (std::size_t k = 0; k < targets.size(); ++k) {
      const vision::CropWindow& w = r->windows[k];
      auto rendered = vision::render_crop(*photo, w, targets[k].size, a.allow_upscale);
      if (!rendered.ok()) return ItemOutcome::failed(rendered.status().with_context(item.input.string()));
      if (Status s = image::write_image(outs[k], *rendered, {.quality = quality}); !s.ok()) {
        return ItemOutcome::failed(s);
      }
      crops.push_back({{"aspect", std::to_string(w.aspect.width) + ":" + std::to_string(w.aspect.height)},
                       {"name", w.aspect.name},
                       {"rect", {w.rect.x, w.rect.y, w.rect.width, w.rect.height}},
                       {"score", w.score},
                       {"kept", w.kept},
                       {"output", outs[k].string()}});
      if (!is_utf8(outs[k].string())) crops.back()["output_bytes"] = base64_encode(outs[k].string());
      listing += (k ? ", " : "") + outs[k].filename().string();
    }
    out.json["crops"] = crops;
    if (!explain_file.empty()) {
      if (Status s = image::write_image(explain_file, vision::explain_crop(*photo, *r)); !s.ok()) {
        return ItemOutcome::failed(s);
      }
      set_json_path(out.json, "explain", explain_file.string());
    }
    out.line = item.input.string() + " -> " + listing;
    out.detail = "analysis " + format_seconds(r->analysis_seconds) + ", search " +
                 std::to_string(int(r->search_seconds * 1e6)) + " us, saliency " + r->saliency.source;
    return out;
  };
  const int rc = run_batch(items, {"crop", a.analysis.runtime.quiet, a.analysis.json}, work);
  target->remove_if_unused();
  if (explain_created) {
    std::error_code ec;
    if (fs::is_empty(a.explain, ec) && !ec) fs::remove(a.explain, ec);
  }
  return rc;
}

// ---- saliency --------------------------------------------------------------------------

struct SaliencyArgs {
  std::vector<std::string> inputs;
  std::string output;
  AnalysisArgs analysis;
};

int run_saliency(const SaliencyArgs& a) {
  vision::SaliencyOptions opt;
  Limits limits;
  if (!resolve_analysis(a.analysis, opt, limits)) return kExitUsage;
  const image::DecodeLimits decode = decode_limits(limits);
  auto target = OutputTarget::plan(a.output, a.inputs);
  if (!target.ok()) return print_error(target.status().message()), kExitUsage;
  std::vector<BatchItem> items = expand_inputs(a.inputs);
  FilePlan plan;
  target->add_to(plan, "-o");
  for (auto& item : items) {
    if (!item.error.empty()) continue;
    plan.add_input(item.input, "the input");
    item.output = target->is_folder() ? target->unique(item.input.stem().string() + "-saliency", ".png") : target->path();
    if (image::format_from_extension(item.output) == image::Format::kUnknown) {
      return print_error(item.output.string() + ": unknown output format (use " + std::string(kImageOutputFormats) +
                         ")"),
             kExitUsage;
    }
    plan.add_output(item.output, "-o");
  }
  if (Status s = plan.check(); !s.ok()) return print_error(s.message()), kExitUsage;
  if (Status s = target->prepare(); !s.ok()) return print_error(s.message()), kExitFailed;
  bool loaded = false;
  auto work = [&](const BatchItem& item) {
    ItemOutcome out;
    auto photo = image::read_image(item.input, decode);
    if (!photo.ok()) return ItemOutcome::failed(photo.status());
    if (!loaded) {
      auto load = load_model_once(opt);
      if (!load.ok()) return ItemOutcome::stop(load.status());
      out.excluded_seconds = *load;
      loaded = true;
    }
    auto s = vision::cached_saliency(*photo, opt, vision::image_key(*photo));
    if (!s.ok()) return ItemOutcome::failed(s.status().with_context(item.input.string()));
    cv::Mat map8;
    cv::resize(s->map, map8, s->image_size, 0, 0, cv::INTER_LINEAR);
    map8.convertTo(map8, CV_8U, 255.0);
    if (Status w = image::write_image(item.output, image::Image(map8)); !w.ok()) return ItemOutcome::failed(w);
    set_json_path(out.json, "output", item.output.string());
    out.json["source"] = s->source;
    out.json["faces"] = s->faces.size();
    out.line = item.input.string() + " -> " + item.output.string();
    out.detail = "saliency " + s->source + ", " + std::to_string(s->faces.size()) + " faces";
    return out;
  };
  const int rc = run_batch(items, {"saliency", a.analysis.runtime.quiet, a.analysis.json}, work);
  target->remove_if_unused();
  return rc;
}

}  // namespace

std::function<int()> add_crop_command(CLI::App& app) {
  auto a = std::make_shared<CropArgs>();
  CLI::App* cmd = app.add_subcommand("crop", "Smart crops: the best window for each aspect ratio (saliency-aware)");
  cmd->add_option("inputs", a->inputs, "Images or folders of images");
  cmd->add_option("-o,--output", a->output, "Output file (one input, one aspect) or folder (<stem>-<aspect>.<ext>)");
  cmd->add_option("--aspect", a->aspects, "Aspect ratio W:H (e.g. 9:16, 1.91:1) or a preset name; repeatable");
  cmd->add_option("--size", a->sizes, "Crop to W:H, then resize to WxH; repeatable");
  cmd->add_flag("--allow-upscale", a->allow_upscale, "Let --size enlarge a crop smaller than the size");
  add_number_option(*cmd, "--zoom", a->zoom, 0, 1,
                    "Allow tighter crops down to this scale of the largest window (0-1; default 1: largest only)");
  cmd->add_option("--explain", a->explain, "Write the heat map with the chosen windows (a file, or a folder for many inputs)");
  cmd->add_option("--format", a->format, "Output format for folder outputs: jpg | png | webp (default: the input's)")
      ->check(CLI::IsMember({"jpg", "png", "webp"}));
  add_integer_option(*cmd, "--quality", a->quality, 1, 101, "JPEG/WebP quality 1-100; WebP 101 = lossless (default 90)");
  cmd->add_flag("--list-presets", a->list_presets, "List the named formats (instagram-story, youtube-thumbnail, ...)");
  add_analysis_flags(*cmd, a->analysis);
  return [a]() { return run_crop(*a); };
}

std::function<int()> add_saliency_command(CLI::App& app) {
  auto a = std::make_shared<SaliencyArgs>();
  CLI::App* cmd = app.add_subcommand("saliency", "Write the saliency map (where people look) as a gray image");
  cmd->add_option("inputs", a->inputs, "Images or folders of images")->required();
  cmd->add_option("-o,--output", a->output, "Output PNG (one input) or folder (<stem>-saliency.png)")->required();
  add_analysis_flags(*cmd, a->analysis);
  return [a]() { return run_saliency(*a); };
}

}  // namespace atelier::cli
