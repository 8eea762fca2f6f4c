// Process-wide 2 MiB pages for large blocks from operator new (std::string, std::vector,
// protobuf's parsed weights, ...). The replacement operator new is plain malloc and
// operator delete plain free; once enabled, each block of 2 MiB or more is also advised to
// huge pages (advise_huge_pages in aligned_memory.h), at no cost in memory.
// Why: first touch of fresh memory costs one page fault per 4 KiB page, and a cutout
// touches ~0.5 GB; on a virtual machine that was ~10 µs a fault (133k faults: 1.3 s of a
// 2.9 s process). Builds with AddressSanitizer keep its own operator new (enable is a no-op
// there). Call once at start-up, before threads; thread-safe afterwards.
#pragma once

namespace atelier {

void enable_huge_page_new();
bool huge_page_new_enabled();
// Whether this build replaces operator new at all (false under AddressSanitizer).
bool huge_page_new_replaced();

// Process-wide: freed blocks up to 32 MiB stay in malloc's heap for the next allocation
// instead of going back to the system (mallopt: mmap threshold 32 MiB, no trimming below
// 1 GiB free), so a batch or a server pays first-touch faults once, not per photo: at
// 1 MP that was 40-100 ms of each cutout's 0.35-0.45 s. A one-photo process peaks the
// same; a long-lived one keeps its largest working set. Returns false where malloc is not
// glibc's (AddressSanitizer's allocator ignores it). Call once at start-up, before threads.
bool keep_freed_blocks_for_reuse();

}  // namespace atelier
