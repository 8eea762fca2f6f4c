// genai::validate_and_diff: the model's XML document parsed (pugixml), validated against the
// design that was sent and diffed into a ChangeSet, under every serializer profile.
#include "fuzz_support.h"
#include "genai/answer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using atelier::genai::Profile;
  for (Profile p : {Profile::kLayout, Profile::kText, Profile::kStyle, Profile::kFull}) {
    (void)atelier::genai::validate_and_diff(atelier::fuzz::text(data, size), atelier::fuzz::scene(), p);
  }
  return 0;
}
