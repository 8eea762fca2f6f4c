// One set of size limits for a whole request: what may be decoded (input pixels and
// bytes) and what may be produced (output pixels, for crops, cutouts and renders alike).
// Every shell (CLI, HTTP) fills one Limits and hands it to each operation, so a request is
// refused before work when anything it reads or would write is over a limit.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace atelier {

struct Limits {
  static constexpr std::uint64_t kDefaultPixels = 100'000'000;
  std::uint64_t max_input_pixels = kDefaultPixels;   // width × height of a decoded image
  std::uint64_t max_input_bytes = 512ull << 20;      // size of an encoded input file
  std::uint64_t max_output_pixels = kDefaultPixels;  // width × height of any image written
  std::uint32_t max_output_side = 65500;             // JPEG and Cairo surfaces stop near here
};

// "12.0 MP" from 100 kP up, else "4096 pixels" (so a limit of 1 is not "0.0 MP").
std::string format_pixels(std::uint64_t pixels);

// OK when a width × height output fits `limits`; else kResourceExhausted
// "WHAT would be 800.0 MP (40000x20000), more than the 100.0 MP limit" (or "... 70000
// pixels wide, more than the 65500 limit"). Sizes are doubles so that a product or a scaled
// size cannot overflow before it is checked; a non-finite or non-positive size is
// kInvalidArgument "WHAT has no area".
Status check_output_size(const std::string& what, double width, double height, const Limits& limits);

// Bounds for worker-thread counts (--threads, ATELIER_THREADS): 1 ... kMaxThreads.
inline constexpr int kMaxThreads = 256;

}  // namespace atelier
