// genai::gbnf_matches: the GBNF grammar parser and matcher with its step and depth limits.
// Input: GRAMMAR '\0' TEXT (no '\0': all grammar, empty text). The step limit is lowered
// from 20 million to 20,000 so that an exploding grammar costs a fraction of a millisecond,
// not seconds: the limit's path is the same, and the executions go to finding other inputs
// (200,000 steps ran 3x fewer executions per second).
#include <cstring>

#include "fuzz_support.h"
#include "genai/grammar.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view all = atelier::fuzz::text(data, size);
  const std::size_t nul = all.find('\0');
  const std::string_view grammar = all.substr(0, nul);
  const std::string_view text = nul == std::string_view::npos ? std::string_view() : all.substr(nul + 1);
  atelier::genai::GbnfLimits limits;
  limits.max_steps = 20'000;
  (void)atelier::genai::gbnf_matches(grammar, text, limits);
  return 0;
}
