// render as an operation (operation.h): a design (JSON) to PNG, JPEG, WebP, PDF or SVG.
// Image sources are never paths of the server: each must be uploaded with the request
// (a form field named exactly like the source) or lie inside RunContext::assets_dir.
#include <filesystem>

#include "core/files.h"
#include "design/renderer.h"
#include "design/scene_json.h"
#include "ops/operations_internal.h"

namespace atelier::ops {
namespace {
namespace fs = std::filesystem;

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

// A source that stays inside the folder it is resolved against: relative, no "..".
bool contained(const std::string& source) {
  if (source.empty() || source[0] == '/' || source.find('\\') != std::string::npos) return false;
  for (const auto& part : fs::path(source)) {
    if (part == "..") return false;
  }
  return true;
}

Result<OperationResult> run_render(const std::vector<Upload>& uploads, const OptionValues& v, const RunContext& ctx) {
  const Upload* u = find_upload(uploads, "design");
  if (!u) return invalid_argument("design: no design in the request");
  const std::string_view json(reinterpret_cast<const char*>(u->bytes.data()), u->bytes.size());
  auto loaded = design::parse_scene(json, "design", {}, {.check_image_sources = false});
  if (!loaded.ok()) return Status(StatusCode::kDataLoss, loaded.status().message());
  design::Scene scene = std::move(loaded->scene);

  // Uploaded image sources go to a private folder under the names the design uses.
  ATELIER_ASSIGN_OR_RETURN(TempDir dir, TempDir::create({}, "atelier-render-"));
  for (auto& [id, block] : scene.blocks) {
    if (block.type != design::BlockType::kImage || block.image.source.empty()) continue;
    const std::string& source = block.image.source;
    const Upload* file = find_upload(uploads, source);
    if (file && contained(source)) {
      ATELIER_TRY(check_upload(*find_operation("render"), *file, ctx.limits));
      const fs::path path = dir.path() / std::to_string(id);
      ATELIER_TRY(write_file_atomic(path, file->bytes));
      block.image.source = path.string();
    } else if (!ctx.assets_dir.empty() && contained(source)) {
      block.image.source = (ctx.assets_dir / source).string();
    } else {
      return invalid_argument("design: block " + std::to_string(id) + ": image " + source +
                              ": not uploaded with the request (send it as form field '" + source + "')" +
                              (ctx.assets_dir.empty() ? "" : " and not a file inside the assets folder"));
    }
  }
  const std::string format = v.text("format");
  const bool raster = format == "png" || format == "jpg" || format == "webp";
  std::optional<int> page;
  if (v.has("page")) page = int(v.integer("page")) - 1;
  else if (format != "pdf") page = 0;
  design::RenderReport report;
  design::RenderOptions opt;
  opt.scale = v.number("scale");
  opt.base_dir = dir.path();
  opt.limits = ctx.limits;
  opt.report = &report;
  opt.strict = v.flag("strict");
  if (page && *page >= int(scene.pages.size())) {
    return invalid_argument(ctx.option("page") + " " + std::to_string(*page + 1) + ": the design has " +
                            std::to_string(scene.pages.size()) + " page" + (scene.pages.size() == 1 ? "" : "s"));
  }
  if (raster) ATELIER_TRY(design::check_page_size(scene, page.value_or(0), opt));
  ATELIER_TRY(detail::check_cancelled(ctx));
  const std::string name = "render." + format;
  const fs::path out_path = dir.path() / name;
  Status rendered = design::render_to_file(scene, out_path, page, opt);
  if (!rendered.ok()) {
    // Messages name the private folder's file; the client knows it as the output.
    std::string m = rendered.message();
    const std::string prefix = out_path.string() + ": ";
    if (m.rfind(prefix, 0) == 0) m = m.substr(prefix.size());
    return Status(rendered.code(), "render: " + m);
  }
  ATELIER_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, read_file(out_path, 1ull << 31));
  OperationResult out;
  OutputFile file;
  file.name = name;
  file.content_type = content_type_for(name);
  file.bytes = std::move(bytes);
  out.json["output"] = name;
  out.json["pages"] = scene.pages.size();
  nlohmann::json issues = nlohmann::json::array();
  for (const auto& issue : report.issues) issues.push_back(issue.message);
  out.json["warnings"] = issues;
  out.files.push_back(std::move(file));
  return out;
}

}  // namespace

namespace detail {

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
