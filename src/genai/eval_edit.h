// `atelier eval edit CASES.jsonl`: how well a model edits designs. Each line of CASES.jsonl
// is a case: a design, a request, and checks on the resulting design:
//   {"id": "story-logo", "design": "../designs/instagram-story.json",
//    "request": "Make the logo bigger.", "to": "1280x720" (format change, optional),
//    "brand": "../brands/acme.json" (optional), "profile": "layout" (optional),
//    "checks": [{"check": "area_grew", "kind": "logo", "min_ratio": 1.2}, ...],
//    "scripted": ["<design>…</design>", ...]  (answers the CI's fake server replays)}
// Checks: area_grew {kind, min_ratio}; language {lang: "de", except_kinds, except_ids}; palette
// {colors | brand: true, tolerance (0..255, default 8), except_kinds}; page_size {w, h};
// inside_page; no_text_overflow; untouched {except_kinds, except_ids, except_properties}.
// Paths are relative to the cases file. The report: validity rate (answers accepted,
// after at most one repair round), success rate (every check passed), preservation
// (share of blocks outside the request left unchanged), latency and tokens.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "genai/editor.h"
#include "genai/llm.h"

namespace atelier::genai {

struct EditCase {
  std::string id;
  std::filesystem::path design;
  std::string request;
  std::optional<std::string> to;
  std::optional<std::filesystem::path> brand;
  std::optional<std::string> profile;
  nlohmann::json checks;               // array
  std::vector<std::string> scripted;   // replayed answers (tests, CI)
};

// Errors name the file and line: "cases.jsonl:3: missing 'request'".
Result<std::vector<EditCase>> load_edit_cases(const std::filesystem::path& path);

struct CheckOutcome {
  std::string check;
  bool passed = false;
  std::string detail;  // "logo area ×1.31 (≥ 1.2)", "block 9 'Save your seat' is not German"
  std::optional<double> preserved;  // untouched: share of the checked blocks left unchanged
};

struct CaseOutcome {
  std::string id;
  bool valid = false;       // the model's answer was accepted
  bool success = false;     // every check passed
  bool baseline = false;    // a format change done by the deterministic relayout
  double preservation = 1;  // blocks outside the request unchanged (share); 1 for a failed edit
  int rounds = 0;
  double seconds = 0;
  int prompt_tokens = 0, completion_tokens = 0;
  std::string error;        // the edit's error, if it failed
  std::vector<CheckOutcome> checks;
};

struct EditEvalReport {
  std::vector<CaseOutcome> cases;
  // preservation: the mean over the cases whose edit was applied (1 when none was).
  double validity_rate = 0, success_rate = 0, preservation = 0;
  double mean_seconds = 0, median_seconds = 0;
  long prompt_tokens = 0, completion_tokens = 0;
};

// Called before each case with its index and id (e.g. for a progress bar).
using EvalProgress = std::function<void(std::size_t index, const std::string& id)>;

// Runs every case with `provider` (null: only format changes can succeed, by the baseline).
EditEvalReport evaluate_edits(std::span<const EditCase> cases, LlmProvider* provider,
                              const EvalProgress& progress = nullptr);

// One check on the design before and after (exposed for tests).
CheckOutcome run_check(const nlohmann::json& check, const design::Scene& before, const design::Scene& after,
                       const std::optional<BrandKit>& brand);

}  // namespace atelier::genai
