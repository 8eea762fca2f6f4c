#include "cli/common.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace atelier::cli {

void print_error(const std::string& message) {
  std::string one_line = message;
  for (char& c : one_line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fprintf(stderr, "atelier: %s\n", one_line.c_str());
}

Result<std::uint64_t> parse_pixel_count(const std::string& text) {
  std::string digits = text;
  double mult = 1;
  if (!digits.empty() && (digits.back() == 'M' || digits.back() == 'm')) {
    mult = 1e6;
    digits.pop_back();
  }
  double v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || !(v > 0) || v * mult > 1e12) {
    return invalid_argument("--max-pixels: expected a pixel count such as 100M or 12000000, got '" + text + "'");
  }
  return std::uint64_t(std::llround(v * mult));
}

void add_runtime_flags(CLI::App& cmd, RuntimeFlags& flags) {
  cmd.add_option("--threads", flags.threads, "Worker threads (default: $ATELIER_THREADS, else all cores)")
      ->check(CLI::PositiveNumber);
  cmd.add_flag("-q,--quiet", flags.quiet, "No progress bar and no per-file lines; errors only");
  cmd.add_flag("--no-fast-conv", flags.no_fast_conv, "Use OpenCV's own convolution instead of Winograd (for comparison)");
}

}  // namespace atelier::cli
