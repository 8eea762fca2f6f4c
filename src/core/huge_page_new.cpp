#include "core/huge_page_new.h"

#include <atomic>
#include <cstdlib>
#include <new>

#include <malloc.h>

#include "core/aligned_memory.h"

#if defined(__SANITIZE_ADDRESS__)
#define ATELIER_REPLACE_NEW 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ATELIER_REPLACE_NEW 0
#endif
#endif
#ifndef ATELIER_REPLACE_NEW
#define ATELIER_REPLACE_NEW 1
#endif

namespace atelier {
namespace {
std::atomic<bool> g_enabled{false};
}  // namespace

void enable_huge_page_new() { g_enabled.store(ATELIER_REPLACE_NEW != 0, std::memory_order_relaxed); }
bool huge_page_new_enabled() { return g_enabled.load(std::memory_order_relaxed); }
bool huge_page_new_replaced() { return ATELIER_REPLACE_NEW != 0; }

bool keep_freed_blocks_for_reuse() {
  if (ATELIER_REPLACE_NEW == 0) return false;  // AddressSanitizer's allocator
  return mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
}

}  // namespace atelier

#if ATELIER_REPLACE_NEW
// The replaceable global allocation functions ([new.delete.single]): libstdc++'s array and
// nothrow forms forward to these, and its aligned forms use aligned_alloc/free, which
// free() here matches too.
void* operator new(std::size_t n) {
  for (;;) {
    void* p = std::malloc(n ? n : 1);
    if (p) {
      if (atelier::huge_page_new_enabled()) atelier::advise_huge_pages(p, n);  // blocks of 2 MiB or more
      return p;
    }
    std::new_handler handler = std::get_new_handler();
    if (!handler) throw std::bad_alloc();
    handler();
  }
}

void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif
