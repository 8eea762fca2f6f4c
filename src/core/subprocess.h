// Runs an external program (e.g. `npm pack`) without a shell: argv is passed as is, so no
// argument is ever interpreted by a shell. Output is captured; a timeout kills the child.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"

namespace atelier {

struct ProcessResult {
  int exit_code = -1;  // the child's exit status, or 128+signal when killed by a signal
  std::string out;     // captured stdout
  std::string err;     // captured stderr
};

struct ProcessOptions {
  std::filesystem::path working_dir;  // empty: inherit
  std::chrono::milliseconds timeout{0};  // 0: no limit
  std::size_t max_output = 16u << 20;  // bytes kept per stream; the rest is discarded
};

// Searches PATH like execvp. Empty result when not found.
std::filesystem::path find_program(const std::string& name);

// Errors: kNotFound when argv[0] cannot be started, kDeadlineExceeded on timeout (the
// child is killed). A non-zero exit is not an error here: check exit_code.
Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

}  // namespace atelier
