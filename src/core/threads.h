// How many worker threads heavy operations use: an explicit request, else the
// ATELIER_THREADS environment variable, else every core.
#pragma once

#include "core/status.h"

namespace atelier {

// requested > 0 wins; 0 means "ATELIER_THREADS or all cores". Errors when ATELIER_THREADS
// is set but not a positive integer.
Result<int> resolve_thread_count(int requested = 0);

}  // namespace atelier
