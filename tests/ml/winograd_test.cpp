// The Winograd F(4×4, 3×3) kernel on its own (ml/winograd.h), against a direct convolution.
#include "ml/winograd.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <opencv2/core/utility.hpp>

namespace atelier::ml {
namespace {

struct Case {
  int cin, cout, h, w;
  int pt, pb, pl, pr;
  int dh, dw;
  int batch;
  bool bias;
  ConvActivation act;
};

double max_rel_error(const std::vector<float>& got, const std::vector<float>& want) {
  double diff = 0, mag = 1e-12;
  for (std::size_t i = 0; i < got.size(); ++i) {
    diff = std::max(diff, double(std::fabs(got[i] - want[i])));
    mag = std::max(mag, double(std::fabs(want[i])));
  }
  return diff / mag;
}

void check(const Case& c) {
  SCOPED_TRACE(::testing::Message() << c.cin << "->" << c.cout << " " << c.h << "x" << c.w
                                    << " pads " << c.pt << c.pb << c.pl << c.pr << " dil " << c.dh
                                    << "x" << c.dw << " batch " << c.batch);
  Conv3x3Geometry g;
  g.in_channels = c.cin;
  g.out_channels = c.cout;
  g.in_h = c.h;
  g.in_w = c.w;
  g.pad_top = c.pt;
  g.pad_left = c.pl;
  g.dilation_h = c.dh;
  g.dilation_w = c.dw;
  g.out_h = c.h + c.pt + c.pb - 2 * c.dh;
  g.out_w = c.w + c.pl + c.pr - 2 * c.dw;
  ASSERT_GT(g.out_h, 0);
  ASSERT_GT(g.out_w, 0);

  std::mt19937 rng(c.cin * 131 + c.cout * 7 + c.h);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> in(std::size_t(c.batch) * c.cin * c.h * c.w), w(std::size_t(c.cout) * c.cin * 9),
      bias(c.cout);
  for (float& v : in) v = u(rng);
  for (float& v : w) v = u(rng);
  for (float& v : bias) v = u(rng);

  // Output rows padded (row stride > width) to check that strides are honoured.
  const TensorStrides is{std::size_t(c.cin) * c.h * c.w, std::size_t(c.h) * c.w, std::size_t(c.w)};
  const std::size_t orow = std::size_t(g.out_w) + 3;
  const TensorStrides os{std::size_t(c.cout) * g.out_h * orow, std::size_t(g.out_h) * orow, orow};
  std::vector<float> want(c.batch * os.batch, -7.f), got(c.batch * os.batch, -7.f);
  reference_conv3x3(in.data(), is, want.data(), os, c.batch, g, w.data(), c.bias ? bias.data() : nullptr,
                    c.act);
  WinogradConv3x3 conv;
  conv.set_weights(w.data(), c.cout, c.cin);
  EXPECT_EQ(conv.bytes(), std::size_t(36) * c.cout * c.cin * sizeof(float));
  conv.run(in.data(), is, got.data(), os, c.batch, g, c.bias ? bias.data() : nullptr, c.act);
  EXPECT_LE(max_rel_error(got, want), 1e-5);
  // The row padding is left alone.
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (i % orow >= std::size_t(g.out_w)) {
      ASSERT_EQ(got[i], -7.f) << i;
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
