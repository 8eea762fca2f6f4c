#include "core/aligned_memory.h"

#include <sys/mman.h>

#include <algorithm>

namespace atelier {

AlignedMemory allocate_aligned(std::size_t bytes) {
  constexpr std::size_t kHuge = std::size_t(2) << 20;
  const bool huge = bytes >= kHuge;
  const std::size_t size = huge ? (bytes + kHuge - 1) / kHuge * kHuge : std::max<std::size_t>(bytes, 64);
  void* p = nullptr;
  if (::posix_memalign(&p, huge ? kHuge : 64, size) != 0) return nullptr;
  if (huge) ::madvise(p, size, MADV_HUGEPAGE);
  return AlignedMemory(p);
}

}  // namespace atelier
