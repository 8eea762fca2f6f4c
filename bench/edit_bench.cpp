// What natural-language editing costs around the model, on the six example designs:
//   - prompt size: characters and estimated tokens of the design as compact XML per
//     profile (layout, text, style, full) against the scene's own JSON (what a naive
//     integration would send), and of the whole prompt (rules + example + design + request);
//   - Atelier's own time per edit, the model excluded: an in-process provider answers
//     instantly with a real edit (the headline recoloured and set 10% smaller), so
//     edit_design's time is serialize + prompt + extract + validate + diff + apply + clean-up
//     (text measured by the renderer); plus generating the design's GBNF grammar and
//     matching the answer against it (what the llamacpp provider adds).
//   edit_bench [examples/designs]
// Prints one JSON object per design and a summary line; times are medians over 20 runs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "timing.h"
#include "core/files.h"
#include "design/engine.h"
#include "design/scene_json.h"
#include "genai/editor.h"
#include "genai/grammar.h"
#include "genai/serializer.h"

using namespace atelier;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {


// A provider that answers at once with a fixed text.
class InstantProvider final : public genai::LlmProvider {
 public:
  explicit InstantProvider(std::string answer) : answer_(std::move(answer)) {}
  std::string name() const override { return "instant"; }
  Result<genai::LlmAnswer> complete(const genai::LlmRequest&, const genai::LlmProgress&) override {
    genai::LlmAnswer a;
    a.text = answer_;
    a.finish_reason = "stop";
    return a;
  }

 private:
  std::string answer_;
};

}  // namespace

int main(int argc, char** argv) {
  const fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::path("examples/designs");
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  if (files.empty()) {
    std::fprintf(stderr, "edit_bench: no designs in %s\n", dir.string().c_str());
    return 1;
  }
  std::sort(files.begin(), files.end());
  const genai::Profile profiles[] = {genai::Profile::kLayout, genai::Profile::kText, genai::Profile::kStyle,
                                     genai::Profile::kFull};
  double sum_json = 0, sum_full = 0, sum_text = 0, sum_edit = 0, sum_grammar = 0;
  for (const fs::path& file : files) {
    auto loaded = design::load_scene(file);
    if (!loaded.ok()) {
      std::fprintf(stderr, "edit_bench: %s\n", loaded.status().message().c_str());
      return 1;
    }
    const design::Scene& scene = loaded->scene;
    const std::string json = design::scene_to_json(scene);
    std::printf("{\"design\": \"%s\", \"json_tokens\": %d", file.stem().string().c_str(), genai::estimate_tokens(json));
    sum_json += genai::estimate_tokens(json);
    for (genai::Profile p : profiles) {
      const std::string xml = genai::serialize(scene, p);
      const genai::LlmRequest prompt = genai::build_prompt(scene, "Make the logo bigger.", p, std::nullopt);
      std::printf(", \"%s\": {\"xml_tokens\": %d, \"prompt_tokens\": %d}", std::string(genai::to_string(p)).c_str(),
                  genai::estimate_tokens(xml), genai::estimate_tokens(prompt.system + prompt.user));
      if (p == genai::Profile::kFull) sum_full += genai::estimate_tokens(xml);
      if (p == genai::Profile::kText) sum_text += genai::estimate_tokens(xml);
    }

    // The model's answer: the headline recoloured and 10% smaller, in the full profile.
    design::Engine edited(scene);
    const auto headlines = edited.find_by_kind("headline");
    if (headlines.empty()) {
      std::fprintf(stderr, "edit_bench: %s has no headline\n", file.string().c_str());
      return 1;
    }
    const design::Block* h = edited.scene().find(headlines.front());
    (void)edited.set(h->id, "font_size", design::PropertyValue(std::round(h->text.font_size * 0.9)));
    (void)edited.set(h->id, "text_color", design::PropertyValue(design::Color{0.8, 0.1, 0.1, 1}));
    const std::string answer = "Here is the design:\n```xml\n" + genai::serialize(edited.scene(), genai::Profile::kFull) + "```\n";
    InstantProvider provider(answer);
    genai::EditOptions opt;
    opt.profile = genai::Profile::kFull;
    std::size_t changes = 0;
    std::string error;
    const double edit_ms = bench::median_ms([&] {
      design::Engine engine(scene);
      auto r = genai::edit_design(engine, "Make the headline red and a bit smaller.", &provider, opt);
      if (r.ok()) changes = r->changes.modified.size();
      else error = r.status().message();
    });
    if (!error.empty()) {
      std::fprintf(stderr, "edit_bench: %s: %s\n", file.string().c_str(), error.c_str());
      return 1;
    }
    bool matched = false;
    const double grammar_ms = bench::median_ms([&] {
      const std::string g = genai::design_grammar(scene, genai::Profile::kFull);
      auto m = genai::gbnf_matches(g, genai::serialize(edited.scene(), genai::Profile::kFull));
      matched = m.ok() && *m;
    });
    std::printf(", \"edit_ms\": %.2f, \"changes\": %zu, \"grammar_and_match_ms\": %.2f, \"grammar_accepts\": %s}\n", edit_ms,
                changes, grammar_ms, matched ? "true" : "false");
    sum_edit += edit_ms;
    sum_grammar += grammar_ms;
  }
  const double n = double(files.size());
  std::printf("# %zu designs: full-profile XML %.0f tokens on average vs %.0f for the scene JSON (%.2fx); text profile "
              "%.0f tokens (%.2fx); Atelier's time per edit without the model %.2f ms, grammar + match %.2f ms\n",
              files.size(), sum_full / n, sum_json / n, sum_full / sum_json, sum_text / n, sum_text / sum_json,
              sum_edit / n, sum_grammar / n);
  return 0;
}
