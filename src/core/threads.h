// How many worker threads heavy operations use: an explicit request, else the
// ATELIER_THREADS environment variable, else every core — always 1 ... kMaxThreads
// (core/limits.h), since OpenCV's and OpenBLAS's pools crash on absurd counts.
#pragma once

#include "core/status.h"

namespace atelier {

// requested != 0 wins and must be in range; 0 means "ATELIER_THREADS or all cores" (cores
// capped at kMaxThreads). Errors (kInvalidArgument): "--threads: must be at most 256, got
// 65537", "--threads: must be at least 1, got 0"; "ATELIER_THREADS: must be at least 1,
// got 0" (or "ATELIER_THREADS: expected an integer from 1 to 256, got 'x'").
Result<int> resolve_thread_count(int requested = 0);

}  // namespace atelier
