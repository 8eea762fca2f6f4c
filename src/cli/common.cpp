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

Result<std::pair<int, int>> parse_size(const std::string& flag, const std::string& text, int limit) {
  const auto x = text.find_first_of("xX");
  int w = 0, h = 0;
  auto num = [](std::string_view s, int& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
  };
  const std::string_view t(text);
  if (x == std::string::npos || !num(t.substr(0, x), w) || !num(t.substr(x + 1), h) || w <= 0 || h <= 0 || w > limit ||
      h > limit) {
    return invalid_argument(flag + ": expected WxH such as 1280x720, got '" + text + "'");
  }
  return std::pair{w, h};
}

void add_runtime_flags(CLI::App& cmd, RuntimeFlags& flags) {
  cmd.add_option("--threads", flags.threads, "Worker threads (default: $ATELIER_THREADS, else all cores)")
      ->check(CLI::PositiveNumber);
  cmd.add_flag("-q,--quiet", flags.quiet, "No progress bar and no per-file lines; errors only");
  cmd.add_flag("--no-fast-conv", flags.no_fast_conv, "Use OpenCV's own convolution instead of Winograd (for comparison)");
}

void print_json(const nlohmann::json& j, int indent) {
  std::printf("%s\n", j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

}  // namespace atelier::cli
