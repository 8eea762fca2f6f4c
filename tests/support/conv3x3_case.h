// Shared set-up for the 3×3 convolution kernel tests (winograd_test, direct_conv_test):
// a case description, random data for it, output rows padded so that strides are
// checked, and the double-precision reference result.
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "ml/winograd.h"

namespace atelier::testing {

struct Conv3x3Case {
  int cin, cout, h, w;
  int pt, pb, pl, pr;  // padding top, bottom, left, right
  int dh, dw;          // dilation
  int batch;
  bool bias;
  ml::ConvActivation act;
};

struct Conv3x3Data {
  ml::Conv3x3Geometry g;
  std::vector<float> in, weights, bias;
  ml::TensorStrides in_strides, out_strides;
  std::size_t out_row = 0;   // floats per output row (width + padding)
  std::vector<float> want;   // reference output; padding holds `fill`
  std::vector<float> got;    // same size, every value `fill`
  const float* bias_or_null() const { return bias.empty() ? nullptr : bias.data(); }
};

inline Conv3x3Data conv3x3_data(const Conv3x3Case& c, unsigned seed, std::size_t row_padding, float fill) {
  Conv3x3Data d;
  ml::Conv3x3Geometry& g = d.g;
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
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  d.in.resize(std::size_t(c.batch) * c.cin * c.h * c.w);
  d.weights.resize(std::size_t(c.cout) * c.cin * 9);
  for (float& v : d.in) v = u(rng);
  for (float& v : d.weights) v = u(rng);
  if (c.bias) {
    d.bias.resize(std::size_t(c.cout));
    for (float& v : d.bias) v = u(rng);
  }
  d.in_strides = {std::size_t(c.cin) * c.h * c.w, std::size_t(c.h) * c.w, std::size_t(c.w)};
  d.out_row = std::size_t(std::max(g.out_w, 0)) + row_padding;
  d.out_strides = {std::size_t(c.cout) * std::max(g.out_h, 0) * d.out_row, std::size_t(std::max(g.out_h, 0)) * d.out_row,
                   d.out_row};
  d.want.assign(std::size_t(c.batch) * d.out_strides.batch, fill);
  d.got = d.want;
  if (g.out_h > 0 && g.out_w > 0) {
    ml::reference_conv3x3(d.in.data(), d.in_strides, d.want.data(), d.out_strides, c.batch, g, d.weights.data(),
                          d.bias_or_null(), c.act);
  }
  return d;
}

// max |got − want| / max |want|
inline double max_rel_error(const std::vector<float>& got, const std::vector<float>& want) {
  double diff = 0, mag = 1e-12;
  for (std::size_t i = 0; i < got.size(); ++i) {
    diff = std::max(diff, double(std::fabs(got[i] - want[i])));
    mag = std::max(mag, double(std::fabs(want[i])));
  }
  return diff / mag;
}

}  // namespace atelier::testing
