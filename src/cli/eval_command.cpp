#include "cli/eval_command.h"

#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/common.h"
#include "cli/edit_command.h"
#include "vision/saliency_eval.h"

namespace atelier::cli {
namespace {

struct EvalArgs {
  std::string dir;
  std::string saliency = "auto";
  std::string model = "isnet";
  std::vector<std::string> aspects{"1:1", "9:16", "16:9"};
  std::vector<std::string> extras;  // NAME=FILE.json
  float border_penalty = vision::CropOptions{}.border_penalty;
  float centre_power = vision::SaliencyWeights{}.centre_power;
  float face_weight = vision::SaliencyWeights{}.faces;
  bool per_image = false;
  bool json = false;
  RuntimeFlags runtime;
};

Result<std::vector<vision::FixationImage>> dataset_and_options(const EvalArgs& a, vision::SaliencyOptions& opt) {
  ATELIER_ASSIGN_OR_RETURN(opt.source, vision::parse_saliency_source(a.saliency));
  opt.model = a.model;
  opt.weights.centre_power = a.centre_power;
  opt.weights.faces = a.face_weight;
  ATELIER_ASSIGN_OR_RETURN(opt.backend, backend_options(a.runtime));
  return vision::load_fixation_dataset(a.dir);
}

int run_eval_saliency(const EvalArgs& a) {
  vision::SaliencyOptions opt;
  auto images = dataset_and_options(a, opt);
  if (!images.ok()) return print_error(images.status().message()), kExitUsage;
  auto report = vision::evaluate_saliency(*images, opt);
  if (!report.ok()) return print_error(report.status().message()), kExitFailed;
  if (a.json) {
    nlohmann::json j = {{"source", report->source}, {"images", report->rows.size()}};
    auto scores = [](const vision::SaliencyScores& s) { return nlohmann::json{{"cc", s.cc}, {"sim", s.sim}, {"kl", s.kl}}; };
    j["mean"] = {{"atelier", scores(report->mean.atelier)}, {"centre", scores(report->mean.centre)}};
    for (const auto& r : report->rows) j["rows"][r.stem] = {{"atelier", scores(r.atelier)}, {"centre", scores(r.centre)}};
    print_json(j);
    return kExitOk;
  }
  std::printf("saliency on %s: %zu images, source %s (CC and SIM: higher is better; KL: lower)\n", a.dir.c_str(),
              report->rows.size(), report->source.c_str());
  std::printf("%-24s %8s %8s %8s   %8s %8s %8s\n", "image", "CC", "SIM", "KL", "centre CC", "SIM", "KL");
  auto print_row = [](const vision::SaliencyEvalRow& r) {
    std::printf("%-24s %8.4f %8.4f %8.4f   %8.4f %8.4f %8.4f\n", r.stem.c_str(), r.atelier.cc, r.atelier.sim,
                r.atelier.kl, r.centre.cc, r.centre.sim, r.centre.kl);
  };
  if (a.per_image) for (const auto& r : report->rows) print_row(r);
  print_row(report->mean);
  return kExitOk;
}

int run_eval_crop(const EvalArgs& a) {
  vision::CropOptions opt;
  opt.border_penalty = a.border_penalty;
  auto images = dataset_and_options(a, opt.saliency);
  if (!images.ok()) return print_error(images.status().message()), kExitUsage;
  std::vector<vision::Aspect> aspects;
  for (const auto& text : a.aspects) {
    auto aspect = vision::parse_aspect(text);
    if (!aspect.ok()) return print_error("--aspect: " + aspect.status().message()), kExitUsage;
    aspects.push_back(*aspect);
  }
  std::map<std::string, vision::ExtraCrops> extras;
  for (const auto& e : a.extras) {
    const auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0) return print_error("--extra: expected NAME=FILE.json, got '" + e + "'"), kExitUsage;
    auto crops = vision::load_extra_crops(e.substr(eq + 1));
    if (!crops.ok()) return print_error(crops.status().message()), kExitUsage;
    extras[e.substr(0, eq)] = std::move(crops).value();
  }
  auto report = vision::evaluate_crop(*images, aspects, opt, extras);
  if (!report.ok()) return print_error(report.status().message()), kExitFailed;
  if (a.json) {
    nlohmann::json j = {{"images", report->rows.size()}, {"methods", report->methods}};
    for (const auto& [aspect, by_method] : report->mean.kept) j["mean"][aspect] = by_method;
    for (const auto& r : report->rows) j["rows"][r.stem] = r.kept;
    print_json(j);
    return kExitOk;
  }
  std::printf("crop on %s: %zu images; share of fixation density kept inside the crop (higher is better)\n",
              a.dir.c_str(), report->rows.size());
  std::printf("%-8s", "aspect");
  for (const auto& m : report->methods) std::printf(" %12s", m.c_str());
  std::printf(" %14s\n", "gap closed");
  auto print_rows = [&](const vision::CropEvalRow& r, const char* label) {
    for (const auto& aspect : report->aspects) {
      const auto& k = r.kept.at(aspect.name);
      std::printf("%-8s", (std::string(label) + aspect.name).c_str());
      for (const auto& m : report->methods) std::printf(" %12.4f", k.at(m));
      const double gap = k.at("best") - k.at("centre");
      if (gap > 1e-12) std::printf(" %13.0f%%\n", 100.0 * (k.at("atelier") - k.at("centre")) / gap);
      else std::printf(" %14s\n", "-");
    }
  };
  if (a.per_image) {
    for (const auto& r : report->rows) {
      std::printf("%s\n", r.stem.c_str());
      print_rows(r, "  ");
    }
    std::printf("mean\n");
  }
  print_rows(report->mean, "");
  return kExitOk;
}

}  // namespace

std::function<int()> add_eval_command(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* eval = app.add_subcommand("eval", "Measure quality on a dataset with ground truth (saliency | crop)");
  eval->require_subcommand(1);
  CLI::App* sal = eval->add_subcommand("saliency", "CC, SIM and KL of saliency maps against eye-fixation density maps");
  CLI::App* crop = eval->add_subcommand("crop", "Share of fixation density kept by smart crops, centre crops, the best window");
  for (CLI::App* cmd : {sal, crop}) {
    cmd->add_option("dir", a->dir, "Dataset folder with stimuli/ and density_maps/ (e.g. ../shared/eval-dev/nus_scene50)")
        ->required();
    cmd->add_option("--saliency", a->saliency, "auto | model | fast (default auto)");
    cmd->add_option("--model", a->model, "Segmentation model for the subject term (default isnet)");
    cmd->add_flag("--per-image", a->per_image, "A row per image, not only the means");
    cmd->add_option("--centre-power", a->centre_power, "Saliency weight: centre bias exponent (for tuning)");
    cmd->add_option("--face-weight", a->face_weight, "Saliency weight: face prior (for tuning)");
    cmd->add_flag("--json", a->json, "JSON instead of a table");
    add_runtime_flags(*cmd, a->runtime);
  }
  crop->add_option("--aspect", a->aspects, "Aspect ratios to evaluate (default 1:1 9:16 16:9)");
  crop->add_option("--border-penalty", a->border_penalty, "Weight of saliency cut by a window's border (for tuning)");
  crop->add_option("--extra", a->extras, "Another method's crops: NAME=FILE.json ({\"stem\": {\"W:H\": [x,y,w,h]}})");
  auto edit = add_eval_edit_command(*eval);
  return [=]() {
    if (sal->parsed()) return run_eval_saliency(*a);
    if (crop->parsed()) return run_eval_crop(*a);
    return edit();
  };
}

}  // namespace atelier::cli
