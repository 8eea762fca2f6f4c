#include "ops/cutout_op.h"

#include "image/composite.h"
#include "ops/operations_internal.h"
#include "vision/background.h"

namespace atelier::ops {
namespace {

bool names_no_file(std::string_view spec) {
  return spec.empty() || spec == "transparent" || spec == "none" || spec == "blur" || spec.rfind("blur=", 0) == 0 ||
         image::parse_color(spec).ok();
}

OperationSpec cutout_spec() {
  OperationSpec s;
  s.name = "cutout";
  s.summary = "Remove the background of photos (subject matte, refined edges, new background)";
  s.options = {
      flag("mask", "Write the 8-bit matte alone"),
      text("background", "transparent | #RRGGBB | colour name | FILE | blur[=RADIUS] (default: transparent)",
           "transparent"),
      flag("trim", "Crop to the subject's bounds"),
      integer("margin", "Pixels kept around the subject with --trim, 0-100000 (default 0)", 0, 100000),
      flag("no-refine", "Plain bilinear upsampling of the model's matte (no edge refinement)"),
      flag("no-decontaminate", "Keep the photo's colours at soft edges"),
      choice("format", "Output format: png | webp | jpg (default png; the CLI: for folder outputs)",
             {"png", "webp", "jpg"}),
      integer("quality", "JPEG/WebP quality 1-100; WebP 101 = lossless (default 90; masks as WebP: lossless)", 1, 101),
      text("model", "Installed segmentation model (default isnet)", "isnet"),
  };
  return s;
}

// JPEG has no alpha: a jpg output needs a mask or an opaque background.
Status check_jpeg_opaque(const std::string& format, bool opaque, const RunContext& ctx) {
  if (format != "jpg" || opaque) return {};
    return invalid_argument(ctx.option("format") + " jpg: JPEG cannot store transparency (use png or webp, or an " +
                            "opaque " + ctx.option("background") + ")");
}

Status check_cutout(const OptionValues& v, const RunContext& ctx) {
  ATELIER_ASSIGN_OR_RETURN(vision::CutoutOptions opt, cutout_options(v, ctx));
  if (ctx.allow_paths) return {};  // the CLI names outputs by file: it checks formats per file
  const std::string format = v.has("format") ? v.text("format") : "png";
  // An uploaded background image is only known to run(), which checks again.
  ATELIER_TRY(check_jpeg_opaque(format, opt.mask_only || opt.background.opaque() ||
                                            opt.background.kind == vision::Background::Kind::kImage, ctx));
  return detail::check_quality(v, format, ctx);
}

Result<OperationResult> run_cutout(const std::vector<Upload>& uploads, const OptionValues& v, const RunContext& ctx) {
  const Upload* photo_upload = find_upload(uploads, "image");
  if (!photo_upload) return invalid_argument("image: no image in the request");
  ATELIER_ASSIGN_OR_RETURN(vision::CutoutOptions opt, cutout_options(v, ctx));
  if (const Upload* bg = find_upload(uploads, "background")) {
    if (v.text("background") != "transparent") {
      return invalid_argument(ctx.option("background") + ": give a colour or upload an image, not both");
    }
    if (opt.mask_only) return invalid_argument(ctx.option("background") + ": " + ctx.option("mask") +
                                               " writes the matte alone, without a background");
    ATELIER_ASSIGN_OR_RETURN(opt.background.image, detail::decode_upload(*bg, ctx.limits));
    opt.background.kind = vision::Background::Kind::kImage;
  }
  ATELIER_ASSIGN_OR_RETURN(image::Image photo, detail::decode_upload(*photo_upload, ctx.limits));
  ATELIER_TRY(detail::check_cancelled(ctx));
  detail::report_progress(ctx, 0.1);
  ATELIER_ASSIGN_OR_RETURN(vision::CutoutResult r, vision::cutout(photo, opt));
  ATELIER_TRY(detail::check_cancelled(ctx));
  detail::report_progress(ctx, 0.9);
  const std::string format = v.has("format") ? v.text("format") : "png";
  const bool opaque = opt.mask_only || opt.background.opaque();
  ATELIER_TRY(check_jpeg_opaque(format, opaque, ctx));
  const int quality = v.has("quality") ? int(v.integer("quality")) : (opt.mask_only ? 101 : 90);
  ATELIER_ASSIGN_OR_RETURN(OutputFile file,
                           detail::encode_output(r.image, (opt.mask_only ? "mask." : "cutout.") + format, quality));
  OperationResult out;
  const auto& t = r.timings;
  out.json["output"] = file.name;
  out.json["width"] = r.image.width();
  out.json["height"] = r.image.height();
  out.json["crop"] = {r.crop.x, r.crop.y, r.crop.width, r.crop.height};
  out.json["timings"] = {{"inference", t.inference}, {"matte", t.matte}, {"foreground", t.foreground},
                         {"composite", t.composite}};
  out.files.push_back(std::move(file));
  return out;
}

}  // namespace

Result<vision::CutoutOptions> cutout_options(const OptionValues& v, const RunContext& ctx) {
  vision::CutoutOptions opt;
  opt.model = v.text("model");
  opt.backend = ctx.backend;
  opt.refine = !v.flag("no-refine");
  opt.decontaminate = !v.flag("no-decontaminate");
  opt.mask_only = v.flag("mask");
  opt.trim = v.flag("trim");
  opt.margin = int(v.integer("margin"));
  if (opt.margin > 0 && !opt.trim) return invalid_argument(ctx.option("margin") + " needs " + ctx.option("trim"));
  const std::string bg = v.text("background");
  const bool plain = bg.empty() || bg == "transparent" || bg == "none";
  if (opt.mask_only && !plain) {
    return invalid_argument(ctx.option("background") + ": " + ctx.option("mask") +
                            " writes the matte alone, without a background");
  }
  if (opt.mask_only && !opt.decontaminate) {
    return invalid_argument(ctx.option("no-decontaminate") + ": " + ctx.option("mask") +
                            " writes the matte alone, without colours");
  }
  if (!ctx.allow_paths && !names_no_file(bg)) {
    return invalid_argument(ctx.option("background") + ": bad background '" + bg +
                            "' (expected transparent, #RRGGBB, a colour name or blur[=RADIUS]; files are not read " +
                            "from the server: upload the image as form field 'background')");
  }
  auto background = vision::parse_background(bg, image::decode_limits(ctx.limits));
  if (!background.ok()) return background.status().with_context(ctx.option("background"));
  opt.background = std::move(background).value();
  return opt;
}

namespace detail {

Operation cutout_operation() {
  Operation op;
  op.spec = cutout_spec();
  op.input = InputKind::kImage;
  op.input_field = "image";
  op.extra_fields = {"background"};
  op.check = check_cutout;
  op.run = run_cutout;
  op.models = [](const OptionValues& v) { return std::vector<std::string>{v.text("model")}; };
  return op;
}

}  // namespace detail
}  // namespace atelier::ops
