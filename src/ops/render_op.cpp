// render as an operation (operation.h): a design (JSON) to PNG, JPEG, WebP, PDF or SVG.
// Image sources are never paths of the server (detail::place_image_sources).
#include <filesystem>

#include "core/files.h"
#include "design/renderer.h"
#include "design/scene_json.h"
#include "ops/operations_internal.h"

namespace atelier::ops {
namespace {
namespace fs = std::filesystem;

// A source that stays inside the folder it is resolved against: relative, no "..".
bool contained(const std::string& source) {
  if (source.empty() || source[0] == '/' || source.find('\\') != std::string::npos) return false;
  for (const auto& part : fs::path(source)) {
    if (part == "..") return false;
  }
  return true;
}


OperationSpec render_spec() {
  OperationSpec s;
  s.name = "render";
  s.summary = "Render a design to PNG, PDF, SVG, JPEG or WebP";
  s.options = {
      choice("format", "Output format: png | jpg | webp | pdf | svg (default png)", {"png", "jpg", "webp", "pdf", "svg"},
             "png"),
      integer("page", "Page to render, from 1 (default: the first; PDF: every page)", 1, 100000),
      number("scale", "Output pixels per design unit, up to 16 (default 1)", 0.01, 16, 1.0),
      flag("strict", "Fail instead of drawing a placeholder for an image that cannot be drawn"),
  };
  return s;
}

Result<OperationResult> run_render(const std::vector<Upload>& uploads, const OptionValues& v, const RunContext& ctx) {
  ATELIER_ASSIGN_OR_RETURN(design::Scene scene, detail::parse_design_upload(uploads));
  ATELIER_ASSIGN_OR_RETURN(TempDir dir, TempDir::create({}, "atelier-render-"));
  ATELIER_TRY(detail::place_image_sources(scene, uploads, ctx, dir.path()).status());
  const std::string format = v.text("format");
  std::optional<int> page;
  if (v.has("page")) page = int(v.integer("page")) - 1;
  else if (format != "pdf") page = 0;
  design::RenderReport report;
  design::RenderOptions opt;
  opt.scale = v.number("scale");
  opt.strict = v.flag("strict");
  opt.report = &report;
  if (page && *page >= int(scene.pages.size())) {
    return invalid_argument(ctx.option("page") + " " + std::to_string(*page + 1) + ": the design has " +
                            std::to_string(scene.pages.size()) + " page" + (scene.pages.size() == 1 ? "" : "s"));
  }
  ATELIER_ASSIGN_OR_RETURN(OutputFile file, detail::render_design(scene, format, page, opt, ctx, dir.path()));
  OperationResult out;
  out.json["output"] = file.name;
  out.json["pages"] = scene.pages.size();
  nlohmann::json issues = nlohmann::json::array();
  for (const auto& issue : report.issues) issues.push_back(issue.message);
  out.json["warnings"] = issues;
  out.files.push_back(std::move(file));
  return out;
}

}  // namespace

namespace detail {

Result<design::Scene> parse_design_upload(const std::vector<Upload>& uploads) {
  const Upload* u = find_upload(uploads, "design");
  if (!u) return invalid_argument("design: no design in the request");
  const std::string_view json(reinterpret_cast<const char*>(u->bytes.data()), u->bytes.size());
  auto loaded = design::parse_scene(json, "design", {}, {.check_image_sources = false});
  if (!loaded.ok()) return Status(StatusCode::kDataLoss, loaded.status().message());
  return std::move(loaded->scene);
}

Result<std::map<design::BlockId, std::string>> place_image_sources(design::Scene& scene,
                                                                   const std::vector<Upload>& uploads,
                                                                   const RunContext& ctx, const fs::path& dir) {
  std::map<design::BlockId, std::string> original;
  for (auto& [id, block] : scene.blocks) {
    if (block.type != design::BlockType::kImage || block.image.source.empty()) continue;
    const std::string source = block.image.source;
    const Upload* file = find_upload(uploads, source);
    if (file && contained(source)) {
      ATELIER_TRY(check_upload(*find_operation("render"), *file, ctx.limits));
      const fs::path path = dir / std::to_string(id);
      ATELIER_TRY(write_file_atomic(path, file->bytes));
      block.image.source = path.string();
    } else if (!ctx.assets_dir.empty() && contained(source)) {
      block.image.source = (ctx.assets_dir / source).string();
    } else {
      return invalid_argument("design: block " + std::to_string(id) + ": image " + source +
                              ": not uploaded with the request (send it as form field '" + source + "')" +
                              (ctx.assets_dir.empty() ? "" : " and not a file inside the assets folder"));
    }
    original[id] = source;
  }
  return original;
}

Result<OutputFile> render_design(const design::Scene& scene, const std::string& format, std::optional<int> page,
                                 design::RenderOptions opt, const RunContext& ctx, const fs::path& dir) {
  opt.base_dir = dir;
  opt.limits = ctx.limits;
  const bool raster = format == "png" || format == "jpg" || format == "webp";
  if (raster) ATELIER_TRY(design::check_page_size(scene, page.value_or(0), opt));
  ATELIER_TRY(check_cancelled(ctx));
  const std::string name = "render." + format;
  const fs::path out_path = dir / name;
  Status rendered = design::render_to_file(scene, out_path, page, opt);
  if (!rendered.ok()) {
    // Messages name the private folder's file; the client knows it as the output.
    std::string m = rendered.message();
    const std::string prefix = out_path.string() + ": ";
    if (m.rfind(prefix, 0) == 0) m = m.substr(prefix.size());
    return Status(rendered.code(), "render: " + m);
  }
  OutputFile file;
  file.name = name;
  file.content_type = content_type_for(name);
  ATELIER_ASSIGN_OR_RETURN(file.bytes, read_file(out_path, 1ull << 31));
  return file;
}


Operation render_operation() {
  Operation op;
  op.spec = render_spec();
  op.input = InputKind::kDesign;
  op.input_field = "design";
  op.any_extra_field = true;
  op.check = [](const OptionValues&, const RunContext&) { return Status(); };
  op.run = run_render;
  op.models = [](const OptionValues&) { return std::vector<std::string>{}; };
  return op;
}

}  // namespace detail
}  // namespace atelier::ops
