#include "genai/eval_edit.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>

#include "core/files.h"
#include "core/text.h"
#include "design/renderer.h"
#include "design/scene_json.h"

namespace atelier::genai {
namespace fs = std::filesystem;
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

std::set<std::string> strings_of(const nlohmann::json& check, const char* key) {
  std::set<std::string> out;
  if (check.contains(key)) for (const auto& v : check[key]) out.insert(v.get<std::string>());
  return out;
}

// Auto-fit shrink texts count as fitting down to this share of their size (ApplyOptions'
// min_font_scale default).
const double kMinShrinkScale = ApplyOptions{}.min_font_scale;

bool excluded_kind(const design::Block& b, const std::set<std::string>& kinds) { return kinds.count(b.kind) > 0; }

// Top-level blocks of a kind: those whose parent does not have the same kind (a logo group
// counts once, not with its parts).
double area_of_kind(const design::Scene& s, const std::string& kind) {
  double area = 0;
  for (const auto& [id, b] : s.blocks) {
    if (b.type == design::BlockType::kPage || b.kind != kind) continue;
    const design::Block* parent = s.find(b.parent);
    if (parent && parent->kind == kind) continue;
    area += b.width * b.height;
  }
  return area;
}

// Word-level language evidence: stop words of German and English.
int count_words(const std::string& text, const std::set<std::string>& words) {
  int n = 0;
  std::string w;
  auto flush = [&] {
    if (!w.empty() && words.count(lower(w))) ++n;
    w.clear();
  };
  for (char c : text) {
    if (std::isalpha(static_cast<unsigned char>(c)) || (c & 0x80)) w += c;
    else flush();
  }
  flush();
  return n;
}

const std::set<std::string> kGerman = {"der",  "die",   "das",   "und",   "ist",    "mit",  "für",   "auf",  "ein",
                                       "eine", "einen", "nicht", "zu",    "zum",    "zur",  "von",   "im",   "in",
                                       "den",  "dem",   "des",   "sie",   "wir",    "ihr",  "ihre",  "jetzt", "hier",
                                       "unser", "unsere", "neue", "neuen", "bei",   "nur",  "diese", "dieser", "woche",
                                       "jede", "jeden", "jedes", "alle",  "am",     "um",   "uhr",   "über", "sich",
                                       "sind", "wird",  "werden", "dein", "deine",  "euch", "auch",  "noch", "oder"};
const std::set<std::string> kEnglish = {"the",  "and",  "is",   "with", "for",   "on",    "a",    "an",   "to",
                                        "of",   "our",  "your", "this", "now",   "at",    "only", "every", "new",
                                        "we",   "you",  "are",  "be",   "by",    "from",  "that", "it",   "my",
                                        "here", "week", "all",  "save", "seat",  "shop",  "free", "book", "apply"};

bool looks_german(const std::string& text) {
  const int de = count_words(text, kGerman), en = count_words(text, kEnglish);
  const bool umlaut = text.find("ä") != std::string::npos || text.find("ö") != std::string::npos ||
                      text.find("ü") != std::string::npos || text.find("ß") != std::string::npos ||
                      text.find("Ä") != std::string::npos || text.find("Ö") != std::string::npos ||
                      text.find("Ü") != std::string::npos;
  return de > en || (en == 0 && (de > 0 || umlaut));
}

double colour_distance(const design::Color& a, const design::Color& b) {
  return 255.0 * std::max({std::abs(a.r - b.r), std::abs(a.g - b.g), std::abs(a.b - b.b)});
}

// Blocks outside the check's exceptions, and how many of them are unchanged; `first` names
// the first changed one.
struct Preserved {
  int checked = 0, same = 0;
  std::string first;
};

Preserved preserved(const nlohmann::json& check, const design::Scene& before, const design::Scene& after) {
  const std::set<std::string> except_kinds = strings_of(check, "except_kinds");
  const std::set<std::string> except_props = strings_of(check, "except_properties");
  std::set<long long> except_ids;
  if (check.contains("except_ids")) for (const auto& v : check["except_ids"]) except_ids.insert(v.get<long long>());
  Preserved p;
  for (const auto& [id, b] : before.blocks) {
    if (excluded_kind(b, except_kinds) || except_ids.count(id)) continue;
    ++p.checked;
    const design::Block* a = after.find(id);
    bool unchanged = a != nullptr;
    for (const design::PropertyInfo* info : design::properties_of(b.type)) {
      if (!unchanged) break;
      if (except_props.count(std::string(info->name))) continue;
      auto v0 = design::get_property(b, info->name), v1 = design::get_property(*a, info->name);
      unchanged = v0.ok() && v1.ok() && *v0 == *v1;
    }
    p.same += unchanged;
    if (!unchanged && p.first.empty()) p.first = "block " + std::to_string(id) + " (" + b.name + ") changed";
  }
  return p;
}

}  // namespace

Result<std::vector<EditCase>> load_edit_cases(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return not_found(path.string() + ": no such file");
  std::vector<EditCase> cases;
  std::string line;
  int n = 0;
  const fs::path dir = path.parent_path();
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path.string() + ":" + std::to_string(n);
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return invalid_argument(where + ": not a JSON object");
    for (const char* key : {"id", "design", "request", "checks"}) {
      if (!j.contains(key)) return invalid_argument(where + ": missing '" + key + "'");
    }
    try {
      EditCase c;
      c.id = j["id"].get<std::string>();
      c.design = dir / j["design"].get<std::string>();
      c.request = j["request"].get<std::string>();
      if (j.contains("to")) c.to = j["to"].get<std::string>();
      if (j.contains("brand")) c.brand = dir / j["brand"].get<std::string>();
      if (j.contains("profile")) {
        c.profile = j["profile"].get<std::string>();
        if (!parse_profile(*c.profile)) return invalid_argument(where + ": unknown profile '" + *c.profile + "'");
      }
      if (c.to) {
        if (auto size = parse_format(*c.to); !size.ok()) return invalid_argument(where + ": 'to': " + size.status().message());
      }
      c.checks = j["checks"];
      if (!c.checks.is_array()) return invalid_argument(where + ": 'checks' must be an array");
      if (j.contains("scripted")) c.scripted = j["scripted"].get<std::vector<std::string>>();
      cases.push_back(std::move(c));
    } catch (const nlohmann::json::exception& e) {
      return invalid_argument(where + ": " + e.what());
    }
  }
  if (cases.empty()) return invalid_argument(path.string() + ": no cases");
  return cases;
}

CheckOutcome run_check(const nlohmann::json& check, const design::Scene& before, const design::Scene& after,
                       const std::optional<BrandKit>& brand) {
  CheckOutcome out;
  out.check = check.value("check", "");
  char buf[256];
  const std::set<std::string> except_kinds = strings_of(check, "except_kinds");
  if (out.check == "area_grew") {
    const std::string kind = check.value("kind", "logo");
    const double min = check.value("min_ratio", 1.2);
    const double a0 = area_of_kind(before, kind), a1 = area_of_kind(after, kind);
    const double ratio = a0 > 0 ? a1 / a0 : 0;
    out.passed = a0 > 0 && ratio >= min;
    std::snprintf(buf, sizeof buf, "%s area x%.2f (>= %.2f)", kind.c_str(), ratio, min);
    out.detail = buf;
  } else if (out.check == "language") {
    // A text passes with more German than English stop words, or with no English ones and
    // either German evidence or a change (a translated name or title like "Leiterin
    // Produktdesign" has no stop words). Unchanged texts without evidence (names, contact
    // lines) need except_ids.
    std::set<long long> except_ids;
    if (check.contains("except_ids")) for (const auto& v : check["except_ids"]) except_ids.insert(v.get<long long>());
    out.passed = true;
    int texts = 0;
    for (const auto& [id, b] : after.blocks) {
      if (b.type != design::BlockType::kText || !b.visible || excluded_kind(b, except_kinds) || except_ids.count(id)) {
        continue;
      }
      ++texts;
      const design::Block* old = before.find(id);
      const bool changed = !old || old->text.content != b.text.content;
      if (!looks_german(b.text.content) && !(changed && count_words(b.text.content, kEnglish) == 0)) {
        out.passed = false;
        out.detail = "block " + std::to_string(id) + " '" + utf8_prefix(b.text.content, 40) + "' is not German";
        break;
      }
    }
    if (out.passed) out.detail = std::to_string(texts) + " texts in German";
  } else if (out.check == "palette") {
    std::vector<design::Color> palette;
    if (check.value("brand", false) && brand) palette = brand->colors;
    if (check.contains("colors")) {
      for (const auto& c : check["colors"]) {
        if (auto colour = image::parse_color(c.get<std::string>()); colour.ok()) palette.push_back(*colour);
      }
    }
    const double tol = check.value("tolerance", 8.0);
    out.passed = !palette.empty();
    auto in_palette = [&](const design::Color& c) {
      return std::any_of(palette.begin(), palette.end(), [&](const auto& p) { return colour_distance(c, p) <= tol; });
    };
    for (const auto& [id, b] : after.blocks) {
      if (!out.passed) break;
      if (b.type == design::BlockType::kImage || b.type == design::BlockType::kGroup || excluded_kind(b, except_kinds)) continue;
      std::vector<std::pair<const char*, design::Color>> used;
      if (b.fill.enabled) used.push_back({"fill", b.fill.color});
      if (b.stroke.enabled) used.push_back({"stroke", b.stroke.color});
      if (b.type == design::BlockType::kText) used.push_back({"text colour", b.text.color});
      for (const auto& [what, c] : used) {
        if (!in_palette(c)) {
          out.passed = false;
          out.detail = "block " + std::to_string(id) + " " + what + " " + design::color_to_hex(c) + " is not a brand colour";
          break;
        }
      }
    }
    if (out.passed) out.detail = "every colour from the palette";
  } else if (out.check == "page_size") {
    const design::Block* p = after.pages.empty() ? nullptr : after.find(after.pages.front());
    const double w = check.value("w", 0.0), h = check.value("h", 0.0);
    out.passed = p && std::abs(p->width - w) < 0.5 && std::abs(p->height - h) < 0.5;
    std::snprintf(buf, sizeof buf, "page %gx%g (want %gx%g)", p ? p->width : 0, p ? p->height : 0, w, h);
    out.detail = buf;
  } else if (out.check == "inside_page") {
    out.passed = true;
    for (const auto& [id, b] : after.blocks) {
      if (b.type == design::BlockType::kPage || !b.visible || excluded_kind(b, except_kinds)) continue;
      const design::Block* p = after.find(after.page_of(id));
      if (!p) continue;
      if (b.x < -1 || b.y < -1 || b.x + b.width > p->width + 1 || b.y + b.height > p->height + 1) {
        out.passed = false;
        std::snprintf(buf, sizeof buf, "block %lld (%s) is outside the page", static_cast<long long>(id), b.name.c_str());
        out.detail = buf;
        break;
      }
    }
    if (out.passed) out.detail = "every block inside its page";
  } else if (out.check == "no_text_overflow") {
    // As the text is drawn: auto-fit shrink may go down to 60% of its size (the editor's
    // clean-up limit, apply.h); grow-height grows, so only the width counts. A word broken
    // across lines does not fit (design::TextMeasure).
    out.passed = true;
    for (const auto& [id, b] : after.blocks) {
      if (b.type != design::BlockType::kText || !b.visible || b.text.content.empty()) continue;
      auto m = design::measure_text(b);
      bool fits = m.ok() && m->fits;
      if (!fits && m.ok() && b.text.auto_fit == design::AutoFit::kGrowHeight) {
        fits = !m->word_broken && m->width <= b.width + 0.01;
      }
      if (!fits && b.text.auto_fit == design::AutoFit::kShrink) {
        auto shrunk = design::measure_text(b, kMinShrinkScale * b.text.font_size);
        fits = shrunk.ok() && shrunk->fits;
      }
      if (!fits) {
        out.passed = false;
        out.detail = "block " + std::to_string(id) + " '" + utf8_prefix(b.text.content, 40) + "' overflows its box";
        break;
      }
    }
    if (out.passed) out.detail = "every text fits its box";
  } else if (out.check == "untouched") {
    const Preserved p = preserved(check, before, after);
    out.passed = p.same == p.checked;
    out.detail = out.passed ? std::to_string(p.checked) + " other blocks unchanged" : p.first;
    out.preserved = p.checked ? double(p.same) / p.checked : 1.0;
  } else {
    out.detail = "unknown check '" + out.check + "'";
  }
  return out;
}

EditEvalReport evaluate_edits(std::span<const EditCase> cases, LlmProvider* provider, const EvalProgress& progress) {
  EditEvalReport report;
  std::vector<double> times;
  double preservation_sum = 0;
  int edited = 0;  // cases whose edit was applied: preservation is their mean
  for (const EditCase& c : cases) {
    if (progress) progress(report.cases.size(), c.id);
    CaseOutcome out;
    out.id = c.id;
    auto loaded = design::load_scene(c.design);
    if (!loaded.ok()) {
      out.error = loaded.status().message();
      report.cases.push_back(out);
      continue;
    }
    const design::Scene before = loaded->scene;
    design::Engine engine(before);
    EditOptions opt;
    opt.base_dir = c.design.parent_path();
    std::optional<BrandKit> brand;
    if (c.brand) {
      auto kit = load_brand_kit(*c.brand);
      if (!kit.ok()) {
        out.error = kit.status().message();
        report.cases.push_back(out);
        continue;
      }
      brand = *kit;
      opt.brand = brand;
    }
    if (c.profile) opt.profile = parse_profile(*c.profile);
    if (c.to) {
      auto size = parse_format(*c.to);
      if (!size.ok()) {
        out.error = size.status().message();
        report.cases.push_back(out);
        continue;
      }
      opt.to_size = *size;
    }
    CallStats stats;
    opt.stats = &stats;
    auto r = edit_design(engine, c.request, provider, opt);
    out.rounds = stats.rounds;
    out.seconds = stats.seconds;
    out.prompt_tokens = stats.prompt_tokens;
    out.completion_tokens = stats.completion_tokens;
    report.prompt_tokens += out.prompt_tokens;
    report.completion_tokens += out.completion_tokens;
    if (out.rounds > 0) times.push_back(out.seconds);
    if (!r.ok()) {
      out.error = r.status().message();
    } else {
      out.valid = r->rounds > 0 && r->validation_errors.empty() && !r->used_baseline;
      out.baseline = r->used_baseline;
      out.success = true;
      for (const auto& check : c.checks) {
        CheckOutcome co = run_check(check, before, engine.scene(), brand);
        out.success = out.success && co.passed;
        if (co.preserved) out.preservation = *co.preserved;
        out.checks.push_back(std::move(co));
      }
    }
    if (r.ok()) preservation_sum += out.preservation, ++edited;
    report.cases.push_back(std::move(out));
  }
  const double n = std::max<double>(1, double(report.cases.size()));
  for (const auto& c : report.cases) {
    report.validity_rate += c.valid / n;
    report.success_rate += c.success / n;
  }
  report.preservation = edited > 0 ? preservation_sum / edited : 1.0;
  if (!times.empty()) {
    for (double t : times) report.mean_seconds += t / double(times.size());
    std::sort(times.begin(), times.end());
    report.median_seconds = times[times.size() / 2];
  }
  return report;
}

}  // namespace atelier::genai
