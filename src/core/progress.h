// A one-line progress bar on stderr for batch commands. It draws only when stderr is a
// terminal and it is enabled; otherwise every call is a no-op. Not thread-safe.
#pragma once

#include <chrono>
#include <string>

namespace atelier {

class ProgressBar {
 public:
  ProgressBar(int total, bool enabled);
  ~ProgressBar();
  // Redraws with `done` items finished, `label` naming the current one.
  void update(int done, const std::string& label);
  // Erases the bar so that normal output can follow on a clean line.
  void clear();

 private:
  int total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

bool stderr_is_terminal();

}  // namespace atelier
