// genai::gbnf_matches with the grammar design_grammar() generates for a design, on
// arbitrary answers: the matcher as the editor's last check runs it. The grammar is parsed
// once (GbnfGrammar), so the executions go to the matcher.
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.h"
#include "genai/grammar.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using atelier::genai::GbnfGrammar;
  static const GbnfGrammar grammar = [] {
    auto g = GbnfGrammar::parse(atelier::genai::design_grammar(atelier::fuzz::scene(), atelier::genai::Profile::kFull));
    if (!g.ok()) {
      std::fprintf(stderr, "design grammar does not parse: %s\n", g.status().message().c_str());
      std::abort();
    }
    return *g;
  }();
  (void)atelier::genai::gbnf_matches(grammar, atelier::fuzz::text(data, size));
  return 0;
}
