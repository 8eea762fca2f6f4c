// edit as an operation (operation.h): a design and a plain-language request in, the edited
// design out (design.json), optionally rendered too. The language model is the one the
// process is configured with (ATELIER_LLM and friends, genai/llm.h): a request never names
// a provider, a URL or a key. The model's answer streams through RunContext::text. Image
// sources are uploads or assets as for render (detail::place_image_sources); the design
// that comes back names them as the request did.
#include <cstdlib>
#include <filesystem>

#include "core/files.h"
#include "design/engine.h"
#include "design/scene_json.h"
#include "genai/change_set.h"
#include "genai/editor.h"
#include "genai/llm.h"
#include "ops/operations_internal.h"

namespace atelier::ops {
namespace {

OperationSpec edit_spec() {
  OperationSpec s;
  s.name = "edit";
  s.summary = "Edit a design from a plain-language request through the server's language model";
  s.options = {
      text("request", "What to change, e.g. \"Make the logo bigger\" (required)"),
      choice("profile", "Attributes sent to the model: auto (from the request) | layout | text | style | full",
             {"auto", "layout", "text", "style", "full"}, "auto"),
      text("to", "Change the page format: WxH or a preset (e.g. 1280x720, youtube-thumbnail)"),
      flag("allow-delete", "Apply removals of blocks the model leaves out"),
      choice("render", "Also render the edited design: none | png | jpg | webp | pdf | svg",
             {"none", "png", "jpg", "webp", "pdf", "svg"}, "none"),
  };
  return s;
}

bool llm_configured() {
  const char* spec = std::getenv("ATELIER_LLM");
  return spec != nullptr && std::string_view(spec).find_first_not_of(" \t\r\n") != std::string_view::npos;
}

Status check_edit(const OptionValues& v, const RunContext& ctx) {
  if (v.text("request").find_first_not_of(" \t\r\n") == std::string::npos) {
    return invalid_argument(ctx.option("request") + ": say what to change (e.g. " + ctx.option("request") +
                            (ctx.option_prefix.empty() ? "=" : " ") + "\"Make the logo bigger\")");
  }
  if (v.has("to") && !v.text("to").empty()) {
    ATELIER_TRY(genai::parse_format(v.text("to")).status().with_context(ctx.option("to")));
  }
  if (!llm_configured() && v.text("to").empty()) {
    return failed_precondition("edit: no language model is configured here (start with ATELIER_LLM=provider:model)");
  }
  return genai::config_from_environment().status();
}

Result<OperationResult> run_edit(const std::vector<Upload>& uploads, const OptionValues& v, const RunContext& ctx) {
  ATELIER_ASSIGN_OR_RETURN(design::Scene scene, detail::parse_design_upload(uploads));
  ATELIER_ASSIGN_OR_RETURN(TempDir dir, TempDir::create({}, "atelier-edit-"));
  ATELIER_ASSIGN_OR_RETURN(auto original, detail::place_image_sources(scene, uploads, ctx, dir.path()));

  genai::EditOptions opt;
  if (v.text("profile") != "auto") opt.profile = genai::parse_profile(v.text("profile"));
  if (!v.text("to").empty()) {
    ATELIER_ASSIGN_OR_RETURN(opt.to_size, genai::parse_format(v.text("to")));
  }
  opt.allow_delete = v.flag("allow-delete");
  opt.base_dir = dir.path();
  if (ctx.text) opt.progress = [&](std::size_t, std::string_view delta) { ctx.text(delta); };
  std::unique_ptr<genai::LlmProvider> provider;
  if (llm_configured()) {
    ATELIER_ASSIGN_OR_RETURN(genai::LlmConfig config, genai::config_from_environment());
    ATELIER_ASSIGN_OR_RETURN(provider, genai::make_provider(config));
  }
  ATELIER_TRY(detail::check_cancelled(ctx));
  const design::Scene before = scene;
  design::Engine engine(std::move(scene));
  auto result = genai::edit_design(engine, v.text("request"), provider.get(), opt);
  if (!result.ok()) return result.status();
  detail::report_progress(ctx, 0.9);

  OperationResult out;
  const std::string render = v.text("render");
  if (render != "none") {
    design::RenderOptions ro;
    ATELIER_ASSIGN_OR_RETURN(OutputFile file,
                             detail::render_design(engine.scene(), render, render == "pdf" ? std::nullopt : std::optional<int>(0),
                                                   ro, ctx, dir.path()));
    out.json["render"] = file.name;
    out.files.push_back(std::move(file));
  }
  // The design names its images as the request did, not by this run's private files.
  design::Scene edited = engine.scene();
  for (auto& [id, block] : edited.blocks) {
    auto it = original.find(id);
    if (it != original.end() && block.type == design::BlockType::kImage) block.image.source = it->second;
  }
  const std::string json = design::scene_to_json(edited);
  OutputFile design_file;
  design_file.name = "design.json";
  design_file.content_type = "application/json";
  design_file.bytes.assign(json.begin(), json.end());
  out.files.insert(out.files.begin(), std::move(design_file));
  out.json["output"] = "design.json";
  out.json["profile"] = std::string(genai::to_string(result->profile));
  out.json["changes"] = genai::describe(result->changes, before);
  out.json["notes"] = result->report.notes;
  out.json["rounds"] = result->rounds;
  out.json["baseline"] = result->used_baseline;
  out.json["prompt_tokens"] = result->prompt_tokens;
  out.json["completion_tokens"] = result->completion_tokens;
  out.json["seconds"] = result->seconds;
  return out;
}

}  // namespace

namespace detail {

Operation edit_operation() {
  Operation op;
  op.spec = edit_spec();
  op.input = InputKind::kDesign;
  op.input_field = "design";
  op.any_extra_field = true;
  op.check = check_edit;
  op.run = run_edit;
  op.models = [](const OptionValues&) { return std::vector<std::string>{}; };
  return op;
}

}  // namespace detail
}  // namespace atelier::ops
