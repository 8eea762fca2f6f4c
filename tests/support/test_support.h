// Shared helpers for Atelier's tests: sample photos, temporary folders, running the CLI.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/files.h"
#include "core/subprocess.h"

namespace atelier::testing {

// A Debian sample photo (python3-skimage data), e.g. sample("astronaut.png").
std::filesystem::path sample(const std::string& name);

// The built `atelier` binary.
std::filesystem::path atelier_binary();

// A fresh temporary directory, removed at the end of the test.
TempDir temp_dir();

// Runs the atelier binary with `args` (no shell) and returns its exit code and output.
ProcessResult run_atelier(const std::vector<std::string>& args);

// A LargeBuffer holding a copy of `bytes` (what read_large_file gives for a file of them).
LargeBuffer large_buffer(const std::vector<std::uint8_t>& bytes);

// Deterministic 8-bit RGB test pattern (gradients and blocks), `w`×`h`.
cv::Mat pattern_rgb(int w, int h);

// Names of the entries of `dir`, sorted (shows that nothing partial was left behind).
std::vector<std::string> listing(const std::filesystem::path& dir);

// Writes bytes to a file (test set-up only; aborts the test on failure).
void write_bytes(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes);

// Writes a gzip'ed tar at `path` holding `files` (name inside the archive -> content),
// like the tarball `npm pack` produces (names start with "package/").
void write_tarball(const std::filesystem::path& path, const std::vector<std::pair<std::string, std::string>>& files);

// Sets an environment variable for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  bool had_ = false;
  std::string old_;
};

}  // namespace atelier::testing
