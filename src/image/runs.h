// Runs of a row's columns that need work, for row-wise full-resolution passes that only
// touch part of a photo (a matte's soft band, its semi-transparent pixels):
//   for_each_run(width, [&](int x) { return a[x] < 1.f; }, 32, [&](int x0, int x1) { ... });
// calls fn(x0, x1) for each maximal range [x0, x1) of columns where `inside` holds, in
// order, with runs less than `merge_gap` columns apart merged into one (the columns
// between them included), so that a per-run set-up cost is paid once per region.
#pragma once

namespace atelier::image {

// The same within columns [begin, end).
template <typename Inside, typename Fn>
void for_each_run(int begin, int end_column, Inside inside, int merge_gap, Fn fn) {
  const int width = end_column;
  int x = begin;
  while (x < width) {
    while (x < width && !inside(x)) ++x;
    if (x == width) return;
    const int x0 = x;
    int end = x;  // one past the last column where `inside` held
    while (x < width) {
      if (inside(x)) {
        end = ++x;
      } else if (x - end < merge_gap) {
        ++x;
      } else {
        break;
      }
    }
    fn(x0, end);
    x = end;
  }
}

template <typename Inside, typename Fn>
void for_each_run(int width, Inside inside, int merge_gap, Fn fn) {
  for_each_run(0, width, inside, merge_gap, fn);
}

}  // namespace atelier::image
