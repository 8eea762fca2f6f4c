// The Winograd F(4×4, 3×3) kernel on its own (ml/winograd.h), against a direct convolution.
#include "ml/winograd.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <opencv2/core/utility.hpp>

#include "support/conv3x3_case.h"

namespace atelier::ml {
namespace {

using testing::Conv3x3Case;
using testing::max_rel_error;
using Case = Conv3x3Case;

void check(const Case& c) {
  SCOPED_TRACE(::testing::Message() << c.cin << "->" << c.cout << " " << c.h << "x" << c.w
                                    << " pads " << c.pt << c.pb << c.pl << c.pr << " dil " << c.dh
                                    << "x" << c.dw << " batch " << c.batch);
  // Output rows padded (row stride > width) to check that strides are honoured.
  testing::Conv3x3Data d = testing::conv3x3_data(c, unsigned(c.cin * 131 + c.cout * 7 + c.h), 3, -7.f);
  ASSERT_GT(d.g.out_h, 0);
  ASSERT_GT(d.g.out_w, 0);
  WinogradConv3x3 conv;
  conv.set_weights(d.weights.data(), c.cout, c.cin);
  EXPECT_EQ(conv.bytes(), std::size_t(36) * c.cout * c.cin * sizeof(float));
  conv.run(d.in.data(), d.in_strides, d.got.data(), d.out_strides, c.batch, d.g, d.bias_or_null(), c.act);
  EXPECT_LE(max_rel_error(d.got, d.want), 1e-5);
  // The row padding is left alone.
  for (std::size_t i = 0; i < d.got.size(); ++i) {
    if (i % d.out_row >= std::size_t(d.g.out_w)) {
      ASSERT_EQ(d.got[i], -7.f) << i;
    }
  }
}

TEST(Winograd, MatchesDirectConvolution) {
  const ConvActivation none{}, relu{true, 0.f}, leaky{true, 0.1f};
  const Case cases[] = {
      {8, 8, 4, 4, 1, 1, 1, 1, 1, 1, 1, true, none},          // one tile
      {4, 8, 3, 2, 1, 1, 1, 1, 1, 1, 1, true, relu},          // 3×2 output, part of a tile
      {16, 8, 37, 53, 1, 1, 1, 1, 1, 1, 1, true, relu},       // tiles do not divide
      {3, 16, 17, 9, 0, 0, 0, 0, 1, 1, 2, false, none},       // no padding, batch 2
      {16, 24, 37, 53, 2, 2, 2, 2, 2, 2, 1, true, leaky},     // dilation 2
      {17, 9, 40, 41, 4, 4, 4, 4, 4, 4, 1, true, relu},       // dilation 4
      {8, 8, 70, 71, 8, 8, 8, 8, 8, 8, 1, false, relu},       // dilation 8
      {8, 8, 20, 31, 1, 1, 2, 2, 1, 2, 1, true, none},        // dilation 1×2
      {5, 7, 9, 10, 1, 2, 0, 3, 1, 1, 1, true, none},         // asymmetric padding
      {6, 10, 23, 19, 3, 0, 1, 2, 2, 3, 2, true, leaky},      // asymmetric, mixed dilation
      {300, 40, 13, 11, 1, 1, 1, 1, 1, 1, 1, true, relu},     // input channels in chunks
      {20, 300, 12, 12, 2, 1, 1, 2, 2, 2, 1, true, none},     // output channels in chunks
      {12, 16, 130, 140, 1, 1, 1, 1, 1, 1, 1, true, relu},    // many tile blocks
  };
  for (const Case& c : cases) check(c);
}

TEST(Winograd, SameResultWithOneThread) {
  const Case c{32, 48, 45, 61, 1, 1, 1, 1, 1, 1, 1, true, ConvActivation{true, 0.f}};
  const int saved = cv::getNumThreads();
  cv::setNumThreads(1);
  check(c);
  cv::setNumThreads(saved);
  check(c);
}

TEST(Winograd, TileCount) {
  Conv3x3Geometry g;
  g.out_h = 16;
  g.out_w = 16;
  EXPECT_EQ(winograd_tile_count(g), 16);
  g.out_h = 17;
  EXPECT_EQ(winograd_tile_count(g), 20);
  g.out_h = 16;
  g.dilation_h = g.dilation_w = 8;  // 64 sub-grids of 2×2, one tile each
  EXPECT_EQ(winograd_tile_count(g), 64);
}

TEST(Winograd, ScaledWeights) {
  // set_weights' per-output scale equals scaling the weights beforehand.
  const int cin = 8, cout = 8, h = 12, w = 12;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> in(cin * h * w), wt(cout * cin * 9), scaled(wt.size()), scale(cout);
  for (float& v : in) v = u(rng);
  for (float& v : wt) v = u(rng);
  for (float& v : scale) v = 0.5f + u(rng);
  for (std::size_t i = 0; i < wt.size(); ++i) scaled[i] = wt[i] * scale[i / (cin * 9)];
  Conv3x3Geometry g;
  g.in_channels = cin;
  g.out_channels = cout;
  g.in_h = g.out_h = h;
  g.in_w = g.out_w = w;
  g.pad_top = g.pad_left = 1;
  const TensorStrides s{std::size_t(cin) * h * w, std::size_t(h) * w, std::size_t(w)};
  std::vector<float> want(cout * h * w), got(cout * h * w);
  reference_conv3x3(in.data(), s, want.data(), s, 1, g, scaled.data(), nullptr, {});
  WinogradConv3x3 conv;
  conv.set_weights(wt.data(), cout, cin, scale.data());
  conv.run(in.data(), s, got.data(), s, 1, g, nullptr, {});
  EXPECT_LE(max_rel_error(got, want), 1e-5);
}

}  // namespace
}  // namespace atelier::ml
