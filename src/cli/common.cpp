#include "cli/common.h"

#include "ml/remote_backend.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/parse.h"
#include "ops/analysis_ops.h"
#include "core/text.h"
#include "core/threads.h"

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
  ATELIER_ASSIGN_OR_RETURN(cv::Size size, ops::parse_crop_size(flag, text, limit));
  return std::pair{size.width, size.height};
}

void set_json_path(nlohmann::json& j, const std::string& key, const std::string& path) {
  j[key] = path;
  if (!is_utf8(path)) j[key + "_bytes"] = base64_encode(path);
}

namespace {
std::string first_name(const std::string& names) {
  // "-o,--output" -> "--output"; CLI11 passes the long name to callbacks' messages.
  const auto comma = names.rfind(',');
  return comma == std::string::npos ? names : names.substr(comma + 1);
}
}  // namespace

namespace {
// An option stored as text by CLI11 and converted by `parse` (a core/parse.h function), so
// a bad value is a CLI11 ValidationError with our wording, raised while parsing.
template <typename T, typename Number>
CLI::Option* add_ranged_option(CLI::App& cmd, const std::string& names, T& target, Number min, Number max,
                               const std::string& help, const char* type_name,
                               Result<Number> (*parse)(std::string_view, Number, Number)) {
  const std::string name = first_name(names);
  auto* opt = cmd.add_option_function<std::string>(
      names,
      [&target, name, min, max, parse](const std::string& text) {
        auto v = parse(text, min, max);
        if (!v.ok()) throw CLI::ValidationError(name, v.status().message());
        target = T(*v);
      },
      help);
  return opt->type_name(type_name);
}
}  // namespace

CLI::Option* add_integer_option(CLI::App& cmd, const std::string& names, int& target, int min, int max,
                                const std::string& help) {
  return add_ranged_option<int, std::int64_t>(cmd, names, target, min, max, help, "INT", parse_integer);
}

CLI::Option* add_number_option(CLI::App& cmd, const std::string& names, double& target, double min, double max,
                               const std::string& help) {
  return add_ranged_option<double, double>(cmd, names, target, min, max, help, "NUMBER", parse_number);
}

Status check_runtime(const RuntimeFlags& flags) { return backend_options(flags).status(); }

Result<ml::BackendOptions> backend_options(const RuntimeFlags& flags) {
  ATELIER_TRY(resolve_thread_count(flags.threads).status());
  ml::BackendOptions o;
  o.threads = flags.threads;
  ATELIER_ASSIGN_OR_RETURN(o.backend, ml::parse_backend(flags.backend));
  ATELIER_ASSIGN_OR_RETURN(o.precision, ml::parse_precision(flags.precision));
  if (flags.no_fast_conv) {
    if (o.backend != ml::BackendKind::kAuto && o.backend != ml::BackendKind::kOpenCv) {
      return invalid_argument(std::string("--no-fast-conv means --backend opencv; it cannot go with --backend ") +
                              ml::backend_name(o.backend));
    }
    o.backend = ml::BackendKind::kOpenCv;
  }
  ATELIER_TRY(ml::check_backend_options(o));
  if (!flags.inference_url.empty()) {
    ATELIER_TRY(ml::parse_inference_url(flags.inference_url, "model").status());
    o.inference_url = flags.inference_url;
  }
  return o;
}

Result<Limits> limits_from_flag(const std::string& max_pixels) {
  ATELIER_ASSIGN_OR_RETURN(std::uint64_t px, parse_pixel_count(max_pixels));
  Limits limits;
  limits.max_input_pixels = px;
  limits.max_output_pixels = px;
  return limits;
}

void add_runtime_flags(CLI::App& cmd, RuntimeFlags& flags) {
  add_integer_option(cmd, "--threads", flags.threads, 1, kMaxThreads,
                     "Worker threads, 1-" + std::to_string(kMaxThreads) + " (default: $ATELIER_THREADS, else all cores)");
  cmd.add_flag("-q,--quiet", flags.quiet, "No progress bar and no per-file lines; errors only");
  cmd.add_option("--backend", flags.backend,
                 "Inference: auto (oneDNN where it runs the model, else winograd), onednn, winograd (OpenCV DNN "
                 "with Atelier's Winograd convolution) or opencv (OpenCV DNN's own, the reference)")
      ->default_str("auto");
  cmd.add_option("--precision", flags.precision,
                 "oneDNN compute precision: auto (the fastest whose precision check passed: int8, else bf16 where the CPU "
                 "has native bf16, else fp32), fp32, bf16 or int8 (needs atelier models calibrate)")
      ->default_str("auto");
  cmd.add_flag("--no-fast-conv", flags.no_fast_conv, "Same as --backend opencv (for comparison)");
  cmd.add_option("--inference-url", flags.inference_url,
                 "Run the models on this KServe v2 server (Triton, or another atelier serve: http(s)://HOST:PORT); "
                 "pre- and post-processing stay here. Token: $ATELIER_INFERENCE_TOKEN")
      ->type_name("URL");
}

void print_json(const nlohmann::json& j, int indent) {
  std::printf("%s\n", j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

}  // namespace atelier::cli
