// What every atelier process pays before it does anything: OpenCV's imgcodecs (and its
// ~120 libraries) is opened only when a PNG, TIFF or BMP is decoded or a non-8-bit-PNG
// encoded (image/opencv_codecs.h), so it must not be among the command's own libraries.
#include <gtest/gtest.h>

#include "core/subprocess.h"

namespace atelier {
namespace {

TEST(Startup, TheCommandDoesNotLinkOpenCvsImageCodecs) {
  auto r = run_process({"readelf", "-d", ATELIER_BINARY});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->exit_code, 0) << r->err;
  EXPECT_NE(r->out.find("libopencv_core"), std::string::npos) << r->out;  // the listing is real
  EXPECT_EQ(r->out.find("libopencv_imgcodecs"), std::string::npos) << r->out;
}

}  // namespace
}  // namespace atelier
