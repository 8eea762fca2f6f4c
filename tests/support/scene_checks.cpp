#include "support/scene_checks.h"

namespace atelier::testing {
namespace {

using design::Bounds;

bool inside(const Bounds& r, double w, double h) {
  constexpr double kTol = 1e-6;
  return r.x0 >= -kTol && r.y0 >= -kTol && r.x1 <= w + kTol && r.y1 <= h + kTol;
}

}  // namespace

std::vector<std::string> page_bound_problems(const design::Scene& before, const design::Scene& after) {
  std::vector<std::string> problems;
  if (after.pages.empty()) return {"the design has no page"};
  const design::Block& page = *after.find(after.pages.front());
  const design::Block* old_page = before.find(page.id);
  for (design::BlockId id : after.descendants(page.id)) {
    const design::Block& b = *after.find(id);
    const Bounds r = design::occupied_bounds(after, b);
    const design::Block* old = before.find(id);
    const bool bled = old && old_page && !inside(design::occupied_bounds(before, *old), old_page->width, old_page->height);
    const std::string where = "block " + std::to_string(id) + " (" + b.name + ") at " + std::to_string(r.x0) + "," +
                              std::to_string(r.y0) + " .. " + std::to_string(r.x1) + "," + std::to_string(r.y1);
    if (!bled && !inside(r, page.width, page.height)) {
      problems.push_back(where + " is not inside the page");
    } else if (bled && !(r.x0 < page.width && r.x1 > 0 && r.y0 < page.height && r.y1 > 0)) {
      problems.push_back(where + " bled before and is now off the page");
    }
  }
  return problems;
}

}  // namespace atelier::testing
