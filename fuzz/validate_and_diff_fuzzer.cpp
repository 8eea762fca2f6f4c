// genai::validate_and_diff: the model's XML document parsed (pugixml), validated against the
// design that was sent and diffed into a ChangeSet, under one of the serializer profiles
// (chosen by the input's length, so the text itself is untouched and every profile gets a
// share of the executions).
#include "fuzz_support.h"
#include "genai/answer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using atelier::genai::Profile;
  static constexpr Profile kProfiles[] = {Profile::kLayout, Profile::kText, Profile::kStyle, Profile::kFull};
  (void)atelier::genai::validate_and_diff(atelier::fuzz::text(data, size), atelier::fuzz::scene(), kProfiles[size % 4]);
  return 0;
}
