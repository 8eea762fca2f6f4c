// The model's answer: find exactly one XML document in it (code fences and prose around it
// are fine; none or several is an error), parse it, validate it against the design that was
// sent and the profile, and diff it into a ChangeSet.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "design/scene.h"
#include "genai/change_set.h"
#include "genai/serializer.h"

namespace atelier::genai {

// The text of the single <design>…</design> document (or self-closing <design/>). A start
// tag without its end tag (a truncated answer) is the document when there is no complete
// one, so that parsing it says what is missing. Errors (kInvalidArgument):
// "the answer contains no <design> document", "the answer contains 2 <design> documents".
Result<std::string> extract_document(std::string_view answer);

struct Validation {
  ChangeSet changes;
  // Problems a repair round can fix, one line each, naming the element:
  //   "<text id=\"8\">: unknown attribute 'colour'", "<shape id=\"99\">: unknown id 99",
  //   "<image id=\"3\">: x=2000 puts it outside the page (0..1080)", "invalid XML: ..."
  std::vector<std::string> errors;
  bool ok() const { return errors.empty(); }
};

// Parses `document` (from extract_document) and compares it with `sent` (the scene that was
// serialized with `profile`). Attributes outside the profile, unknown attributes and ids,
// values of the wrong type or range and blocks moved off their page are errors; a block
// missing from the answer is a removal. New elements without an id are additions.
Validation validate_and_diff(std::string_view document, const design::Scene& sent, Profile profile);

}  // namespace atelier::genai
