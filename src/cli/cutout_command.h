// `atelier cutout IN [IN...] -o OUT`: background removal over files and folders, the
// shell over vision::cutout (one model load for the whole batch).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace atelier::cli {

std::function<int()> add_cutout_command(CLI::App& app);

}  // namespace atelier::cli
