// Small text helpers shared by the layers.
#pragma once

#include <string>
#include <string_view>

namespace atelier {

// `s` in double quotes with '"', '\' and line breaks escaped C-style (\" \\ \n \r \t),
// for messages and for grammar literals; other bytes (UTF-8 too) as they are.
std::string quoted(std::string_view s);

// `s` without leading and trailing spaces, tabs, carriage returns and line feeds.
std::string trim(std::string_view s);

// The number of UTF-8 code points of `s` (bytes that do not continue a sequence).
std::size_t utf8_length(std::string_view s);

// At most `max_bytes` bytes of `s`, cut before a UTF-8 sequence rather than inside it.
std::string utf8_prefix(std::string_view s, std::size_t max_bytes);

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool is_utf8(std::string_view s);

// Standard base64 (RFC 4648, with padding) of the bytes of `s`.
std::string base64_encode(std::string_view s);

}  // namespace atelier
