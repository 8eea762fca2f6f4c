#include "core/aligned_memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>

namespace atelier {

AlignedMemory allocate_aligned(std::size_t bytes) {
  constexpr std::size_t kHuge = kHugePageBytes;
  const bool huge = bytes >= kHuge;
  const std::size_t size = huge ? (bytes + kHuge - 1) / kHuge * kHuge : std::max<std::size_t>(bytes, 64);
  void* p = nullptr;
  if (::posix_memalign(&p, huge ? kHuge : 64, size) != 0) return nullptr;
  if (huge) ::madvise(p, size, MADV_HUGEPAGE);
  return AlignedMemory(p);
}

void advise_huge_pages(void* p, std::size_t bytes) {
  // From the block's first 4 KiB page to its end: the kernel maps a 2 MiB page only where
  // a whole aligned 2 MiB range lies inside the advised range, so neighbours are untouched.
  if (bytes < kHugePageBytes) return;
  const std::uintptr_t begin = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t(4095);
  const std::uintptr_t end = reinterpret_cast<std::uintptr_t>(p) + bytes;
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

void release_pages(const void* p, std::size_t bytes) {
  constexpr std::uintptr_t kPage = 4096;
  const std::uintptr_t begin = (reinterpret_cast<std::uintptr_t>(p) + kPage - 1) & ~(kPage - 1);
  const std::uintptr_t end = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(kPage - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace atelier
