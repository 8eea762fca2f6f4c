// A GBNF grammar (llama.cpp's grammar format) generated from the current design, so a
// local model can only write the allowed elements, attributes and ids; and a small GBNF
// matcher to check text against such a grammar (for tests and as a last check).
#pragma once

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

// Whether `text` is in the language of `grammar` (rule "root"). Errors (kInvalidArgument):
// a grammar that does not parse ("grammar: line 3: undefined rule 'item'"), has no rule
// root ("grammar: no rule 'root'") or is left-recursive, found while matching ("grammar:
// rule 'list' is left-recursive (it reaches itself without consuming text)");
// kResourceExhausted when matching takes more than 20 million steps or nests rules deeper
// than 2000 levels.
Result<bool> gbnf_matches(std::string_view grammar, std::string_view text);

}  // namespace atelier::genai
