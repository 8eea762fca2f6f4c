#include "core/parse.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

namespace atelier {
namespace {

std::string shown(std::string_view text) {
  std::string s(text.substr(0, 64));
  if (text.size() > 64) s += "...";
  return s;
}

bool all_digits(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

Result<std::int64_t> parse_integer(std::string_view text, std::int64_t min, std::int64_t max) {
  std::string_view t = text;
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec == std::errc::result_out_of_range && all_digits(text)) {
    const bool negative = text[0] == '-';
    return invalid_argument(negative ? "must be at least " + std::to_string(min) + ", got " + shown(text)
                                     : "must be at most " + std::to_string(max) + ", got " + shown(text));
  }
  if (t.empty() || ec != std::errc() || p != t.data() + t.size()) {
    return invalid_argument("expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                            ", got '" + shown(text) + "'");
  }
  if (v < min) return invalid_argument("must be at least " + std::to_string(min) + ", got " + std::to_string(v));
  if (v > max) return invalid_argument("must be at most " + std::to_string(max) + ", got " + std::to_string(v));
  return v;
}

Result<double> parse_number(std::string_view text, double min, double max) {
  std::string_view t = text;
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size() || !std::isfinite(v)) {
    return invalid_argument("expected a number from " + format_number(min) + " to " + format_number(max) + ", got '" +
                            shown(text) + "'");
  }
  if (v < min) return invalid_argument("must be at least " + format_number(min) + ", got " + shown(text));
  if (v > max) return invalid_argument("must be at most " + format_number(max) + ", got " + shown(text));
  return v;
}

}  // namespace atelier
