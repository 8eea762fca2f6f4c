#include "cli/edit_command.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli/batch.h"
#include "cli/common.h"
#include "core/file_plan.h"
#include "core/progress.h"
#include "design/image_source.h"
#include "design/renderer.h"
#include "design/scene_json.h"
#include "genai/editor.h"
#include "genai/eval_edit.h"

namespace atelier::cli {
namespace {
namespace fs = std::filesystem;

// Model flags both commands share.
struct ModelArgs {
  std::string provider, model, base_url;
  double timeout = 0;
  CLI::Option* timeout_option = nullptr;
  void add(CLI::App& cmd) {
    cmd.add_option("--provider", provider, "openai | ollama | llamacpp (default: from ATELIER_LLM)");
    cmd.add_option("--model", model, "Model name, e.g. gpt-4o, llama3.1 (default: from ATELIER_LLM)");
    cmd.add_option("--base-url", base_url, "Server URL (default: ATELIER_LLM_BASE_URL, else the provider's)");
    timeout_option = cmd.add_option("--timeout", timeout, "Seconds for one model call (default 120)");
  }
  // A provider, or null when none is configured (no ATELIER_LLM, no --provider/--model).
  // An empty ATELIER_LLM counts as unset, as in config_from_environment.
  Result<std::unique_ptr<genai::LlmProvider>> make() const {
    if (timeout_option != nullptr && timeout_option->count() > 0 && !(timeout > 0 && timeout <= 86400 * 7)) {
      return invalid_argument("--timeout: expected a positive number of seconds (at most 604800), got " +
                              timeout_option->as<std::string>());
    }
    ATELIER_ASSIGN_OR_RETURN(genai::LlmConfig config, genai::config_from_environment());
    const char* spec = std::getenv("ATELIER_LLM");
    const bool from_env =
        spec != nullptr && std::string_view(spec).find_first_not_of(" \t\r\n") != std::string_view::npos;
    const bool configured = from_env || !provider.empty() || !model.empty();
    if (!provider.empty()) config.provider = provider;
    if (!model.empty()) config.model = model;
    if (!base_url.empty()) config.base_url = base_url;
    if (timeout > 0) {
      config.timeout = std::chrono::milliseconds(std::max<std::int64_t>(1, std::llround(timeout * 1000)));
    }
    if (!configured) return std::unique_ptr<genai::LlmProvider>();
    return genai::make_provider(config);
  }
};

struct EditArgs {
  std::string design, request, output, render, profile, brand, assets, to;
  bool dry_run = false, allow_delete = false, json = false, quiet = false, show_prompt = false;
  ModelArgs model;
};

// --show-prompt: the first request as it would be sent, and its size in tokens (exact from
// the provider's tokenizer where it has one, else estimated). Calls no model.
int show_prompt(const design::Scene& scene, const EditArgs& a, const genai::EditOptions& opt,
                genai::LlmProvider* provider) {
  const genai::EditPrompt p = genai::prepare_edit(scene, a.request, opt, provider && provider->name() == "llamacpp");
  int tokens = genai::estimate_tokens(p.request.system + p.request.user);
  std::string how = "estimated";
  if (provider) {
    auto counted = provider->count_tokens(p.request);
    if (counted.ok()) tokens = *counted, how = "exact, from " + provider->name() + "'s tokenizer";
    else if (counted.status().code() != StatusCode::kUnimplemented) how = "estimated; " + counted.status().message();
  }
  if (a.json) {
    nlohmann::json j = {{"profile", genai::to_string(p.profile)}, {"system", p.request.system},
                        {"user", p.request.user},                 {"grammar", p.request.grammar},
                        {"tokens", tokens},                       {"tokens_exact", how.starts_with("exact")}};
    print_json(j);
    return kExitOk;
  }
  std::printf("=== system\n%s\n=== user\n%s\n", p.request.system.c_str(), p.request.user.c_str());
  if (!p.request.grammar.empty()) std::printf("=== grammar\n%s\n", p.request.grammar.c_str());
  std::printf("=== %s: profile %s, prompt %d tokens (%s)\n", a.design.c_str(), std::string(genai::to_string(p.profile)).c_str(),
              tokens, how.c_str());
  return kExitOk;
}

int run_edit(const EditArgs& a) {
  genai::EditOptions opt;
  if (!a.profile.empty()) {
    opt.profile = genai::parse_profile(a.profile);
    if (!opt.profile) return print_error("--profile: expected layout, text, style or full, got '" + a.profile + "'"), kExitUsage;
  }
  if (!a.to.empty()) {
    auto size = genai::parse_format(a.to);
    if (!size.ok()) return print_error("--to: " + size.status().message()), kExitUsage;
    opt.to_size = *size;
  }
  if (!a.dry_run && !a.show_prompt && a.output.empty()) return print_error("edit: give -o OUT.json (or --dry-run)"), kExitUsage;
  if (!a.render.empty()) {
    // Checked with --dry-run too: a dry run answers whether the real command would run.
    std::string ext = fs::path(a.render).extension().string();
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (ext != ".png" && ext != ".pdf" && ext != ".svg" && ext != ".jpg" && ext != ".jpeg" && ext != ".webp") {
      return print_error("--render " + a.render + ": unknown output format (use .png, .pdf, .svg, .jpg or .webp)"),
             kExitUsage;
    }
  }
  if (!a.brand.empty()) {
    auto kit = genai::load_brand_kit(a.brand);
    if (!kit.ok()) return print_error(kit.status().message()), kExitUsage;
    opt.brand = *kit;
  }
  std::unique_ptr<genai::AssetSearch> assets;
  if (!a.assets.empty()) {
    auto lib = genai::open_asset_library(a.assets);
    if (!lib.ok()) return print_error(lib.status().message()), kExitUsage;
    assets = std::move(lib).value();
    opt.assets = assets.get();
  }
  opt.allow_delete = a.allow_delete;
  opt.dry_run = a.dry_run;
  opt.base_dir = fs::path(a.design).parent_path();
  auto provider = a.model.make();
  if (!provider.ok()) return print_error(provider.status().message()), kExitUsage;
  auto loaded = design::load_scene(a.design);
  if (!loaded.ok()) return print_error(loaded.status().message()), kExitFailed;

  if (a.show_prompt) return show_prompt(loaded->scene, a, opt, provider->get());

  // Every file the edit reads against every file it writes, before the model is called.
  if (!a.dry_run) {
    FilePlan plan;
    plan.add_input(a.design, "the design");
    for (const design::ImageSource& src : design::image_sources(loaded->scene, opt.base_dir)) {
      if (!src.url) plan.add_input(src.path, "the image of block " + std::to_string(src.block));
    }
    if (!a.brand.empty()) plan.add_input(a.brand, "the brand kit");
    if (!a.assets.empty()) plan.add_input_folder(a.assets, "a file of the asset folder");
    plan.add_output(a.output, "-o");
    if (!a.render.empty()) plan.add_output(a.render, "--render");
    if (Status s = plan.check(); !s.ok()) return print_error(s.message()), kExitUsage;
  }

  // The design as it was: the change lines name blocks (a removed one too) from it.
  const design::Scene before = loaded->scene;
  design::Engine engine(std::move(loaded->scene));
  const bool verbose = !a.quiet && !a.json && stderr_is_terminal();
  if (verbose) {
    opt.progress = [](std::size_t chars, std::string_view) {
      std::fprintf(stderr, "\r\033[Kreceiving the answer: %zu characters", chars);
      std::fflush(stderr);
    };
  }
  auto result = genai::edit_design(engine, a.request, provider->get(), opt);
  if (verbose) std::fprintf(stderr, "\r\033[K");
  if (!result.ok()) return print_error(a.design + ": " + result.status().message()), kExitFailed;

  if (!a.dry_run) {
    if (Status s = design::save_scene(a.output, engine.scene()); !s.ok()) return print_error(s.message()), kExitFailed;
    if (!a.render.empty()) {
      design::RenderOptions ro;
      ro.base_dir = fs::path(a.design).parent_path();
      if (Status s = design::render_to_file(engine.scene(), a.render, 0, ro); !s.ok()) {
        return print_error(s.message()), kExitFailed;
      }
    }
  }
  const std::vector<std::string> lines = genai::describe(result->changes, before);
  if (a.json) {
    nlohmann::json j = {{"profile", genai::to_string(result->profile)},
                        {"changes", lines},
                        {"notes", result->report.notes},
                        {"skipped_removals", result->report.skipped_removals},
                        {"rounds", result->rounds},
                        {"baseline", result->used_baseline},
                        {"prompt_tokens", result->prompt_tokens},
                        {"completion_tokens", result->completion_tokens},
                        {"seconds", result->seconds}};
    if (!a.dry_run) j["output"] = a.output;
    print_json(j);
    return kExitOk;
  }
  if (!a.quiet) {
    for (const auto& l : lines) std::printf("%s\n", l.c_str());
    for (const auto& n : result->report.notes) std::printf("note: %s\n", n.c_str());
    for (auto id : result->report.skipped_removals) {
      std::printf("note: the model removed block %lld; kept (use --allow-delete to allow removals)\n",
                  static_cast<long long>(id));
    }
    // Applied: what the engine did (removals kept without --allow-delete are not counted).
    const std::size_t count = a.dry_run ? lines.size() : std::size_t(std::max(0, result->report.applied));
    std::printf("%s: %zu change%s%s (profile %s, %d model call%s, %d + %d tokens, %s)%s\n", a.design.c_str(),
                count, count == 1 ? "" : "s", a.dry_run ? " proposed, nothing applied" : " applied",
                std::string(genai::to_string(result->profile)).c_str(), result->rounds, result->rounds == 1 ? "" : "s",
                result->prompt_tokens, result->completion_tokens, format_seconds(result->seconds).c_str(),
                a.dry_run ? "" : (" -> " + a.output).c_str());
  }
  return kExitOk;
}

struct EvalEditArgs {
  std::string cases;
  bool json = false;
  ModelArgs model;
};

int run_eval_edit(const EvalEditArgs& a) {
  auto cases = genai::load_edit_cases(a.cases);
  if (!cases.ok()) return print_error(cases.status().message()), kExitUsage;
  auto provider = a.model.make();
  if (!provider.ok()) return print_error(provider.status().message()), kExitUsage;
  ProgressBar bar(int(cases->size()), !a.json);
  genai::EditEvalReport r = genai::evaluate_edits(
      *cases, provider->get(), [&](std::size_t i, const std::string& id) { bar.update(int(i), id); });
  bar.clear();
  if (a.json) {
    nlohmann::json j = {{"cases", r.cases.size()},         {"validity_rate", r.validity_rate},
                        {"success_rate", r.success_rate},   {"preservation", r.preservation},
                        {"mean_seconds", r.mean_seconds},   {"median_seconds", r.median_seconds},
                        {"prompt_tokens", r.prompt_tokens}, {"completion_tokens", r.completion_tokens}};
    for (const auto& c : r.cases) {
      nlohmann::json checks = nlohmann::json::array();
      for (const auto& k : c.checks) checks.push_back({{"check", k.check}, {"passed", k.passed}, {"detail", k.detail}});
      j["results"].push_back({{"id", c.id},
                              {"valid", c.valid},
                              {"success", c.success},
                              {"baseline", c.baseline},
                              {"preservation", c.preservation},
                              {"rounds", c.rounds},
                              {"seconds", c.seconds},
                              {"error", c.error},
                              {"checks", checks}});
    }
    print_json(j);
    return kExitOk;
  }
  std::printf("%-28s %6s %8s %6s %8s %9s  %s\n", "case", "valid", "success", "calls", "seconds", "preserved", "detail");
  for (const auto& c : r.cases) {
    std::string detail = c.error;
    for (const auto& k : c.checks) {
      if (!k.passed && detail.empty()) detail = k.check + ": " + k.detail;
    }
    if (c.baseline && detail.empty()) detail = "format changed by the baseline";
    std::printf("%-28s %6s %8s %6d %8.2f %8.0f%%  %s\n", c.id.c_str(), c.valid ? "yes" : "no", c.success ? "yes" : "no",
                c.rounds, c.seconds, 100 * c.preservation, detail.c_str());
  }
  std::printf("\n%zu cases: validity %.0f%%, success %.0f%%, preservation %.0f%%, latency mean %.2f s (median %.2f s), "
              "tokens %ld prompt + %ld answer\n",
              r.cases.size(), 100 * r.validity_rate, 100 * r.success_rate, 100 * r.preservation, r.mean_seconds,
              r.median_seconds, r.prompt_tokens, r.completion_tokens);
  return kExitOk;
}

}  // namespace

std::function<int()> add_edit_command(CLI::App& app) {
  auto a = std::make_shared<EditArgs>();
  CLI::App* cmd = app.add_subcommand("edit", "Edit a design from a plain-language request through a language model");
  cmd->add_option("design", a->design, "Design file (JSON)")->required();
  cmd->add_option("request", a->request, "What to change, e.g. \"Make the logo bigger\"")->required();
  cmd->add_option("-o,--output", a->output, "Where to save the edited design");
  cmd->add_option("--render", a->render, "Also render the result (.png, .pdf, .svg)");
  cmd->add_flag("--dry-run", a->dry_run, "Print the change set; apply and save nothing");
  cmd->add_flag("--show-prompt", a->show_prompt, "Print the prompt and its size in tokens; call no model");
  cmd->add_option("--profile", a->profile, "Attributes sent: layout | text | style | full (default: from the request)");
  cmd->add_option("--brand", a->brand, "Brand kit (JSON: name, colors, fonts, logo)");
  cmd->add_option("--assets", a->assets, "Asset folder (with assets.json) for images whose alt text changes");
  cmd->add_option("--to", a->to, "Change the page format: WxH or a preset (e.g. 1280x720, youtube-thumbnail)");
  cmd->add_flag("--allow-delete", a->allow_delete, "Apply removals of blocks the model leaves out");
  cmd->add_flag("--json", a->json, "Report as JSON");
  cmd->add_flag("-q,--quiet", a->quiet, "Errors only");
  a->model.add(*cmd);
  return [a]() { return run_edit(*a); };
}

std::function<int()> add_eval_edit_command(CLI::App& eval) {
  auto a = std::make_shared<EvalEditArgs>();
  CLI::App* cmd = eval.add_subcommand("edit", "Validity, success, preservation, latency and tokens of edits on test cases");
  cmd->add_option("cases", a->cases, "Cases file (JSON lines), e.g. examples/edit-cases/cases.jsonl")->required();
  cmd->add_flag("--json", a->json, "JSON instead of a table");
  a->model.add(*cmd);
  return [a]() { return run_eval_edit(*a); };
}

}  // namespace atelier::cli
