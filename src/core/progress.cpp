#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

namespace atelier {

bool stderr_is_terminal() { return ::isatty(2) == 1; }

ProgressBar::ProgressBar(int total, bool enabled)
    : total_(total), enabled_(enabled && stderr_is_terminal()), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { clear(); }

void ProgressBar::update(int done, const std::string& label) {
  if (!enabled_ || total_ <= 0) return;
  constexpr int kWidth = 30;
  int filled = done * kWidth / total_;
  std::string bar(std::size_t(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string eta;
  if (done > 0 && done < total_) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " eta %.0fs", secs / done * (total_ - done));
    eta = buf;
  }
  std::string name = label.size() > 40 ? "..." + label.substr(label.size() - 37) : label;
  std::fprintf(stderr, "\r\033[K[%s] %d/%d%s %s", bar.c_str(), done, total_, eta.c_str(), name.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::clear() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace atelier
