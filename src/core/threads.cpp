#include "core/threads.h"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace atelier {

Result<int> resolve_thread_count(int requested) {
  if (requested < 0) return invalid_argument("--threads must be a positive integer, got " + std::to_string(requested));
  if (requested > 0) return requested;
  if (const char* env = std::getenv("ATELIER_THREADS"); env && *env) {
    int v = 0;
    auto [p, ec] = std::from_chars(env, env + std::strlen(env), v);
    if (ec != std::errc() || *p != '\0' || v <= 0) {
      return invalid_argument(std::string("ATELIER_THREADS must be a positive integer, got '") + env + "'");
    }
    return v;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? int(n) : 1;
}

}  // namespace atelier
