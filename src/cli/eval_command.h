// `atelier eval saliency DIR` and `atelier eval crop DIR`: the shell over
// vision/saliency_eval.h, printing tables (or JSON) of the metrics.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace atelier::cli {

std::function<int()> add_eval_command(CLI::App& app);

}  // namespace atelier::cli
