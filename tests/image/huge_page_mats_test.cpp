// The process-wide allocators of image/huge_page_mats.h: large Mats come from Atelier's
// allocator and behave as any Mat (views, clones, release); small ones and Mats over user
// data stay with OpenCV's; large operator new blocks work and are freed.
#include "image/huge_page_mats.h"

#include <cstdlib>
#include <cstring>
#include <numeric>
#include <vector>

#include <sys/resource.h>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "core/huge_page_new.h"

namespace atelier::image {
namespace {

class HugePages : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { use_huge_pages_for_large_buffers(); }
};

TEST_F(HugePages, LargeMatsUseTheAllocatorAndWorkAsMats) {
  cv::Mat big(3000, 4000, CV_8UC3);
  ASSERT_NE(big.u, nullptr);
  EXPECT_NE(big.u->currAllocator, cv::Mat::getStdAllocator());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(big.data) % 64, 0u);  // as OpenCV aligns
  big.setTo(cv::Scalar(1, 2, 3));
  cv::Mat roi = big(cv::Rect(100, 200, 50, 60));
  EXPECT_EQ(roi.at<cv::Vec3b>(5, 5), cv::Vec3b(1, 2, 3));
  cv::Mat copy = big.clone();
  big.release();
  EXPECT_EQ(roi.at<cv::Vec3b>(59, 49), cv::Vec3b(1, 2, 3));  // the view keeps the block alive
  roi.release();
  cv::Mat gray;
  cv::cvtColor(copy, gray, cv::COLOR_RGB2GRAY);  // OpenCV's own outputs come from it too
  EXPECT_NE(gray.u->currAllocator, cv::Mat::getStdAllocator());
  EXPECT_EQ(cv::countNonZero(gray), int(gray.total()));
}

TEST_F(HugePages, SmallMatsAndUserDataStayWithOpenCv) {
  cv::Mat small(10, 10, CV_32F, cv::Scalar(2));
  EXPECT_EQ(small.u->currAllocator, cv::Mat::getStdAllocator());
  std::vector<float> data(1 << 20, 1.f);
  cv::Mat over(1024, 1024, CV_32F, data.data());
  EXPECT_EQ(over.u, nullptr);  // no allocation at all
  EXPECT_EQ(cv::sum(over)[0], double(1 << 20));
  cv::Mat nd(std::vector<int>{64, 64, 256}, CV_32F, cv::Scalar(1));  // 4 MiB, three dimensions
  EXPECT_NE(nd.u->currAllocator, cv::Mat::getStdAllocator());
  EXPECT_EQ(nd.step[0], std::size_t(64 * 256 * 4));
  EXPECT_EQ(cv::sum(nd)[0], 64.0 * 64 * 256);
}

TEST_F(HugePages, LargeOperatorNewBlocksWork) {
  EXPECT_EQ(huge_page_new_enabled(), huge_page_new_replaced());  // on, except under ASan
#if !defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
  EXPECT_TRUE(huge_page_new_replaced());  // a GCC release build replaces it
#endif
  std::vector<std::uint32_t> v(std::size_t(3) << 20);  // 12 MiB
  std::iota(v.begin(), v.end(), 0u);
  EXPECT_EQ(v.back(), (3u << 20) - 1);
  v.resize(v.size() * 2, 7u);  // regrown into a new block, the old one freed
  EXPECT_EQ(v[12345], 12345u);
  EXPECT_EQ(v.back(), 7u);
  auto array = std::make_unique<double[]>(std::size_t(1) << 20);
  array[(1 << 20) - 1] = 1.5;
  EXPECT_EQ(array[(1 << 20) - 1], 1.5);
}

// Four freed 20 MiB blocks serve a following 30 MiB one: touching it faults no pages.
// By default glibc gives them back to the system (as mmap'd blocks, or by trimming a
// heap top of more than twice its learnt mmap threshold, at most 64 MiB), and every page
// faults anew.
TEST_F(HugePages, FreedBlocksAreReusedWithoutNewFaults) {
  const bool kept = keep_freed_blocks_for_reuse();
  EXPECT_EQ(kept, huge_page_new_replaced());  // glibc's malloc, except under ASan
  if (!kept) return;
  auto faults = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
  };
  const std::size_t mib = std::size_t(1) << 20;
  std::vector<void*> blocks;
  for (int i = 0; i < 4; ++i) {
    blocks.push_back(std::malloc(20 * mib));
    ASSERT_NE(blocks.back(), nullptr);
    std::memset(blocks.back(), 1, 20 * mib);
  }
  int sum = 0;  // read back, so that the compiler keeps the writes before free
  for (void* p : blocks) sum += static_cast<volatile unsigned char*>(p)[20 * mib - 1];
  EXPECT_EQ(sum, 4);
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) std::free(*it);
  const long before = faults();
  void* c = std::malloc(30 * mib);
  ASSERT_NE(c, nullptr);
  std::memset(c, 2, 30 * mib);
  const long after = faults();
  EXPECT_EQ(static_cast<volatile unsigned char*>(c)[30 * mib - 1], 2);
  std::free(c);
  EXPECT_LT(after - before, 16);
}

}  // namespace
}  // namespace atelier::image
