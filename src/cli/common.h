// Shared pieces of the command-line shell: exit codes, error printing and the options
// several commands take. The shell parses arguments and calls the library; no feature
// logic lives here.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/limits.h"
#include "core/status.h"
#include "image/codec.h"
#include "ml/inference.h"

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

// Sets `key` to `path` (bytes that are not UTF-8 shown as U+FFFD) and, when the path is not
// UTF-8, `key`_bytes to its exact bytes in base64, so a script can map results back to files.
void set_json_path(nlohmann::json& j, const std::string& key, const std::string& path);

// An integer option whose value is checked when the command line is parsed: a bad value is
// a usage error "NAME: must be at least MIN, got N" / "NAME: expected an integer from MIN
// to MAX, got 'TEXT'" (core/parse.h), before any work. Returns the option.
CLI::Option* add_integer_option(CLI::App& cmd, const std::string& names, int& target, int min, int max,
                                const std::string& help);
// The same for a decimal number in [min, max].
CLI::Option* add_number_option(CLI::App& cmd, const std::string& names, double& target, double min, double max,
                               const std::string& help);

// The image formats outputs can be written in, for messages: ".png, .jpg/.jpeg, .webp,
// .tif/.tiff or .bmp".
inline constexpr const char* kImageOutputFormats = ".png, .jpg/.jpeg, .webp, .tif/.tiff or .bmp";

// Options every command that runs models shares.
struct RuntimeFlags {
  int threads = 0;
  bool quiet = false;
  bool no_fast_conv = false;  // the older spelling of --backend opencv
  std::string backend = "auto";
  std::string precision = "auto";
  std::string inference_url;  // a KServe v2 server that runs the models (ml/remote_backend.h)
};
void add_runtime_flags(CLI::App& cmd, RuntimeFlags& flags);
// Usage checks of the runtime flags and the environment they read (ATELIER_THREADS),
// done before any work so a bad value never reaches OpenCV's thread pool.
Status check_runtime(const RuntimeFlags& flags);
// The inference options the flags ask for (check_runtime's errors, and --no-fast-conv
// with a --backend other than opencv).
Result<ml::BackendOptions> backend_options(const RuntimeFlags& flags);

// --max-pixels: one limit for what is decoded and what is written (core/limits.h).
Result<Limits> limits_from_flag(const std::string& max_pixels);
inline image::DecodeLimits decode_limits(const Limits& l) { return {l.max_input_pixels, l.max_input_bytes}; }

}  // namespace atelier::cli
