#include "core/threads.h"

#include <cstdlib>
#include <thread>

#include "core/limits.h"
#include "core/parse.h"

namespace atelier {

Result<int> resolve_thread_count(int requested) {
  if (requested != 0) {
    if (requested < 1) return invalid_argument("--threads: must be at least 1, got " + std::to_string(requested));
    if (requested > kMaxThreads) {
      return invalid_argument("--threads: must be at most " + std::to_string(kMaxThreads) + ", got " +
                              std::to_string(requested));
    }
    return requested;
  }
  if (const char* env = std::getenv("ATELIER_THREADS"); env && *env) {
    auto v = parse_integer(env, 1, kMaxThreads);
    if (!v.ok()) return invalid_argument("ATELIER_THREADS: " + v.status().message());
    return int(*v);
  }
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? int(std::min<unsigned>(n, kMaxThreads)) : 1;
}

}  // namespace atelier
