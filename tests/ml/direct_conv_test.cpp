// The direct 3×3 kernel for few output channels (ml/direct_conv.h), against the reference.
#include "ml/direct_conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "support/conv3x3_case.h"

namespace atelier::ml {
namespace {

using Case = testing::Conv3x3Case;

void check(const Case& c) {
  SCOPED_TRACE(::testing::Message() << c.cin << "->" << c.cout << " " << c.h << "x" << c.w
                                    << " pads " << c.pt << c.pb << c.pl << c.pr << " dil " << c.dh
                                    << "x" << c.dw << " batch " << c.batch);
  // Output rows padded (row stride > width) to check that strides are honoured.
  testing::Conv3x3Data d = testing::conv3x3_data(c, unsigned(c.cin * 31 + c.cout), 5, -3.f);
  direct_conv3x3(d.in.data(), d.in_strides, d.got.data(), d.out_strides, c.batch, d.g, d.weights.data(),
                 d.bias_or_null(), c.act);
  EXPECT_LE(testing::max_rel_error(d.got, d.want), 1e-5);
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
