// genai::extract_document: finding the one <design> document in a language model's answer.
#include "fuzz_support.h"
#include "genai/answer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)atelier::genai::extract_document(atelier::fuzz::text(data, size));
  return 0;
}
