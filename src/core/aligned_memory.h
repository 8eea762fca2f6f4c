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

// The huge page size this code aims at (x86-64's 2 MiB PMD pages).
inline constexpr std::size_t kHugePageBytes = std::size_t(2) << 20;

// `bytes` (at least 1) of uninitialised memory; null when out of memory.
AlignedMemory allocate_aligned(std::size_t bytes);

// Advises the whole 2 MiB pages inside [p, p + bytes) to huge pages (MADV_HUGEPAGE) and
// leaves the partial pages at either end as they are, so a block costs no memory beyond
// its own size. For blocks from plain malloc; a no-op below kHugePageBytes.
void advise_huge_pages(void* p, std::size_t bytes);

// Returns the whole 4 KiB pages inside [p, p + bytes) of private anonymous memory (ours:
// allocate_aligned, malloc) to the system (MADV_DONTNEED): a buffer read once can shrink as
// it is consumed. Those pages read as zeros afterwards; the partial pages at the ends keep
// their bytes.
void release_pages(const void* p, std::size_t bytes);

}  // namespace atelier
