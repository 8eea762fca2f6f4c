// Large uninitialised allocations that fault in as few pages as possible: aligned to 64
// bytes, and from 2 MiB up aligned to 2 MiB and advised to 2 MiB pages (MADV_HUGEPAGE, a
// hint the kernel may ignore), so that hundreds of MB of model weights or activations
// take 512× fewer page faults on first touch. Freed with std::free.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>

namespace atelier {

struct FreeAligned {
  void operator()(void* p) const { std::free(p); }
};
using AlignedMemory = std::unique_ptr<void, FreeAligned>;

// `bytes` (at least 1) of uninitialised memory; null when out of memory.
AlignedMemory allocate_aligned(std::size_t bytes);

}  // namespace atelier
