#include "ml/winograd.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include <cblas.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>

// The input and output transforms are plain loops written for auto-vectorisation, also
// compiled for AVX2 and picked at load time.
#include "ml/simd_clones.h"

namespace atelier::ml {

// Winograd F(4×4, 3×3), interpolation points 0, ±1, ±2, ∞ (Lavin & Gray 2016):
//   Bᵀ = [4  0 -5  0 1 0]    G = [ 1/4     0     0 ]    Aᵀ = [1 1  1 1  1 0]
//        [0 -4 -4  1 1 0]        [-1/6  -1/6  -1/6 ]         [0 1 -1 2 -2 0]
//        [0  4 -4 -1 1 0]        [-1/6   1/6  -1/6 ]         [0 1  1 4  4 0]
//        [0 -2 -1  2 1 0]        [1/24  1/12   1/6 ]         [0 1 -1 8 -8 1]
//        [0  2 -1 -2 1 0]        [1/24 -1/12   1/6 ]
//        [0  4  0 -5 0 1]        [ 0      0     1  ]
namespace wino_detail {

constexpr int kPositions = 36;

// 8 floats; GCC/Clang vector extensions, lowered to AVX2 or SSE2 (or NEON) per clone.
typedef float v8 __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));

// GCC's __builtin_shuffle and Clang's __builtin_shufflevector, both with constant indices.
#if defined(__clang__)
#define W_SHUF(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define W_SHUF(a, b, ...) __builtin_shuffle(a, b, v8i{__VA_ARGS__})
#endif
#define W_LD(p) (*reinterpret_cast<const v8u*>(p))
#define W_ST(p, v) (*reinterpret_cast<v8u*>(p) = (v))
#define W_SPLAT(x) (v8{} + (x))

inline int round8(int n) { return (n + 7) & ~7; }

// Tile-row scratch (floats) for input_tiles / output_tiles with up to n tiles.
inline std::size_t work_floats(int n) { return std::size_t(12) * 4 * (round8(n) + 8) + 64; }

// Input transform of `n` consecutive tiles of one tile row, channels [0, nc).
// Patch element (i, j) of tile t (i, j in [0, 6)) is the input at
// (row0 + dh·i, col0 + dw·(4t + j)), zero outside [0, H) × [0, W).
// Output: V[xi·vxs + c·vcs + t] for t < n, xi = 6·i + j.
// [lo, hi): memory that may be read (it holds the channels' rows); a few floats next to
// a row are read at the image's left/right edges when inside it, then replaced by zeros.
ATELIER_SIMD_CLONES
void input_tiles(const float* src, std::size_t cstride, std::size_t rstride, int nc, int H,
                 int W, int row0, int col0, int dh, int dw, int n, float* V, std::size_t vxs,
                 std::size_t vcs, float* work, const float* lo, const float* hi) {
  const int n1 = round8(n + 1);  // tile t also reads phases 0, 1 of column group t + 1
  const int L = 4 * n1;          // patch columns held per row
  float* D = work;               // [6][4][n1]: patch rows, columns split by (column mod 4)
  float* E = D + 6 * L;          // [6][4][n1]: after the vertical Bᵀ pass
  float* line = E + 6 * L;       // [32]

  // Patch columns j in [jlo, jhi) are inside the image.
  int jlo = 0;
  if (col0 < 0) jlo = (-col0 + dw - 1) / dw;
  int jhi = 0;
  if (W - 1 - col0 >= 0) jhi = (W - 1 - col0) / dw + 1;
  if (jhi > L) jhi = L;
  if (jlo > jhi) jlo = jhi;
  const int jneed = 4 * n + 2;
  const v8 zero{};
  // Prefetch distance in channels: about 64 tiles of work ahead.
  const int ahead = n >= 64 ? 1 : (64 + n - 1) / n;

  for (int c = 0; c < nc; ++c) {
    const float* s = src + c * cstride;
    const bool prefetch_next = c + ahead < nc;
    for (int i = 0; i < 6; ++i) {
      float* Di = D + i * L;
      const int y = row0 + dh * i;
      if (y < 0 || y >= H || jlo == jhi) {
        for (int k = 0; k < L; k += 8) W_ST(Di + k, zero);
        continue;
      }
      const float* rowp = s + std::ptrdiff_t(y) * std::ptrdiff_t(rstride);
      // The next channel's row, fetched while this one is transformed (the rows of a
      // tile row are short runs far apart, which the hardware prefetcher does not follow).
      const char* next = reinterpret_cast<const char*>(rowp + ahead * cstride + col0 + dw * jlo);
      const int next_bytes = int(sizeof(float)) * (dw * (jhi - jlo - 1) + 1);
      // 8 tiles (32 patch columns) at a time, split by column mod 4.
      for (int t = 0; t < n1; t += 8) {
        const int j0 = 4 * t;
        const float* l = rowp + col0 + j0;
        // Columns of these 32 outside the image: the first `zlo`, the last `zhi`. A few
        // are read anyway (inside the readable range) and zeroed after the split.
        const int zlo = jlo - j0 > 0 ? jlo - j0 : 0;
        const int zhi = j0 + 32 - jhi > 0 ? j0 + 32 - jhi : 0;
        const bool patch = zlo + zhi > 0;
        if (dw == 1 && (!patch || (zlo + zhi <= 4 && l >= lo && l + 32 <= hi))) {
          // direct
        } else {
          for (int k = 0; k < 32; k += 8) W_ST(line + k, zero);
          const int a = j0 > jlo ? j0 : jlo;
          int b = j0 + 32 < jhi ? j0 + 32 : jhi;
          if (b > jneed) b = jneed;  // columns past the last tile's patch are never used
          if (dw == 1) {
            for (int j = a; j < b; ++j) line[j - j0] = rowp[col0 + j];
          } else {
            for (int j = a; j < b; ++j) line[j - j0] = rowp[col0 + dw * j];
          }
          l = line;
        }
        if (prefetch_next) {
          const int off = j0 * dw * int(sizeof(float));
          if (off < next_bytes) __builtin_prefetch(next + off);
          if (off + 64 < next_bytes) __builtin_prefetch(next + off + 64);
          if (dw > 1) {
            for (int k = 128; k < 128 * dw && off + k < next_bytes; k += 64) __builtin_prefetch(next + off + k);
          }
        }
        const v8 a = W_LD(l), b = W_LD(l + 8), c2 = W_LD(l + 16), d = W_LD(l + 24);
        const v8 abx = W_SHUF(a, b, 0, 4, 8, 12, 1, 5, 9, 13);
        const v8 abz = W_SHUF(a, b, 2, 6, 10, 14, 3, 7, 11, 15);
        const v8 cdx = W_SHUF(c2, d, 0, 4, 8, 12, 1, 5, 9, 13);
        const v8 cdz = W_SHUF(c2, d, 2, 6, 10, 14, 3, 7, 11, 15);
        W_ST(Di + t, W_SHUF(abx, cdx, 0, 1, 2, 3, 8, 9, 10, 11));
        W_ST(Di + n1 + t, W_SHUF(abx, cdx, 4, 5, 6, 7, 12, 13, 14, 15));
        W_ST(Di + 2 * n1 + t, W_SHUF(abz, cdz, 0, 1, 2, 3, 8, 9, 10, 11));
        W_ST(Di + 3 * n1 + t, W_SHUF(abz, cdz, 4, 5, 6, 7, 12, 13, 14, 15));
        if (patch && l != line) {
          for (int k = 0; k < zlo; ++k) Di[(k & 3) * n1 + t + (k >> 2)] = 0.f;
          for (int k = 32 - zhi; k < 32; ++k) Di[(k & 3) * n1 + t + (k >> 2)] = 0.f;
        }
      }
    }
    // Vertical pass: E[i] = Σ_k Bᵀ[i][k] D[k], elementwise over the 4·n1 columns.
    for (int k = 0; k < L; k += 8) {
      const v8 a0 = W_LD(D + k), a1 = W_LD(D + L + k), a2 = W_LD(D + 2 * L + k),
               a3 = W_LD(D + 3 * L + k), a4 = W_LD(D + 4 * L + k), a5 = W_LD(D + 5 * L + k);
      W_ST(E + k, 4.f * a0 - 5.f * a2 + a4);
      W_ST(E + L + k, (a3 + a4) - 4.f * (a1 + a2));
      W_ST(E + 2 * L + k, (a4 - a3) + 4.f * (a1 - a2));
      W_ST(E + 3 * L + k, (a4 - a2) + 2.f * (a3 - a1));
      W_ST(E + 4 * L + k, (a4 - a2) - 2.f * (a3 - a1));
      W_ST(E + 5 * L + k, 4.f * a1 - 5.f * a3 + a5);
    }
    // Horizontal pass per tile: columns 4t + {0..5} are phases {0,1,2,3} at t and {0,1} at t+1.
    float* vc = V + c * vcs;
    for (int i = 0; i < 6; ++i) {
      const float* q0 = E + i * L;
      const float* q1 = q0 + n1;
      const float* q2 = q0 + 2 * n1;
      const float* q3 = q0 + 3 * n1;
      float* vi = vc + 6 * i * vxs;
      for (int t = 0; t < n; t += 8) {
        const v8 a0 = W_LD(q0 + t), a1 = W_LD(q1 + t), a2 = W_LD(q2 + t), a3 = W_LD(q3 + t),
                 a4 = W_LD(q0 + t + 1), a5 = W_LD(q1 + t + 1);
        const v8 r[6] = {4.f * a0 - 5.f * a2 + a4,           (a3 + a4) - 4.f * (a1 + a2),
                         (a4 - a3) + 4.f * (a1 - a2),         (a4 - a2) + 2.f * (a3 - a1),
                         (a4 - a2) - 2.f * (a3 - a1),         4.f * a1 - 5.f * a3 + a5};
        if (t + 8 <= n) {
          for (int j = 0; j < 6; ++j) W_ST(vi + j * vxs + t, r[j]);
        } else {
          for (int j = 0; j < 6; ++j)
            for (int k = 0; k < n - t; ++k) vi[j * vxs + t + k] = r[j][k];
        }
      }
    }
  }
}

// Output transform of `n` consecutive tiles of one tile row, channels [0, nc).
// M[xi·mxs + c·mcs + t] (readable up to t < round8(n)); tile t's output (r, s) goes to
// dst[c·cstride + dh·r·rstride + dw·(4t + s)] for r < rows, 4t + s < cols.
ATELIER_SIMD_CLONES
void output_tiles(const float* M, std::size_t mxs, std::size_t mcs, int nc, int n, float* dst,
                  std::size_t cstride, std::size_t rstride, int rows, int cols, int dh, int dw,
                  const float* bias, bool relu, float slope, float* work) {
  const int np = round8(n);
  float* tmp = work;  // 32 floats
  const v8 sl = W_SPLAT(slope);
  for (int c = 0; c < nc; ++c) {
    const float* m = M + c * mcs;
    const v8 b = W_SPLAT(bias ? bias[c] : 0.f);
    float* dc = dst + c * cstride;
    for (int t = 0; t < np; t += 8) {
      v8 w[6][4];
      for (int i = 0; i < 6; ++i) {
        const float* mi = m + 6 * i * mxs + t;
        const v8 a0 = W_LD(mi), a1 = W_LD(mi + mxs), a2 = W_LD(mi + 2 * mxs),
                 a3 = W_LD(mi + 3 * mxs), a4 = W_LD(mi + 4 * mxs), a5 = W_LD(mi + 5 * mxs);
        const v8 p12 = a1 + a2, m12 = a1 - a2, p34 = a3 + a4, m34 = a3 - a4;
        w[i][0] = a0 + p12 + p34;
        w[i][1] = m12 + 2.f * m34;
        w[i][2] = p12 + 4.f * p34;
        w[i][3] = m12 + 8.f * m34 + a5;
      }
      const int j0 = 4 * t;  // first output column of these 8 tiles
      const int jn = cols - j0 < 32 ? cols - j0 : 32;
      for (int r = 0; r < rows; ++r) {
        v8 y[4];
        for (int s = 0; s < 4; ++s) {
          const v8 p12 = w[1][s] + w[2][s], m12 = w[1][s] - w[2][s];
          const v8 p34 = w[3][s] + w[4][s], m34 = w[3][s] - w[4][s];
          v8 v;
          if (r == 0) v = w[0][s] + p12 + p34;
          else if (r == 1) v = m12 + 2.f * m34;
          else if (r == 2) v = p12 + 4.f * p34;
          else v = m12 + 8.f * m34 + w[5][s];
          v += b;
          if (relu) v = v < 0.f ? v * sl : v;
          y[s] = v;
        }
        // Interleave y[0..3] (8 tiles each) into 32 consecutive columns 4t + s.
        const v8 e01l = W_SHUF(y[0], y[1], 0, 8, 1, 9, 2, 10, 3, 11), e01h = W_SHUF(y[0], y[1], 4, 12, 5, 13, 6, 14, 7, 15);
        const v8 e23l = W_SHUF(y[2], y[3], 0, 8, 1, 9, 2, 10, 3, 11), e23h = W_SHUF(y[2], y[3], 4, 12, 5, 13, 6, 14, 7, 15);
        const v8 o0 = W_SHUF(e01l, e23l, 0, 1, 8, 9, 2, 3, 10, 11);
        const v8 o1 = W_SHUF(e01l, e23l, 4, 5, 12, 13, 6, 7, 14, 15);
        const v8 o2 = W_SHUF(e01h, e23h, 0, 1, 8, 9, 2, 3, 10, 11);
        const v8 o3 = W_SHUF(e01h, e23h, 4, 5, 12, 13, 6, 7, 14, 15);
        float* drow = dc + std::size_t(dh) * r * rstride;
        if (dw == 1 && jn == 32) {
          float* out = drow + j0;
          W_ST(out, o0);
          W_ST(out + 8, o1);
          W_ST(out + 16, o2);
          W_ST(out + 24, o3);
        } else if (jn > 0) {
          W_ST(tmp, o0);
          W_ST(tmp + 8, o1);
          W_ST(tmp + 16, o2);
          W_ST(tmp + 24, o3);
          for (int k = 0; k < jn; ++k) drow[std::size_t(dw) * (j0 + k)] = tmp[k];
        }
      }
    }
  }
}

#undef W_LD
#undef W_ST
#undef W_SPLAT

}  // namespace wino_detail

namespace {

using wino_detail::kPositions;

constexpr double kG[6][3] = {{1.0 / 4, 0.0, 0.0},
                             {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                             {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                             {1.0 / 24, 1.0 / 12, 1.0 / 6},
                             {1.0 / 24, -1.0 / 12, 1.0 / 6},
                             {0.0, 0.0, 1.0}};

// Blocking (measured on ISNet's layers, 2-core Zen 4, OpenBLAS 0.3.21):
//  - input channels in chunks of ≤ 64 (the GEMM's K; M accumulates over chunks);
//  - output channels in chunks of ≤ 128 (each chunk repeats its input transform);
//  - tiles per block as many as fit kScratchFloats (V: 36·k·tiles, M: 36·out·tiles) and
//    keep each GEMM within kMaxGemmMNK = M·N·K, where OpenBLAS (x86-64) takes its
//    small-matrix kernel, which reads the operands in place; above it every call packs
//    both operands, and re-packing the weights each call cost up to ~25%.
constexpr int kMaxKChunk = 64;
constexpr int kMaxOutChunk = 128;
constexpr int kMinOutChunk = 32;
constexpr int kMaxTileBlock = 128;
constexpr int kMinTileBlock = 16;
constexpr std::size_t kScratchFloats = std::size_t(1) << 20;  // 4 MB
constexpr double kMaxGemmMNK = 1e6;

// One polyphase sub-grid of the output: rows ry + dh·q (q < hq), cols rx + dw·p (p < wq).
struct Phase {
  int ry = 0, rx = 0;
  int hq = 0, wq = 0;
  int ty = 0, tx = 0;  // tile rows / tile columns
  std::int64_t first = 0;
};

std::vector<Phase> make_phases(const Conv3x3Geometry& g, std::int64_t* total) {
  std::vector<Phase> phases;
  std::int64_t t = 0;
  const int dh = std::max(g.dilation_h, 1), dw = std::max(g.dilation_w, 1);
  for (int ry = 0; ry < dh && ry < g.out_h; ++ry) {
    const int hq = (g.out_h - ry + dh - 1) / dh;
    for (int rx = 0; rx < dw && rx < g.out_w; ++rx) {
      const int wq = (g.out_w - rx + dw - 1) / dw;
      Phase p;
      p.ry = ry;
      p.rx = rx;
      p.hq = hq;
      p.wq = wq;
      p.ty = (hq + 3) / 4;
      p.tx = (wq + 3) / 4;
      p.first = t;
      t += std::int64_t(p.ty) * p.tx;
      phases.push_back(p);
    }
  }
  *total = t;
  return phases;
}

// A run of tiles of one tile row of one phase.
struct Segment {
  int phase = 0;
  int qty = 0, qtx = 0;  // tile row, first tile column
  int n = 0;             // tiles
  int local = 0;         // offset in the block
};

void block_segments(const std::vector<Phase>& phases, std::int64_t t0, std::int64_t t1,
                    std::vector<Segment>& out) {
  out.clear();
  std::size_t p = 0;
  while (p + 1 < phases.size() && phases[p + 1].first <= t0) ++p;
  std::int64_t t = t0;
  while (t < t1) {
    while (t >= phases[p].first + std::int64_t(phases[p].ty) * phases[p].tx) ++p;
    const Phase& ph = phases[p];
    const std::int64_t l = t - ph.first;
    Segment s;
    s.phase = int(p);
    s.qty = int(l / ph.tx);
    s.qtx = int(l % ph.tx);
    s.n = int(std::min<std::int64_t>(ph.tx - s.qtx, t1 - t));
    s.local = int(t - t0);
    out.push_back(s);
    t += s.n;
  }
}

// Uninitialised float storage; from 4 MB on 2 MB-aligned and marked for transparent huge
// pages (where THP is in "madvise" mode): first-touch page faults are slow in VMs, and
// the GEMMs stream the transformed weights (fewer TLB misses).
float* allocate_floats(std::size_t n) {
  const std::size_t bytes = std::max<std::size_t>(n, 1) * sizeof(float);
  constexpr std::size_t kHuge = std::size_t(2) << 20;
  void* p = nullptr;
  if (bytes >= 2 * kHuge) {
    if (posix_memalign(&p, kHuge, bytes) != 0) p = nullptr;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (p) madvise(p, bytes / kHuge * kHuge, MADV_HUGEPAGE);
#endif
  } else {
    p = std::malloc(bytes);
  }
  if (!p) throw std::bad_alloc();
  return static_cast<float*>(p);
}

struct ScratchFree {
  void operator()(float* p) const { std::free(p); }
};

float* thread_scratch(std::size_t floats) {
  thread_local std::unique_ptr<float[], ScratchFree> buffer;
  thread_local std::size_t size = 0;
  if (size < floats) {
    buffer.reset();
    size = 0;
    buffer.reset(allocate_floats(floats));
    std::memset(buffer.get(), 0, floats * sizeof(float));  // over-reads see zeros
    size = floats;
  }
  return buffer.get();
}

// OpenBLAS must run single-threaded inside our own parallel loop. The setting is
// process-wide, so nested/concurrent runs share one saved value.
class BlasSingleThreaded {
 public:
  BlasSingleThreaded() {
    std::lock_guard<std::mutex> lock(mutex());
    if (depth()++ == 0) {
      saved() = openblas_get_num_threads();
      if (saved() != 1) openblas_set_num_threads(1);
    }
  }
  ~BlasSingleThreaded() {
    std::lock_guard<std::mutex> lock(mutex());
    if (--depth() == 0 && saved() != 1) openblas_set_num_threads(saved());
  }
  BlasSingleThreaded(const BlasSingleThreaded&) = delete;
  BlasSingleThreaded& operator=(const BlasSingleThreaded&) = delete;

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static int& depth() {
    static int d = 0;
    return d;
  }
  static int& saved() {
    static int s = 1;
    return s;
  }
};

int ceil_div(int a, int b) { return (a + b - 1) / b; }

}  // namespace

std::int64_t winograd_tile_count(const Conv3x3Geometry& g) {
  std::int64_t total = 0;
  make_phases(g, &total);
  return total;
}

void WinogradConv3x3::Free::operator()(float* p) const { std::free(p); }

void WinogradConv3x3::clear() {
  u_.reset();
  size_ = 0;
  cout_ = cin_ = 0;
}

void WinogradConv3x3::set_weights(const float* weights, int out_channels, int in_channels,
                                  const float* out_scale) {
  cout_ = out_channels;
  cin_ = in_channels;
  const std::size_t plane = std::size_t(cout_) * cin_;
  u_.reset();
  size_ = 0;
  u_.reset(allocate_floats(kPositions * plane));
  size_ = kPositions * plane;
  float* u = u_.get();
  // U = G·g·Gᵀ in double, rounded once. Per output channel the 36 values of each input
  // channel are computed into a small buffer, then written as 36 contiguous runs.
  cv::parallel_for_(cv::Range(0, cout_), [&](const cv::Range& range) {
    std::vector<float> tmp(std::size_t(kPositions) * cin_);
    for (int o = range.start; o < range.end; ++o) {
      const double scale = out_scale ? out_scale[o] : 1.0;
      for (int c = 0; c < cin_; ++c) {
        const float* w = weights + (std::size_t(o) * cin_ + c) * 9;
        double gw[6][3];  // G·g
        for (int i = 0; i < 6; ++i)
          for (int k = 0; k < 3; ++k)
            gw[i][k] = (kG[i][0] * w[k] + kG[i][1] * w[3 + k] + kG[i][2] * w[6 + k]) * scale;
        for (int i = 0; i < 6; ++i)
          for (int j = 0; j < 6; ++j)
            tmp[std::size_t(6 * i + j) * cin_ + c] =
                float(gw[i][0] * kG[j][0] + gw[i][1] * kG[j][1] + gw[i][2] * kG[j][2]);
      }
      for (int xi = 0; xi < kPositions; ++xi)
        std::memcpy(u + xi * plane + std::size_t(o) * cin_, tmp.data() + std::size_t(xi) * cin_,
                    sizeof(float) * cin_);
    }
  });
}

void WinogradConv3x3::run(const float* in, const TensorStrides& is, float* out,
                          const TensorStrides& os, int batch, const Conv3x3Geometry& g,
                          const float* bias, const ConvActivation& act) const {
  CV_Assert(size_ != 0 && g.in_channels == cin_ && g.out_channels == cout_);
  std::int64_t total = 0;
  const std::vector<Phase> phases = make_phases(g, &total);
  if (total == 0 || batch <= 0) return;
  const int dh = std::max(g.dilation_h, 1), dw = std::max(g.dilation_w, 1);
  const int cin = cin_, cout = cout_;

  // Blocking: input channels in chunks of ≤ kMaxKChunk (GEMM K accumulates), output
  // channels in chunks (each job re-does its input transform; cheap against the GEMMs),
  // tiles in blocks sized to the scratch budget.
  const int nk = ceil_div(cin, kMaxKChunk);
  const int kc = ceil_div(cin, nk);
  int nm = ceil_div(cout, kMaxOutChunk);
  int mc = ceil_div(cout, nm);
  int tb = int(std::min<std::size_t>(kMaxTileBlock, kScratchFloats / (kPositions * std::size_t(kc + mc))));
  tb = int(std::min<double>(tb, kMaxGemmMNK / (double(kc) * mc)));
  tb = std::max(kMinTileBlock, tb / 8 * 8);
  int nblocks = int((total + tb - 1) / tb);
  const int threads = std::max(1, cv::getNumThreads());
  // Enough jobs to keep every thread busy: first split output channels, then tiles.
  while (std::int64_t(batch) * nblocks * nm < 2 * threads && mc > kMinOutChunk) {
    nm *= 2;
    mc = ceil_div(cout, nm);
    nm = ceil_div(cout, mc);
  }
  while (std::int64_t(batch) * nblocks * nm < 2 * threads && tb > kMinTileBlock) {
    tb = std::max(kMinTileBlock, tb / 2 / 4 * 4);
    nblocks = int((total + tb - 1) / tb);
  }
  // Balance the blocks.
  tb = int((total + nblocks - 1) / nblocks);
  const std::int64_t jobs = std::int64_t(batch) * nblocks * nm;

  const std::size_t v_floats = std::size_t(kPositions) * kc * tb;
  const std::size_t m_floats = std::size_t(kPositions) * mc * tb + 8;  // + over-read slack
  const std::size_t work_floats = wino_detail::work_floats(tb);
  const float* U = u_.get();

  BlasSingleThreaded blas_guard;
  cv::parallel_for_(cv::Range(0, int(jobs)), [&](const cv::Range& range) {
    float* scratch = thread_scratch(v_floats + m_floats + work_floats);
    float* V = scratch;
    float* M = V + v_floats;
    float* work = M + m_floats;
    std::vector<Segment> segments;
    for (int job = range.start; job < range.end; ++job) {
      const int b = int(job / (std::int64_t(nblocks) * nm));
      const int rem = int(job % (std::int64_t(nblocks) * nm));
      const int blk = rem / nm;
      const int o0 = (rem % nm) * mc;
      const int mo = std::min(cout, o0 + mc) - o0;
      if (mo <= 0) continue;
      const std::int64_t t0 = std::int64_t(blk) * tb;
      const std::int64_t t1 = std::min<std::int64_t>(total, t0 + tb);
      const int nb = int(t1 - t0);
      if (nb <= 0) continue;
      block_segments(phases, t0, t1, segments);
      const float* img = in + b * is.batch;
      for (int c0 = 0; c0 < cin; c0 += kc) {
        const int nck = std::min(kc, cin - c0);
        const std::size_t vxs = std::size_t(nck) * nb;
        const float* src = img + c0 * is.channel;
        const float* src_end = src + (nck - 1) * is.channel + (g.in_h - 1) * is.row + g.in_w;
        for (const Segment& s : segments) {
          const Phase& ph = phases[s.phase];
          const int row0 = ph.ry - g.pad_top + dh * 4 * s.qty;
          const int col0 = ph.rx - g.pad_left + dw * 4 * s.qtx;
          wino_detail::input_tiles(src, is.channel, is.row, nck, g.in_h, g.in_w, row0, col0, dh,
                                   dw, s.n, V + s.local, vxs, nb, work, src, src_end);
        }
        for (int xi = 0; xi < kPositions; ++xi) {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, mo, nb, nck, 1.f,
                      U + std::size_t(xi) * cout * cin + std::size_t(o0) * cin + c0, cin,
                      V + xi * vxs, nb, c0 == 0 ? 0.f : 1.f, M + std::size_t(xi) * mo * nb, nb);
        }
      }
      float* oimg = out + b * os.batch + o0 * os.channel;
      for (const Segment& s : segments) {
        const Phase& ph = phases[s.phase];
        const int y0 = ph.ry + dh * 4 * s.qty;
        const int x0 = ph.rx + dw * 4 * s.qtx;
        const int rows = std::min(4, ph.hq - 4 * s.qty);
        const int cols = std::min(4 * s.n, ph.wq - 4 * s.qtx);
        wino_detail::output_tiles(M + s.local, std::size_t(mo) * nb, nb, mo, s.n,
                                  oimg + std::size_t(y0) * os.row + x0, os.channel, os.row, rows,
                                  cols, dh, dw, bias ? bias + o0 : nullptr, act.relu,
                                  act.negative_slope, work);
      }
    }
  }, double(jobs));
}

void reference_conv3x3(const float* in, const TensorStrides& is, float* out,
                       const TensorStrides& os, int batch, const Conv3x3Geometry& g,
                       const float* weights, const float* bias, const ConvActivation& act) {
  const int dh = std::max(g.dilation_h, 1), dw = std::max(g.dilation_w, 1);
  for (int b = 0; b < batch; ++b)
    for (int o = 0; o < g.out_channels; ++o)
      for (int y = 0; y < g.out_h; ++y)
        for (int x = 0; x < g.out_w; ++x) {
          double acc = bias ? bias[o] : 0.0;
          for (int c = 0; c < g.in_channels; ++c) {
            const float* w = weights + (std::size_t(o) * g.in_channels + c) * 9;
            const float* plane = in + b * is.batch + c * is.channel;
            for (int ky = 0; ky < 3; ++ky) {
              const int iy = y - g.pad_top + dh * ky;
              if (iy < 0 || iy >= g.in_h) continue;
              for (int kx = 0; kx < 3; ++kx) {
                const int ix = x - g.pad_left + dw * kx;
                if (ix < 0 || ix >= g.in_w) continue;
                acc += double(w[3 * ky + kx]) * plane[iy * is.row + ix];
              }
            }
          }
          float v = float(acc);
          if (act.relu && v < 0.f) v *= act.negative_slope;
          out[b * os.batch + o * os.channel + y * os.row + x] = v;
        }
}

}  // namespace atelier::ml
