#include "image/huge_page_mats.h"

#include <cstdlib>

#include <opencv2/core.hpp>

#include "core/aligned_memory.h"
#include "core/huge_page_new.h"

namespace atelier::image {
namespace {

// Mat data from allocate_aligned when large. Each UMatData records the allocator that made
// it (currAllocator), so blocks handed to OpenCV's standard allocator return there.
class HugePageAllocator final : public cv::MatAllocator {
 public:
  cv::UMatData* allocate(int dims, const int* sizes, int type, void* data, size_t* step, cv::AccessFlag flags,
                         cv::UMatUsageFlags usage) const override {
    const cv::MatAllocator* std_allocator = cv::Mat::getStdAllocator();
    if (data) return std_allocator->allocate(dims, sizes, type, data, step, flags, usage);
    // Dense steps, innermost dimension last (what Mat::create asks for).
    std::size_t total = CV_ELEM_SIZE(type);
    for (int i = dims - 1; i >= 0; --i) {
      if (step) step[i] = total;
      total *= std::size_t(sizes[i]);
    }
    if (total < kHugePageBytes) return std_allocator->allocate(dims, sizes, type, nullptr, step, flags, usage);
    void* block = nullptr;
    if (::posix_memalign(&block, 64, total) != 0) CV_Error(cv::Error::StsNoMem, "out of memory");
    advise_huge_pages(block, total);
    auto* u = new cv::UMatData(this);
    u->data = u->origdata = static_cast<uchar*>(block);
    u->size = total;
    return u;
  }

  bool allocate(cv::UMatData* u, cv::AccessFlag, cv::UMatUsageFlags) const override { return u != nullptr; }

  void deallocate(cv::UMatData* u) const override {
    if (!u) return;
    CV_Assert(u->urefcount == 0 && u->refcount == 0);
    std::free(u->origdata);
    u->origdata = nullptr;
    delete u;
  }
};

}  // namespace

void use_huge_pages_for_large_buffers() {
  static HugePageAllocator allocator;  // lives as long as any Mat may
  enable_huge_page_new();
  cv::Mat::setDefaultAllocator(&allocator);
}

}  // namespace atelier::image
