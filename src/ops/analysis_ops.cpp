// crop and saliency as operations (operation.h).
#include <charconv>

#include <opencv2/imgproc.hpp>

#include "ops/analysis_ops.h"
#include "image/format.h"
#include "ops/operations_internal.h"
#include "vision/analysis_cache.h"
#include "vision/smart_crop.h"

namespace atelier::ops {
namespace {

std::vector<OptionSpec> analysis_options() {
  return {choice("saliency",
                 "auto (the model when installed, else fast) | model | fast (no model: spectral residual, faces, "
                 "centre) (default auto)",
                 {"auto", "model", "fast"}, "auto"),
          text("model", "Segmentation model for the subject term (default isnet)", "isnet")};
}

OperationSpec crop_spec() {
  OperationSpec s;
  s.name = "crop";
  s.summary = "Smart crops: the best window for each aspect ratio (saliency-aware)";
  s.options = {
      repeated(text("aspect", "Aspect ratio W:H (e.g. 9:16, 1.91:1) or a preset name; repeatable")),
      repeated(text("size", "Crop to W:H, then resize to WxH; repeatable")),
      flag("allow-upscale", "Let --size enlarge a crop smaller than the size"),
      number("zoom", "Allow tighter crops down to this scale of the largest window (0-1; default 1: largest only)", 0,
             1),
      choice("format", "Output format: jpg | png | webp (default: the input's; the CLI: for folder outputs)",
             {"jpg", "png", "webp"}),
      integer("quality", "JPEG/WebP quality 1-100; WebP 101 = lossless (default 90)", 1, 101),
  };
  for (OptionSpec& o : analysis_options()) s.options.push_back(std::move(o));
  return s;
}

OperationSpec saliency_spec() {
  OperationSpec s;
  s.name = "saliency";
  s.summary = "Write the saliency map (where people look) as a gray image";
  s.options = analysis_options();
  return s;
}

Status check_crop(const OptionValues& v, const RunContext& ctx) {
  ATELIER_TRY(crop_plan(v, ctx).status());
  if (ctx.allow_paths || !v.has("format")) return {};
  return detail::check_quality(v, v.text("format"), ctx);
}

std::string input_format(const Upload& u) {
  switch (image::detect_format(u.bytes)) {
    case image::Format::kJpeg: return "jpg";
    case image::Format::kWebp: return "webp";
    default: return "png";
  }
}

Result<OperationResult> run_crop(const std::vector<Upload>& uploads, const OptionValues& v, const RunContext& ctx) {
  const Upload* u = find_upload(uploads, "image");
  if (!u) return invalid_argument("image: no image in the request");
  ATELIER_ASSIGN_OR_RETURN(CropPlan plan, crop_plan(v, ctx));
  const std::string format = v.has("format") ? v.text("format") : input_format(*u);
  ATELIER_TRY(detail::check_quality(v, format, ctx));
  ATELIER_ASSIGN_OR_RETURN(image::Image photo, detail::decode_upload(*u, ctx.limits));
  ATELIER_TRY(detail::check_cancelled(ctx));
  std::vector<vision::Aspect> aspects;
  for (const auto& t : plan.targets) aspects.push_back(t.aspect);
  ATELIER_ASSIGN_OR_RETURN(vision::CropResult r, vision::smart_crop(photo, aspects, plan.options));
  detail::report_progress(ctx, 0.8);
  OperationResult out;
  out.json["width"] = photo.width();
  out.json["height"] = photo.height();
  out.json["saliency"] = {{"source", r.saliency.source}, {"faces", r.saliency.faces.size()}};
  out.json["timings"] = {{"analysis", r.analysis_seconds}, {"search", r.search_seconds}};
  nlohmann::json crops = nlohmann::json::array();
  const int quality = v.has("quality") ? int(v.integer("quality")) : 90;
  for (std::size_t k = 0; k < plan.targets.size(); ++k) {
    const vision::CropWindow& w = r.windows[k];
    ATELIER_ASSIGN_OR_RETURN(image::Image rendered, vision::render_crop(photo, w, plan.targets[k].size, plan.allow_upscale));
    std::string name = "crop-" + w.aspect.name + "." + format;
    for (char& c : name) {
      if (c == ':' || c == '/') c = 'x';
    }
    ATELIER_ASSIGN_OR_RETURN(OutputFile file, detail::encode_output(rendered, name, quality));
    crops.push_back({{"aspect", std::to_string(w.aspect.width) + ":" + std::to_string(w.aspect.height)},
                     {"name", w.aspect.name},
                     {"rect", {w.rect.x, w.rect.y, w.rect.width, w.rect.height}},
                     {"score", w.score},
                     {"kept", w.kept},
                     {"output", file.name}});
    out.files.push_back(std::move(file));
  }
  out.json["crops"] = crops;
  return out;
}

Result<OperationResult> run_saliency(const std::vector<Upload>& uploads, const OptionValues& v, const RunContext& ctx) {
  const Upload* u = find_upload(uploads, "image");
  if (!u) return invalid_argument("image: no image in the request");
  ATELIER_ASSIGN_OR_RETURN(vision::SaliencyOptions opt, saliency_options(v, ctx));
  ATELIER_ASSIGN_OR_RETURN(image::Image photo, detail::decode_upload(*u, ctx.limits));
  ATELIER_TRY(detail::check_cancelled(ctx));
  ATELIER_ASSIGN_OR_RETURN(vision::SaliencyMap s, vision::cached_saliency(photo, opt, vision::image_key(photo)));
  cv::Mat map8;
  cv::resize(s.map, map8, s.image_size, 0, 0, cv::INTER_LINEAR);
  map8.convertTo(map8, CV_8U, 255.0);
  ATELIER_ASSIGN_OR_RETURN(OutputFile file, detail::encode_output(image::Image(map8), "saliency.png", 90));
  OperationResult out;
  out.json["output"] = file.name;
  out.json["source"] = s.source;
  out.json["faces"] = s.faces.size();
  out.files.push_back(std::move(file));
  return out;
}

std::vector<std::string> analysis_models(const OptionValues& v) {
  if (v.text("saliency") == "fast") return {};
  return {v.text("model")};
}

}  // namespace

Result<vision::SaliencyOptions> saliency_options(const OptionValues& v, const RunContext& ctx) {
  vision::SaliencyOptions opt;
  auto source = vision::parse_saliency_source(v.text("saliency"));
  if (!source.ok()) return source.status().with_context(ctx.option("saliency"));
  opt.source = *source;
  opt.model = v.text("model");
  opt.backend = ctx.backend;
  return opt;
}

Result<CropPlan> crop_plan(const OptionValues& v, const RunContext& ctx) {
  CropPlan plan;
  ATELIER_ASSIGN_OR_RETURN(plan.options.saliency, saliency_options(v, ctx));
  plan.allow_upscale = v.flag("allow-upscale");
  for (const auto& text : v.all("aspect")) {
    auto aspect = vision::parse_aspect(text);
    if (!aspect.ok()) return aspect.status().with_context(ctx.option("aspect"));
    plan.targets.push_back({*aspect, std::nullopt});
  }
  for (const auto& text : v.all("size")) {
    auto size = parse_crop_size(ctx.option("size"), text);
    if (!size.ok()) return size.status();
    // Only an upscaled crop reaches the size; without allow-upscale it is a maximum.
    if (plan.allow_upscale) {
      if (Status s = check_output_size(ctx.option("size") + " " + text, size->width, size->height, ctx.limits);
          !s.ok()) {
        return Status(s.code(), s.message() + " (" + ctx.option("max-pixels") + ")");
      }
    }
    auto aspect = vision::parse_aspect(std::to_string(size->width) + ":" + std::to_string(size->height));
    aspect->name = text;
    plan.targets.push_back({*aspect, *size});
  }
  if (plan.targets.empty()) {
    return invalid_argument("crop: give at least one " + ctx.option("aspect") + " or " + ctx.option("size"));
  }
  const double zoom = v.has("zoom") ? v.number("zoom") : 1.0;
  if (!(zoom > 0.0 && zoom <= 1.0)) return invalid_argument(ctx.option("zoom") + ": expected a scale in (0, 1]");
  if (plan.allow_upscale && v.all("size").empty()) {
    return invalid_argument(ctx.option("allow-upscale") + ": only with " + ctx.option("size"));
  }
  plan.options.min_scale = float(zoom);
  return plan;
}

Result<cv::Size> parse_crop_size(const std::string& flag, const std::string& text, int limit) {
  const auto x = text.find_first_of("xX");
  int w = 0, h = 0;
  auto num = [](std::string_view s, int& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
  };
  const std::string_view t(text);
  if (x == std::string::npos || !num(t.substr(0, x), w) || !num(t.substr(x + 1), h) || w <= 0 || h <= 0 || w > limit ||
      h > limit) {
    return invalid_argument(flag + ": expected WxH such as 1280x720, got '" + text + "'");
  }
  return cv::Size(w, h);
}

namespace detail {

Operation crop_operation() {
  Operation op;
  op.spec = crop_spec();
  op.input_field = "image";
  op.check = check_crop;
  op.run = run_crop;
  op.models = analysis_models;
  return op;
}

Operation saliency_operation() {
  Operation op;
  op.spec = saliency_spec();
  op.input_field = "image";
  op.check = [](const OptionValues& v, const RunContext& ctx) { return saliency_options(v, ctx).status(); };
  op.run = run_saliency;
  op.models = analysis_models;
  return op;
}

}  // namespace detail
}  // namespace atelier::ops
