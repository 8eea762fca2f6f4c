// One call at a program's start so that large image buffers fault in 2 MiB pages:
// cv::Mat data of 2 MiB or more comes from allocate_aligned (core/aligned_memory.h), and
// operator new does the same for large blocks (core/huge_page_new.h). A 12 MP cutout
// allocates a dozen 36-144 MB maps; with 4 KiB pages their first touch was a third of its
// time on a virtual machine. Smaller Mats and user-supplied data keep OpenCV's own
// allocator. Call before other threads start; idempotent.
#pragma once

namespace atelier::image {

void use_huge_pages_for_large_buffers();

}  // namespace atelier::image
