// A GBNF grammar (llama.cpp's grammar format) generated from the current design, so a
// local model can only write the allowed elements, attributes and ids; and a small GBNF
// matcher to check text against such a grammar (for tests and as a last check).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "design/scene.h"
#include "genai/serializer.h"

namespace atelier::genai {

// The grammar for an answer to a request about `scene` serialized with `profile`: a single
// <design> document whose elements carry the scene's ids with the attributes the profile
// allows for their block type (values as strings of the right shape), in the scene's
// order, each optional (a removal); new <text>, <image> and <shape> elements without an id
// may follow the blocks of a page or group (additions, as answer.h accepts them).
std::string design_grammar(const design::Scene& scene, Profile profile);

// How much work matching one text may take: kResourceExhausted past either limit.
struct GbnfLimits {
  long long max_steps = 20'000'000;  // matcher steps (node visits)
  int max_depth = 2000;              // nested rule calls
};

namespace detail {
struct Grammar;
}

// A parsed grammar, to match many texts against it without parsing it again. Errors
// (kInvalidArgument): a grammar that does not parse ("grammar: line 3: undefined rule
// 'item'") or has no rule root ("grammar: no rule 'root'").
class GbnfGrammar {
 public:
  static Result<GbnfGrammar> parse(std::string_view grammar);

 private:
  explicit GbnfGrammar(std::shared_ptr<const detail::Grammar> g) : g_(std::move(g)) {}
  std::shared_ptr<const detail::Grammar> g_;
  friend Result<bool> gbnf_matches(const GbnfGrammar&, std::string_view, const GbnfLimits&);
};

// Whether `text` is in the language of `grammar` (rule "root"). Errors: those of parsing,
// and, found while matching, a left-recursive rule (kInvalidArgument, "grammar: rule
// 'list' is left-recursive (it reaches itself without consuming text)"); kResourceExhausted
// when matching takes more than limits.max_steps steps or nests rules deeper than
// limits.max_depth levels.
Result<bool> gbnf_matches(const GbnfGrammar& grammar, std::string_view text, const GbnfLimits& limits = {});
Result<bool> gbnf_matches(std::string_view grammar, std::string_view text, const GbnfLimits& limits = {});

}  // namespace atelier::genai
