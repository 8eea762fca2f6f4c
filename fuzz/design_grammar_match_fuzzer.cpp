// genai::gbnf_matches with the grammar design_grammar() generates for a design, on
// arbitrary answers: the matcher as the editor's last check runs it.
#include "fuzz_support.h"
#include "genai/grammar.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string grammar =
      atelier::genai::design_grammar(atelier::fuzz::scene(), atelier::genai::Profile::kFull);
  (void)atelier::genai::gbnf_matches(grammar, atelier::fuzz::text(data, size));
  return 0;
}
