#include "cli/design_command.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "cli/common.h"
#include "core/file_plan.h"
#include "core/limits.h"
#include "core/text.h"
#include "design/engine.h"
#include "design/image_source.h"
#include "design/renderer.h"
#include "design/scene_json.h"
#include "genai/serializer.h"

namespace atelier::cli {
namespace {
namespace fs = std::filesystem;

// Loads a design, printing its warnings (not errors) one line each unless quiet.
Result<design::LoadedScene> load(const std::string& path, bool quiet, const design::LoadOptions& options = {}) {
  auto loaded = design::load_scene(path, options);
  if (loaded.ok() && !quiet) {
    for (const auto& w : loaded->warnings) std::fprintf(stderr, "atelier: warning: %s\n", w.c_str());
  }
  return loaded;
}

void print_warning(const std::string& message) { std::fprintf(stderr, "atelier: warning: %s\n", message.c_str()); }

std::string lower_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

// Every image source of `scene` as an input of `plan` ("the image of block 7").
void add_image_sources(FilePlan& plan, const design::Scene& scene, const fs::path& base_dir) {
  for (const design::ImageSource& s : design::image_sources(scene, base_dir)) {
    if (!s.url) plan.add_input(s.path, "the image of block " + std::to_string(s.block));
  }
}

struct RenderArgs {
  std::string design;
  std::string output;
  std::optional<int> page;  // from 1; none: the first page (PNG, SVG, JPEG, WebP) or every page (PDF)
  double scale = 1.0;
  bool quiet = false;
  bool strict = false;
};

int run_render(const RenderArgs& a) {
  if (!(a.scale > 0 && a.scale <= 16)) return print_error("--scale: expected a number in (0, 16]"), kExitUsage;
  if (a.page && *a.page < 1) return print_error("--page: pages are counted from 1"), kExitUsage;
  const std::string ext = lower_extension(a.output);
  const bool raster = ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".webp";
  if (!raster && ext != ".pdf" && ext != ".svg") {
    return print_error(a.output + ": unknown output format (use .png, .pdf, .svg, .jpg or .webp)"), kExitUsage;
  }
  // The renderer reports every image it cannot draw, with the reason: no load-time check.
  auto loaded = load(a.design, a.quiet, {.check_image_sources = false});
  if (!loaded.ok()) return print_error(loaded.status().message()), kExitFailed;
  const design::Scene& scene = loaded->scene;
  const fs::path base_dir = fs::path(a.design).parent_path();

  // Every check before any work: outputs against inputs, the page, the output size.
  FilePlan plan;
  plan.add_input(a.design, "the design");
  add_image_sources(plan, scene, base_dir);
  plan.add_output(a.output, "-o");
  if (Status s = plan.check(); !s.ok()) return print_error(s.message()), kExitUsage;
  const int pages = int(scene.pages.size());
  if (a.page && *a.page > pages) {
    return print_error("--page " + std::to_string(*a.page) + ": " + a.design + " has " + std::to_string(pages) +
                       " page" + (pages == 1 ? "" : "s")),
           kExitUsage;
  }
  std::optional<int> page;  // 0-based for the renderer
  if (a.page) page = *a.page - 1;
  else if (ext != ".pdf") page = 0;
  design::RenderReport report;
  design::RenderOptions opt;
  opt.scale = a.scale;
  opt.base_dir = base_dir;
  opt.limits = Limits{};
  opt.report = &report;
  opt.strict = a.strict;
  if (raster) {
    if (Status s = design::check_page_size(scene, page.value_or(0), opt); !s.ok()) {
      return print_error(a.design + ": " + s.message()), kExitUsage;
    }
  }
  Status rendered = design::render_to_file(scene, a.output, page, opt);
  if (!rendered.ok() && a.strict && !report.issues.empty()) {
    for (const auto& issue : report.issues) print_error(a.design + ": " + issue.message);
    return print_error(a.output + ": not written (--strict: " + std::to_string(report.issues.size()) + " problem" +
                       (report.issues.size() == 1 ? "" : "s") + ")"),
           kExitFailed;
  }
  if (!rendered.ok()) return print_error(rendered.message()), kExitFailed;
  if (!a.quiet) {
    for (const auto& issue : report.issues) print_warning(a.design + ": " + issue.message);
    std::printf("%s -> %s\n", a.design.c_str(), a.output.c_str());
  }
  return kExitOk;
}

struct DesignArgs {
  std::string design;
  long long id = 0;
  std::vector<std::string> assignments;  // prop=value
  std::string output;
  std::string profile = "full";
  bool quiet = false;
};

// The compact XML the language-model editor sends (genai/serializer.h), with its size.
int run_xml(const DesignArgs& a) {
  const auto profile = genai::parse_profile(a.profile);
  if (!profile) return print_error("--profile: expected layout, text, style or full, got '" + a.profile + "'"), kExitUsage;
  auto loaded = load(a.design, a.quiet);
  if (!loaded.ok()) return print_error(loaded.status().message()), kExitFailed;
  const std::string xml = genai::serialize(loaded->scene, *profile);
  std::printf("%s", xml.c_str());
  if (!a.quiet) std::fprintf(stderr, "atelier: %zu characters, about %d tokens\n", xml.size(), genai::estimate_tokens(xml));
  return kExitOk;
}

int run_info(const DesignArgs& a) {
  auto loaded = load(a.design, a.quiet);
  if (!loaded.ok()) return print_error(loaded.status().message()), kExitFailed;
  const design::Scene& scene = loaded->scene;
  std::printf("%s: %s, %zu page%s, %zu blocks\n", a.design.c_str(), scene.name.empty() ? "(unnamed)" : scene.name.c_str(),
              scene.pages.size(), scene.pages.size() == 1 ? "" : "s", scene.blocks.size());
  std::printf("%6s  %-24s %-8s %-12s %8s %8s %8s %8s  %s\n", "ID", "NAME", "TYPE", "KIND", "X", "Y", "WIDTH", "HEIGHT",
              "CONTENT");
  auto depth_of = [&](const design::Block& b) {
    int d = 0;
    for (design::BlockId p = b.parent; p != 0; p = scene.find(p)->parent) ++d;
    return d;
  };
  auto row = [&](const design::Block& b) {
    std::string name = std::string(std::size_t(2 * depth_of(b)), ' ') + (b.name.empty() ? "-" : b.name);
    std::string content;
    if (b.type == design::BlockType::kText) content = b.text.content;
    if (b.type == design::BlockType::kImage) content = b.image.source;
    if (b.type == design::BlockType::kShape) content = std::string(design::to_string(b.shape.shape));
    for (char& c : content) if (c == '\n') c = ' ';
    if (content.size() > 40) content = utf8_prefix(content, 37) + "...";
    std::printf("%6lld  %-24s %-8s %-12s %8g %8g %8g %8g  %s%s\n", static_cast<long long>(b.id), name.c_str(),
                std::string(design::to_string(b.type)).c_str(), b.kind.empty() ? "-" : b.kind.c_str(), b.x, b.y,
                b.width, b.height, content.c_str(), b.visible ? "" : " (hidden)");
  };
  for (design::BlockId page : scene.pages) {
    row(*scene.find(page));
    for (design::BlockId id : scene.descendants(page)) row(*scene.find(id));
  }
  return kExitOk;
}

// "d.json: block 7: MESSAGE" (MESSAGE may already start with "block 7").
std::string in_block(const DesignArgs& a, const std::string& message) {
  const std::string block = "block " + std::to_string(a.id);
  const bool named = message.rfind(block, 0) == 0 && (message.size() == block.size() || message[block.size()] == ':' ||
                                                      message[block.size()] == ' ');
  return a.design + ": " + (named ? message : block + ": " + message);
}

int run_set(const DesignArgs& a) {
  if (a.assignments.empty()) return print_error("design set: give at least one PROPERTY=VALUE"), kExitUsage;
  auto loaded = load(a.design, a.quiet);
  if (!loaded.ok()) return print_error(loaded.status().message()), kExitFailed;
  const fs::path base_dir = fs::path(a.design).parent_path();
  const design::Scene original = loaded->scene;
  design::Engine engine(std::move(loaded->scene));
  if (!engine.block(a.id)) return print_error(a.design + ": no block " + std::to_string(a.id)), kExitUsage;
  engine.begin("design set");
  for (const auto& assignment : a.assignments) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
      (void)engine.rollback();  // nothing was saved: the scene is dropped anyway
      return print_error(a.design + ": expected PROPERTY=VALUE, got '" + assignment + "'"), kExitUsage;
    }
    const std::string name = assignment.substr(0, eq);
    const design::PropertyInfo* info = design::find_property(name);
    if (!info) {
      (void)engine.rollback();  // nothing was saved: the scene is dropped anyway
      return print_error(in_block(a, "unknown property '" + name + "'")), kExitUsage;
    }
    auto value = design::parse_property(*info, std::string_view(assignment).substr(eq + 1));
    Status s = value.ok() ? engine.set(a.id, name, *value) : value.status();
    if (!s.ok()) {
      (void)engine.rollback();  // nothing was saved: the scene is dropped anyway
      return print_error(in_block(a, s.message())), kExitUsage;
    }
  }
  if (Status s = engine.commit(); !s.ok()) return print_error(in_block(a, s.message())), kExitFailed;
  const std::string out = a.output.empty() ? a.design : a.output;
  if (!a.output.empty()) {
    // -o may be the design itself (the default without -o), never one of its images.
    FilePlan plan;
    add_image_sources(plan, original, base_dir);
    add_image_sources(plan, engine.scene(), base_dir);
    plan.add_output(a.output, "-o");
    if (Status s = plan.check(); !s.ok()) return print_error(s.message()), kExitUsage;
  }
  const design::Block& block = *engine.scene().find(a.id);
  if (Status s = design::save_scene(out, engine.scene()); !s.ok()) return print_error(s.message()), kExitFailed;
  if (!a.quiet) {
    if (block.type == design::BlockType::kText) {
      if (auto fit = design::fit_text(block); fit.ok() && fit->cut()) {
        print_warning(a.design + ": " + design::text_cut_message(block, *fit));
      }
    }
    if (block.type == design::BlockType::kImage && !block.image.source.empty()) {
      if (Status s = design::check_image_source(block.image.source, base_dir); !s.ok()) print_warning(in_block(a, s.message()));
    }
    std::printf("%s: block %lld updated -> %s\n", a.design.c_str(), a.id, out.c_str());
  }
  return kExitOk;
}

}  // namespace

std::function<int()> add_render_command(CLI::App& app) {
  auto a = std::make_shared<RenderArgs>();
  CLI::App* cmd = app.add_subcommand("render", "Render a design to PNG, PDF (vector, for print) or SVG");
  cmd->add_option("design", a->design, "Design file (JSON, docs/scene-format.md)")->required();
  cmd->add_option("-o,--output", a->output, "Output: .png, .pdf, .svg (or .jpg/.webp previews)")->required();
  cmd->add_option("--page", a->page, "Page number, from 1 (default: the first; PDF: every page)");
  cmd->add_option("--scale", a->scale, "Output pixels per design unit, e.g. 2 for high density (default 1)");
  cmd->add_flag("--strict", a->strict,
                "Fail (exit 1, nothing written) on any warning: an image that cannot be drawn, text cut to its box");
  cmd->add_flag("-q,--quiet", a->quiet, "Errors only");
  return [a]() { return run_render(*a); };
}

std::function<int()> add_design_command(CLI::App& app) {
  auto a = std::make_shared<DesignArgs>();
  CLI::App* design = app.add_subcommand("design", "Inspect and edit designs (info | set | xml)");
  design->require_subcommand(1);
  CLI::App* info = design->add_subcommand("info", "List a design's pages and blocks as a table");
  info->add_option("design", a->design, "Design file")->required();
  info->add_flag("-q,--quiet", a->quiet, "No warnings");
  CLI::App* set = design->add_subcommand("set", "Set properties of one block: ID name=value ...");
  set->add_option("design", a->design, "Design file")->required();
  set->add_option("id", a->id, "Block id (see design info)")->required();
  set->add_option("assignments", a->assignments, "PROPERTY=VALUE, e.g. x=120 fill=#FF5500 text='Hello'");
  set->add_option("-o,--output", a->output, "Write here instead of over the design file");
  set->add_flag("-q,--quiet", a->quiet, "Errors only");
  CLI::App* xml = design->add_subcommand("xml", "Print the compact XML the language-model editor sends");
  xml->add_option("design", a->design, "Design file")->required();
  xml->add_option("--profile", a->profile, "layout | text | style | full (default full)");
  xml->add_flag("-q,--quiet", a->quiet, "No size line");
  return [=]() {
    if (info->parsed()) return run_info(*a);
    if (xml->parsed()) return run_xml(*a);
    return run_set(*a);
  };
}

}  // namespace atelier::cli
