// `atelier crop IN... -o OUT --aspect A [--aspect B ...]`: smart crops for many formats at
// once, the shell over vision::smart_crop; and `atelier saliency IN -o map.png`.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace atelier::cli {

std::function<int()> add_crop_command(CLI::App& app);
std::function<int()> add_saliency_command(CLI::App& app);

}  // namespace atelier::cli
