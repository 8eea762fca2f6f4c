// The direct 3×3 kernel for few output channels (ml/direct_conv.h), against the reference.
#include "ml/direct_conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

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
  std::mt19937 rng(c.cin * 31 + c.cout);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> in(std::size_t(c.batch) * c.cin * c.h * c.w), w(std::size_t(c.cout) * c.cin * 9),
      bias(c.cout);
  for (float& v : in) v = u(rng);
  for (float& v : w) v = u(rng);
  for (float& v : bias) v = u(rng);
  const TensorStrides is{std::size_t(c.cin) * c.h * c.w, std::size_t(c.h) * c.w, std::size_t(c.w)};
  const std::size_t orow = std::size_t(g.out_w) + 5;  // padded rows: strides are honoured
  const TensorStrides os{std::size_t(c.cout) * g.out_h * orow, std::size_t(g.out_h) * orow, orow};
  std::vector<float> want(c.batch * os.batch, -3.f), got(c.batch * os.batch, -3.f);
  const float* b = c.bias ? bias.data() : nullptr;
  reference_conv3x3(in.data(), is, want.data(), os, c.batch, g, w.data(), b, c.act);
  direct_conv3x3(in.data(), is, got.data(), os, c.batch, g, w.data(), b, c.act);
  double diff = 0, mag = 1e-12;
  for (std::size_t i = 0; i < got.size(); ++i) {
    diff = std::max(diff, double(std::fabs(got[i] - want[i])));
    mag = std::max(mag, double(std::fabs(want[i])));
  }
  EXPECT_LE(diff / mag, 1e-5);
}

TEST(DirectConv, MatchesReference) {
  const ConvActivation none{}, relu{true, 0.f}, leaky{true, 0.1f};
  const Case cases[] = {
      {64, 1, 45, 38, 1, 1, 1, 1, 1, 1, 1, true, none},
      {16, 3, 37, 53, 1, 1, 1, 1, 1, 1, 2, false, relu},
      {8, 7, 20, 21, 2, 2, 2, 2, 2, 2, 1, true, leaky},
      {8, 2, 40, 41, 8, 8, 8, 8, 8, 8, 1, true, relu},
      {5, 12, 9, 10, 1, 2, 0, 3, 1, 1, 1, true, none},  // asymmetric; two output groups
      {4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, none},    // tiny map
      {6, 2, 17, 19, 0, 0, 0, 0, 1, 2, 1, false, none}, // no padding, mixed dilation
  };
  for (const Case& c : cases) check(c);
}

}  // namespace
}  // namespace atelier::ml
