// Natural-language design editing: the whole round trip for one request.
//   serialize (profile picked from the request) → prompt (prompts/*.txt, fixed parts first
//   so providers can reuse a cached prefix) → provider → extract and validate the answer →
//   one repair round with the problems sent back → ChangeSet → apply as one transaction →
//   clean-up (apply.h) → asset search for changed alt texts.
// Format changes (`to`) send the design with the page already at its new size and fall
// back to the deterministic relayout (relayout.h) when there is no provider or its answer
// stays invalid. The answer is checked against the design as it is: it must give the page
// its new size (a change in the ChangeSet, as in the baseline's), and a block inside the
// old page may not end entirely outside the new one; when applied, every block of the page is
// clamped into it (apply.h rule 3), the ones the answer left in place too.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "design/engine.h"
#include "genai/apply.h"
#include "genai/assets.h"
#include "genai/change_set.h"
#include "genai/llm.h"
#include "genai/serializer.h"

namespace atelier::genai {

// brand.json: {"name": "Acme", "colors": ["#0A2540", "#635BFF", ...] or {"primary": "#…", …},
// "fonts": ["DejaVu Sans", …] or {"heading": "…", "body": "…"}, "logo": "logo.png"}
struct BrandKit {
  std::string name;
  std::vector<design::Color> colors;
  std::vector<std::string> fonts;
  std::string logo;  // path or description
};
Result<BrandKit> load_brand_kit(const std::filesystem::path& path);

// What the model calls of one edit cost.
struct CallStats {
  int rounds = 0;  // calls made
  double seconds = 0;
  int prompt_tokens = 0, completion_tokens = 0;
};

struct EditOptions {
  std::optional<Profile> profile;        // default: guess_profile(request)
  std::optional<BrandKit> brand;
  bool allow_delete = false;
  bool dry_run = false;                  // compute the ChangeSet, apply nothing
  int repair_rounds = 1;
  const AssetSearch* assets = nullptr;
  // Resolves relative image sources for the format-change baseline's smart crop (the
  // design file's folder); empty: the current folder.
  std::filesystem::path base_dir;
  // Format change: the new page size (applied to the first page).
  std::optional<std::pair<double, double>> to_size;
  LlmProgress progress;
  // When set, receives the calls' count, time and tokens (as in EditResult) also when the
  // edit fails, e.g. with an answer still invalid after the repair round.
  CallStats* stats = nullptr;
};

struct EditResult {
  Profile profile = Profile::kFull;
  ChangeSet changes;
  ApplyReport report;
  int rounds = 0;              // model calls made (0: baseline only)
  bool used_baseline = false;  // format change done by relayout.h
  std::vector<std::string> validation_errors;  // of the last answer, when it was rejected
  int prompt_tokens = 0;       // reported by the provider, else estimated
  int completion_tokens = 0;
  double seconds = 0;          // model time
};

// The prompt for a request (exposed for tests and `--dry-run` token counts).
LlmRequest build_prompt(const design::Scene& scene, std::string_view request, Profile profile,
                        const std::optional<BrandKit>& brand);

// The first request edit_design sends: the profile (options' or guessed from the request;
// layout for a format change), the scene as sent (a format change: the first page already
// at its new size) and the prompt; with_grammar adds the GBNF (llamacpp). Exposed for
// `atelier edit --show-prompt`.
struct EditPrompt {
  Profile profile = Profile::kFull;
  design::Scene sent;
  LlmRequest request;
};
EditPrompt prepare_edit(const design::Scene& scene, std::string_view request, const EditOptions& options,
                        bool with_grammar);

// Runs one edit on `engine` (unchanged on error or with dry_run). `provider` may be null
// only for a format change (baseline). Errors: the provider's (timeout, refused key, cut
// off), or kInvalidArgument "the model's answer is still invalid after N repair round(s):
// <first problem>" — then nothing is applied.
Result<EditResult> edit_design(design::Engine& engine, std::string_view request, LlmProvider* provider,
                               const EditOptions& options);

// A format name or WxH: "1280x720", "youtube-thumbnail", "instagram-story", ... (the
// smart-crop presets). Errors name the text.
Result<std::pair<double, double>> parse_format(std::string_view text);

}  // namespace atelier::genai
