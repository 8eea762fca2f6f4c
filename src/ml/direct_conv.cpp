#include "ml/direct_conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>

// The inner loops are also compiled for AVX2 and picked at load time.
#include "ml/simd_clones.h"

namespace atelier::ml {
namespace direct_detail {

typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
#define D_LD(p) (*reinterpret_cast<const v8u*>(p))
#define D_ST(p, v) (*reinterpret_cast<v8u*>(p) = (v))

// acc[o·aos + y·ars + x] += Σ_{ky,kx} w[o·wos + 3ky + kx] · lines[(y + dh·ky)·lw + x + dw·kx]
// for o < nout, y < rows, x < round8(wout).
ATELIER_SIMD_CLONES
void accumulate(const float* lines, int lw, int rows, int wout, int dh, int dw, const float* w,
                int wos, int nout, float* acc, int aos, int ars) {
  const int wp = (wout + 7) & ~7;
  for (int y = 0; y < rows; ++y) {
    const float* l0 = lines + std::size_t(y) * lw;
    const float* l1 = l0 + std::size_t(dh) * lw;
    const float* l2 = l1 + std::size_t(dh) * lw;
    for (int o = 0; o < nout; ++o) {
      const float* k = w + o * wos;
      const v8 k0 = v8{} + k[0], k1 = v8{} + k[1], k2 = v8{} + k[2], k3 = v8{} + k[3],
               k4 = v8{} + k[4], k5 = v8{} + k[5], k6 = v8{} + k[6], k7 = v8{} + k[7],
               k8 = v8{} + k[8];
      float* a = acc + std::size_t(o) * aos + std::size_t(y) * ars;
      for (int x = 0; x < wp; x += 8) {
        v8 s = D_LD(a + x);
        s += k0 * D_LD(l0 + x) + k1 * D_LD(l0 + x + dw) + k2 * D_LD(l0 + x + 2 * dw);
        s += k3 * D_LD(l1 + x) + k4 * D_LD(l1 + x + dw) + k5 * D_LD(l1 + x + 2 * dw);
        s += k6 * D_LD(l2 + x) + k7 * D_LD(l2 + x + dw) + k8 * D_LD(l2 + x + 2 * dw);
        D_ST(a + x, s);
      }
    }
  }
}

#undef D_LD
#undef D_ST

}  // namespace direct_detail

namespace {

float* direct_scratch(std::size_t floats) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < floats) buffer.resize(floats);
  return buffer.data();
}

}  // namespace

void direct_conv3x3(const float* in, const TensorStrides& is, float* out, const TensorStrides& os,
                    int batch, const Conv3x3Geometry& g, const float* weights, const float* bias,
                    const ConvActivation& act) {
  if (batch <= 0 || g.out_h <= 0 || g.out_w <= 0 || g.out_channels <= 0) return;
  const int dh = std::max(g.dilation_h, 1), dw = std::max(g.dilation_w, 1);
  const int cin = g.in_channels, cout = g.out_channels;
  const int wp = (g.out_w + 7) & ~7;
  const int lw = wp + 2 * dw + 8;  // padded line: column j holds input column j - pad_left
  // Output channels in groups whose accumulators stay in L1/L2 (8 rows × 8 channels).
  const int og = std::min(cout, 8);
  const int threads = std::max(1, cv::getNumThreads());
  const int rows = std::clamp(g.out_h / (4 * threads), 1, 8);
  const int row_blocks = (g.out_h + rows - 1) / rows;
  const int out_groups = (cout + og - 1) / og;
  const std::int64_t jobs = std::int64_t(batch) * row_blocks * out_groups;
  const std::size_t line_floats = std::size_t(rows + 2 * dh) * lw;
  const std::size_t acc_floats = std::size_t(og) * rows * wp;

  cv::parallel_for_(cv::Range(0, int(jobs)), [&](const cv::Range& range) {
    float* lines = direct_scratch(line_floats + acc_floats);
    float* acc = lines + line_floats;
    for (int job = range.start; job < range.end; ++job) {
      const int b = int(job / (std::int64_t(row_blocks) * out_groups));
      const int rem = int(job % (std::int64_t(row_blocks) * out_groups));
      const int y0 = (rem / out_groups) * rows;
      const int o0 = (rem % out_groups) * og;
      const int nout = std::min(og, cout - o0);
      const int nrows = std::min(rows, g.out_h - y0);
      for (int o = 0; o < nout; ++o) {
        const float v = bias ? bias[o0 + o] : 0.f;
        std::fill(acc + std::size_t(o) * rows * wp, acc + std::size_t(o) * rows * wp + std::size_t(nrows) * wp, v);
      }
      const int iy0 = y0 - g.pad_top;  // input row of line 0
      const int nlines = nrows + 2 * dh;
      // Valid columns of a line: input columns [0, in_w) at j = col + pad_left.
      const int jlo = std::clamp(g.pad_left, 0, lw);
      const int jhi = std::clamp(g.pad_left + g.in_w, jlo, lw);
      for (int c = 0; c < cin; ++c) {
        const float* plane = in + b * is.batch + c * is.channel;
        for (int li = 0; li < nlines; ++li) {
          float* line = lines + std::size_t(li) * lw;
          const int iy = iy0 + li;
          if (iy < 0 || iy >= g.in_h) {
            std::fill(line, line + lw, 0.f);
            continue;
          }
          std::fill(line, line + jlo, 0.f);
          std::memcpy(line + jlo, plane + std::size_t(iy) * is.row + (jlo - g.pad_left),
                      sizeof(float) * (jhi - jlo));
          std::fill(line + jhi, line + lw, 0.f);
        }
        direct_detail::accumulate(lines, lw, nrows, g.out_w, dh, dw,
                                  weights + (std::size_t(o0) * cin + c) * 9, cin * 9, nout, acc,
                                  rows * wp, wp);
      }
      for (int o = 0; o < nout; ++o) {
        float* dst = out + b * os.batch + std::size_t(o0 + o) * os.channel;
        for (int y = 0; y < nrows; ++y) {
          const float* a = acc + std::size_t(o) * rows * wp + std::size_t(y) * wp;
          float* d = dst + std::size_t(y0 + y) * os.row;
          if (act.relu) {
            for (int x = 0; x < g.out_w; ++x) d[x] = a[x] < 0.f ? a[x] * act.negative_slope : a[x];
          } else {
            std::memcpy(d, a, sizeof(float) * g.out_w);
          }
        }
      }
    }
  }, double(jobs));
}

}  // namespace atelier::ml
