#include "genai/editor.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/text.h"
#include "design/properties.h"
#include "genai/answer.h"
#include "genai/grammar.h"
#include "genai/relayout.h"
#include "vision/smart_crop.h"

namespace atelier::genai {
namespace {

#include "genai/prompts.inc"  // generated from prompts/*.txt: kEditSystem, kEditUser, ...

std::string replace_all(std::string text, std::string_view key, std::string_view value) {
  for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size())) {
    text.replace(at, key.size(), value);
  }
  return text;
}

std::string brand_text(const std::optional<BrandKit>& brand) {
  if (!brand) return "";
  std::string colors, fonts;
  for (const auto& c : brand->colors) colors += (colors.empty() ? "" : ", ") + design::color_to_hex(c);
  std::vector<std::string> seen;  // a kit may name one family for several roles
  for (const auto& f : brand->fonts) {
    if (std::find(seen.begin(), seen.end(), f) != seen.end()) continue;
    seen.push_back(f);
    fonts += (fonts.empty() ? "" : ", ") + f;
  }
  std::string text(kBrand);
  text = replace_all(text, "{{name}}", brand->name.empty() ? "brand" : brand->name);
  text = replace_all(text, "{{colors}}", colors.empty() ? "(any)" : colors);
  text = replace_all(text, "{{fonts}}", fonts.empty() ? "(keep the design's)" : fonts);
  text = replace_all(text, "{{logo}}", brand->logo.empty() ? "" : "\nLogo: " + brand->logo + ".");
  return "\n" + text;
}

// Every registry property that differs between two versions of a scene, as a ChangeSet
// (blocks only in `after` are not listed: relayout creates none).
ChangeSet diff_scenes(const design::Scene& before, const design::Scene& after) {
  ChangeSet out;
  for (const auto& [id, b] : before.blocks) {
    const design::Block* a = after.find(id);
    if (!a) {
      out.removed.push_back(id);
      continue;
    }
    for (const design::PropertyInfo* info : design::properties_of(b.type)) {
      auto old_v = design::get_property(b, info->name), new_v = design::get_property(*a, info->name);
      if (old_v.ok() && new_v.ok() && !(*old_v == *new_v)) {
        out.modified.push_back({id, std::string(info->name), *old_v, *new_v});
      }
    }
  }
  return out;
}

// A format change: the answer must give the page its new size (it was sent at that size;
// the answer is diffed against the design as it is, so the size is a change of the
// ChangeSet like any other). Returns the problem, empty when the size is right; a size
// within rounding of the new one (the serializer writes whole numbers) is set exactly.
std::string check_page_size(ChangeSet& changes, const design::Block& page, std::pair<double, double> size) {
  double w = page.width, h = page.height;
  PropertyChange* cw = nullptr;
  PropertyChange* ch = nullptr;
  for (PropertyChange& c : changes.modified) {
    if (c.id != page.id) continue;
    const double* v = std::get_if<double>(&c.new_value);
    if (v && c.property == "width") cw = &c, w = *v;
    if (v && c.property == "height") ch = &c, h = *v;
  }
  auto num = [](double v) { return std::to_string(std::lround(v)); };
  if (std::abs(w - size.first) > 0.5 || std::abs(h - size.second) > 0.5) {
    return "<page id=\"" + std::to_string(page.id) + "\">: the page must be " + num(size.first) + " x " +
           num(size.second) + " (the new format), got " + num(w) + " x " + num(h);
  }
  if (cw) cw->new_value = design::PropertyValue(size.first);
  if (ch) ch->new_value = design::PropertyValue(size.second);
  return {};
}

// The deterministic format change (relayout.h), also for --dry-run (on a copy).
Result<EditResult> baseline_format(design::Engine& engine, const EditOptions& opt, EditResult result,
                                   std::string why) {
  const design::Scene before = engine.scene();
  design::Engine scratch(before);
  design::Engine& target = opt.dry_run ? scratch : engine;
  const design::BlockId page = before.pages.front();
  RelayoutOptions ro;
  ro.base_dir = opt.base_dir;
  ATELIER_TRY(relayout_page(target, page, opt.to_size->first, opt.to_size->second, ro));
  result.used_baseline = true;
  result.changes = diff_scenes(before, target.scene());
  result.report.applied = opt.dry_run ? 0 : int(result.changes.modified.size());
  result.report.notes.push_back("format changed by the deterministic relayout (" + why + ")");
  return result;
}

// The options' profile, else layout for a format change, else the request's guess.
Profile pick_profile(std::string_view request, const EditOptions& opt) {
  return opt.profile.value_or(opt.to_size ? Profile::kLayout : guess_profile(request));
}

}  // namespace

Result<BrandKit> load_brand_kit(const std::filesystem::path& path) {
  ATELIER_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, read_file(path, 1 << 20));
  // ordered_json: colours and fonts given as an object keep the file's order (the primary
  // colour first), not the keys' alphabetical order.
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(bytes.begin(), bytes.end(), nullptr, false);
  const std::string where = path.string();
  if (j.is_discarded() || !j.is_object()) return invalid_argument(where + ": not a JSON object");
  BrandKit kit;
  try {
    kit.name = j.value("name", "");
    kit.logo = j.value("logo", "");
    auto values = [](const nlohmann::ordered_json& v) {
      std::vector<std::string> out;
      if (v.is_array()) for (const auto& x : v) out.push_back(x.get<std::string>());
      else if (v.is_object()) for (const auto& [k, x] : v.items()) out.push_back(x.get<std::string>());
      return out;
    };
    if (j.contains("colors")) {
      for (const std::string& c : values(j["colors"])) {
        auto colour = image::parse_color(c);
        if (!colour.ok()) return invalid_argument(where + ": " + colour.status().message());
        kit.colors.push_back(*colour);
      }
    }
    if (j.contains("fonts")) kit.fonts = values(j["fonts"]);
  } catch (const nlohmann::ordered_json::exception& e) {
    return invalid_argument(where + ": expected {\"name\", \"colors\", \"fonts\", \"logo\"}: " + e.what());
  }
  if (kit.colors.empty()) return invalid_argument(where + ": a brand kit needs at least one colour");
  return kit;
}

LlmRequest build_prompt(const design::Scene& scene, std::string_view request, Profile profile,
                        const std::optional<BrandKit>& brand) {
  LlmRequest req;
  req.system = std::string(kEditSystem);
  std::string user(kEditUser);
  user = replace_all(user, "{{brand}}", brand_text(brand));
  user = replace_all(user, "{{design}}", serialize(scene, profile));
  user = replace_all(user, "{{request}}", request);
  req.user = std::move(user);
  return req;
}

Result<std::pair<double, double>> parse_format(std::string_view text) {
  for (const auto& p : vision::crop_presets()) {
    if (text == p.name) return std::pair<double, double>{p.width, p.height};
  }
  const auto x = text.find_first_of("xX");
  if (x != std::string_view::npos) {
    int w = 0, h = 0;
    auto num = [](std::string_view s, int& v) {
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      return !s.empty() && ec == std::errc() && p == s.data() + s.size();
    };
    if (num(text.substr(0, x), w) && num(text.substr(x + 1), h) && w > 0 && h > 0 && w <= 20000 && h <= 20000) {
      return std::pair<double, double>{w, h};
    }
  }
  return invalid_argument("bad format '" + std::string(text) + "' (expected WxH such as 1280x720, or a preset: atelier crop --list-presets)");
}

EditPrompt prepare_edit(const design::Scene& scene, std::string_view request, const EditOptions& opt,
                        bool with_grammar) {
  EditPrompt out;
  out.profile = pick_profile(request, opt);
  // What the model sees: for a format change, the page already at its new size.
  out.sent = scene;
  std::string task(request);
  if (opt.to_size && !out.sent.pages.empty()) {
    design::Block& p = *out.sent.find(out.sent.pages.front());
    std::string format(kFormat);
    format = replace_all(format, "{{width}}", std::to_string(int(std::lround(opt.to_size->first))));
    format = replace_all(format, "{{height}}", std::to_string(int(std::lround(opt.to_size->second))));
    format = replace_all(format, "{{old_width}}", std::to_string(int(std::lround(p.width))));
    format = replace_all(format, "{{old_height}}", std::to_string(int(std::lround(p.height))));
    format = replace_all(format, "{{request}}", request);
    task = trim(format);  // the template's final newline is no part of the request
    p.width = opt.to_size->first;
    p.height = opt.to_size->second;
  }
  out.request = build_prompt(out.sent, task, out.profile, opt.brand);
  if (with_grammar) out.request.grammar = design_grammar(out.sent, out.profile);
  return out;
}

Result<EditResult> edit_design(design::Engine& engine, std::string_view request, LlmProvider* provider,
                               const EditOptions& opt) {
  EditResult result;
  // Reports the calls' cost on every way out, errors included.
  struct StatsOut {
    const EditResult& r;
    CallStats* out;
    ~StatsOut() {
      if (out) *out = {r.rounds, r.seconds, r.prompt_tokens, r.completion_tokens};
    }
  } stats_out{result, opt.stats};
  if (engine.scene().pages.empty()) return invalid_argument("the design has no page");
  const design::BlockId page = engine.scene().pages.front();
  if (!provider) {
    result.profile = pick_profile(request, opt);
    if (opt.to_size) return baseline_format(engine, opt, result, "no language model configured");
    return failed_precondition("no language model configured: set ATELIER_LLM (e.g. openai:gpt-4o, ollama:llama3.1) "
                               "or give --provider and --model");
  }
  EditPrompt prompt = prepare_edit(engine.scene(), request, opt, provider->name() == "llamacpp");
  result.profile = prompt.profile;
  LlmRequest& req = prompt.request;
  std::vector<std::string> errors;
  bool valid = false;
  for (int round = 0; round <= opt.repair_rounds && !valid; ++round) {
    Result<LlmAnswer> answer = provider->complete(req, opt.progress);
    ++result.rounds;
    if (!answer.ok()) {
      if (opt.to_size) return baseline_format(engine, opt, result, "the model failed: " + answer.status().message());
      return answer.status();
    }
    result.seconds += answer->seconds;
    result.prompt_tokens += answer->prompt_tokens > 0 ? answer->prompt_tokens : estimate_tokens(req.system + req.user);
    result.completion_tokens += answer->completion_tokens > 0 ? answer->completion_tokens : estimate_tokens(answer->text);
    Result<std::string> doc = extract_document(answer->text);
    if (!doc.ok()) {
      errors = {doc.status().message()};
    } else {
      // Checked against the design as it is: for a format change the page's new size is
      // then a change like the others, and a block inside the old page must end inside the
      // new one (against `sent`, blocks still at their old places outside the new page
      // would count as outside already and pass).
      Validation v = validate_and_diff(*doc, engine.scene(), result.profile);
      errors = v.errors;
      if (v.ok() && opt.to_size) {
        if (std::string e = check_page_size(v.changes, *engine.scene().find(page), *opt.to_size); !e.empty()) {
          errors.push_back(std::move(e));
        }
      }
      if (errors.empty()) {
        result.changes = std::move(v.changes);
        valid = true;
      }
    }
    if (!valid && round < opt.repair_rounds) {  // one bounded repair: the problems go back
      std::string problems;
      for (const auto& e : errors) problems += (problems.empty() ? "- " : "\n- ") + e;
      // The prompt ends with "Answer:"; the model's answer follows it, then the problems.
      if (!req.user.ends_with('\n')) req.user += '\n';
      req.user += answer->text;
      if (!req.user.ends_with('\n')) req.user += '\n';
      req.user += "\n" + replace_all(std::string(kRepairUser), "{{errors}}", problems);
    }
  }
  if (!valid) {
    result.validation_errors = errors;
    if (opt.to_size) return baseline_format(engine, opt, result, "the model's answer stayed invalid");
    return invalid_argument("the model's answer is still invalid after " + std::to_string(opt.repair_rounds) +
                            " repair round" + (opt.repair_rounds == 1 ? "" : "s") + ": " +
                            (errors.empty() ? "unknown problem" : errors.front()));
  }
  if (opt.dry_run) return result;

  // A format change's new page size is in the ChangeSet (check_page_size): apply_changes
  // sets it first (document order) and clamps every block of the page into the new size.
  engine.begin("edit: " + utf8_prefix(request, 60));
  ApplyOptions ao;
  ao.allow_delete = opt.allow_delete;
  ao.assets = opt.assets;
  Result<ApplyReport> report = apply_changes(engine, result.changes, ao);
  if (!report.ok()) {
    (void)engine.rollback();
    return report.status();
  }
  ATELIER_TRY(engine.commit());
  result.report = std::move(report).value();
  return result;
}

}  // namespace atelier::genai
