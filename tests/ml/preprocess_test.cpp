#include "ml/preprocess.h"

#include <gtest/gtest.h>

namespace atelier::ml {
namespace {

TEST(Preprocess, SizeChannelOrderAndIsnetNormalisation) {
  // A flat colour survives any bilinear resize exactly: every value is (v − 128) / 256.
  image::Image img(cv::Mat(30, 50, CV_8UC3, cv::Scalar(10, 200, 255)));  // R, G, B
  Preprocess pre = preset("isnet")->first;
  pre.width = 16;
  pre.height = 8;
  Tensor t = make_input_tensor(img, pre);
  ASSERT_EQ(t.shape, (std::vector<int>{1, 3, 8, 16}));
  ASSERT_EQ(t.data.size(), 3u * 8 * 16);
  const float r = (10.f - 128.f) / 256.f, g = (200.f - 128.f) / 256.f, b = (255.f - 128.f) / 256.f;
  for (int i = 0; i < 128; ++i) {
    ASSERT_FLOAT_EQ(t.data[i], r);
    ASSERT_FLOAT_EQ(t.data[128 + i], g);
    ASSERT_FLOAT_EQ(t.data[256 + i], b);
  }
  pre.channel_order = "BGR";
  Tensor bgr = make_input_tensor(img, pre);
  EXPECT_FLOAT_EQ(bgr.data[0], b);
  EXPECT_FLOAT_EQ(bgr.data[256], r);
}

TEST(Preprocess, BilinearResizeAndPerChannelMeanStd) {
  // Two columns 0 and 255, stretched to four: half-pixel centres give 0, 64, 191, 255.
  cv::Mat m(1, 2, CV_8UC3);
  m.at<cv::Vec3b>(0, 0) = {0, 0, 0};
  m.at<cv::Vec3b>(0, 1) = {255, 255, 255};
  Preprocess pre{4, 1, "RGB", {0, 10, 20}, {1, 2, 4}};
  Tensor t = make_input_tensor(image::Image(m), pre);
  EXPECT_EQ(t.data[0], 0.f);
  EXPECT_EQ(t.data[1], 64.f);
  EXPECT_EQ(t.data[2], 191.f);
  EXPECT_EQ(t.data[3], 255.f);
  EXPECT_EQ(t.data[4 + 1], (64.f - 10.f) / 2.f);
  EXPECT_EQ(t.data[8 + 3], (255.f - 20.f) / 4.f);
  // ISNet's preset samples like IMG.LY's pipeline: src = dst · scale, so 0, 128, 255, 255.
  pre.sampling = image::Sampling::kAsymmetric;
  Tensor a = make_input_tensor(image::Image(m), pre);
  EXPECT_EQ(a.data[0], 0.f);
  EXPECT_EQ(a.data[1], 128.f);
  EXPECT_EQ(a.data[2], 255.f);
  EXPECT_EQ(a.data[3], 255.f);
  EXPECT_EQ(preset("isnet")->first.sampling, image::Sampling::kAsymmetric);
}

TEST(Preprocess, GraySixteenBitAndAlphaInputs) {
  Preprocess pre{4, 4, "RGB", {0, 0, 0}, {1, 1, 1}};
  Tensor gray = make_input_tensor(image::Image(cv::Mat(6, 6, CV_8UC1, cv::Scalar(77))), pre);
  EXPECT_EQ(gray.data[0], 77.f);
  EXPECT_EQ(gray.data[16], 77.f);
  EXPECT_EQ(gray.data[32], 77.f);
  Tensor deep = make_input_tensor(image::Image(cv::Mat(6, 6, CV_16UC3, cv::Scalar(257 * 40, 257 * 80, 65535))), pre);
  EXPECT_EQ(deep.data[0], 40.f);
  EXPECT_EQ(deep.data[16], 80.f);
  EXPECT_EQ(deep.data[32], 255.f);
  Tensor rgba = make_input_tensor(image::Image(cv::Mat(6, 6, CV_8UC4, cv::Scalar(1, 2, 3, 0))), pre);
  EXPECT_EQ(rgba.data[32], 3.f);
}

TEST(Postprocess, ActivationNormalisationAndClamp) {
  Tensor out{{1, 1, 1, 4}, {-2.f, 0.f, 0.5f, 2.f}};
  auto plain = output_to_map(out, {"o", "none", false});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->size(), cv::Size(4, 1));
  EXPECT_EQ(plain->at<float>(0, 0), 0.f);  // clamped
  EXPECT_EQ(plain->at<float>(0, 2), 0.5f);
  EXPECT_EQ(plain->at<float>(0, 3), 1.f);
  auto sig = output_to_map(out, {"o", "sigmoid", false});
  EXPECT_FLOAT_EQ(sig->at<float>(0, 1), 0.5f);
  EXPECT_FLOAT_EQ(sig->at<float>(0, 3), 1.f / (1.f + std::exp(-2.f)));
  auto mm = output_to_map(out, {"o", "none", true});
  EXPECT_EQ(mm->at<float>(0, 0), 0.f);
  EXPECT_FLOAT_EQ(mm->at<float>(0, 1), 0.5f);
  EXPECT_EQ(mm->at<float>(0, 3), 1.f);
  EXPECT_EQ(output_to_map(Tensor{{1, 2, 1, 2}, {0, 0, 0, 0}}, {}).status().message(),
            "model output is not a single map (shape has 2 at axis 1)");
  EXPECT_EQ(output_to_map(Tensor{{1, 1, 2, 2}, {0, 0}}, {}).status().message(),
            "model output shape does not match its data");
}

}  // namespace
}  // namespace atelier::ml
