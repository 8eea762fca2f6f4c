// `atelier models fetch | import | list`: the shell over ml/model_fetch.h and model_store.h.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace atelier::cli {

// Registers the subcommand; the returned function runs it after parsing (exit code).
std::function<int()> add_models_command(CLI::App& app);

}  // namespace atelier::cli
