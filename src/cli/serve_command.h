// `atelier serve`: the HTTP service (src/server) with its flags, each also read from the
// environment as ATELIER_SERVE_<FLAG> (ATELIER_SERVE_PORT=9000).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace atelier::cli {

std::function<int()> add_serve_command(CLI::App& app);

}  // namespace atelier::cli
