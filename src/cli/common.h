// Shared pieces of the command-line shell: exit codes, error printing and the options
// several commands take. The shell parses arguments and calls the library; no feature
// logic lives here.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/status.h"

namespace atelier::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,  // the command ran but something failed (some inputs, a download)
  kExitUsage = 2,   // bad arguments: nothing was done
};

// "atelier: MESSAGE" on stderr, one line.
void print_error(const std::string& message);

// "100M", "12000000", "0.5M" -> pixels. Errors as UsageError messages.
Result<std::uint64_t> parse_pixel_count(const std::string& text);

// "1024x768" -> {1024, 768}; each side 1..limit. Error: "<flag>: expected WxH such as
// 1280x720, got '<text>'".
Result<std::pair<int, int>> parse_size(const std::string& flag, const std::string& text, int limit = 100000);

// Prints `j` and a newline on stdout (indented by `indent`; -1: one line). Bytes that are
// not UTF-8 (a Latin-1 file name, a model's broken answer quoted in an error) become
// U+FFFD instead of making the JSON library throw.
void print_json(const nlohmann::json& j, int indent = 2);

// Options every command that runs models shares.
struct RuntimeFlags {
  int threads = 0;
  bool quiet = false;
  bool no_fast_conv = false;
};
void add_runtime_flags(CLI::App& cmd, RuntimeFlags& flags);

}  // namespace atelier::cli
