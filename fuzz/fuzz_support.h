// Shared bits of the libFuzzer harnesses: the input as bytes or text, the decode limits the
// image harnesses run with, and the small design the answer and grammar harnesses check
// against (also written by make_seeds). Nothing here parses fuzz input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "design/scene.h"
#include "image/codec.h"

namespace atelier::fuzz {

inline std::span<const std::uint8_t> bytes(const std::uint8_t* data, std::size_t size) { return {data, size}; }
inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The codec's own limits, lowered so that a header claiming a huge image is refused before
// decoding (as the CLI's --max-pixels does) instead of spending the fuzzer's memory and
// time on filling large frames: 1 MP, 4 MiB of encoded bytes.
inline image::DecodeLimits decode_limits() {
  image::DecodeLimits limits;
  limits.max_pixels = 1'000'000;
  limits.max_bytes = 4u << 20;
  return limits;
}

// probe + decode when the bytes are `format` (by magic), else nothing: one harness per
// format keeps each fuzzer's corpus on its own decoder.
int decode_if(image::Format format, const std::uint8_t* data, std::size_t size);

// A 1080×1080 page with an image, texts, shapes and a group (as in tests/genai).
extern const char* const kSceneJson;
const design::Scene& scene();

}  // namespace atelier::fuzz
