// Numbers from text with a range, for option values from any shell (CLI flags, query
// parameters, environment variables): the whole text must be the number, and errors say
// what was expected in words, so every shell reports a bad value the same way.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace atelier {

// A decimal integer in [min, max] (optional sign; no spaces, no fraction, no exponent).
// Error (kInvalidArgument): "expected an integer from MIN to MAX, got 'TEXT'", or
// "must be at least MIN, got N" / "must be at most MAX, got N" when it is an integer out
// of range (also for values too large for 64 bits: "must be at most MAX, got 99999999999999999999").
Result<std::int64_t> parse_integer(std::string_view text, std::int64_t min, std::int64_t max);

// A finite decimal number in [min, max] ("0.5", "2", "1e-3"). Errors as parse_integer,
// "expected a number from MIN to MAX, got 'TEXT'".
Result<double> parse_number(std::string_view text, double min, double max);

// The number as it reads best in a message: "16", "0.5", "1e+06".
std::string format_number(double v);

}  // namespace atelier
