// Checks on designs shared by the genai tests.
#pragma once

#include <string>
#include <vector>

#include "design/scene.h"

namespace atelier::testing {

// Blocks of `after`'s first page that break its bounds (rotated boxes; groups by their own
// box): a block that was inside its page in `before`, or is new, must be inside the page
// now; one that stuck out before (a deliberate bleed, like a decoration cut by the edge)
// must still show on the page. One line per problem naming the block; empty when none.
std::vector<std::string> page_bound_problems(const design::Scene& before, const design::Scene& after);

}  // namespace atelier::testing
