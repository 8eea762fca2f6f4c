// Runs a Graph (graph.h) with oneDNN primitives on the CPU, compiled once for its input
// size: every convolution with its post-ops (activations, residual add) is one oneDNN
// primitive whose memory formats oneDNN picks (blocked layouts such as nChw16c); weights
// are reordered once, into the compute precision, and the ONNX copies are dropped; the
// other operations run in whatever layout their producer left, so reorders happen only at
// the graph's input and output (and where a convolution wants another layout). All
// intermediate tensors live in one arena, placed by lifetime so that tensors that are
// never alive at the same time share memory.
//
// Precision kF32 computes in fp32 (results match OpenCV's to fp32 rounding); kBf16 stores
// activations and weights in bfloat16 with fp32 accumulation (where the CPU has
// AVX512-BF16 or AMX, else oneDNN's emulation or an error at compile time). kInt8 runs
// every convolution that has a calibrated input range (ExecutorOptions::input_ranges,
// from calibrate()) on 8-bit integers: weights quantized per output channel to ±127 (7
// bits on CPUs without VNNI, whose u8·s8 pair sums saturate at 16 bits), the input
// quantized per tensor (u8 when its range is non-negative, else s8), accumulation in
// int32, dequantized in the primitive; a convolution's result stays in int8 when every
// reader of it is an int8 convolution, else it is stored in bf16 (fp32 without native
// bf16), the type the other operations run in. Convolutions without a range run there too.
//
// Threads: oneDNN here runs on OpenMP; run() sets OpenMP's thread count to `threads` for
// the calling thread's parallel regions. run() is not reentrant (callers serialise).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "ml/onednn/graph.h"

namespace atelier::ml::onednn {

enum class Precision { kF32, kBf16, kInt8 };
const char* precision_name(Precision p);

// The values a convolution's input took on a set of calibration inputs.
struct Range {
  float lo = 0, hi = 0;
  friend bool operator==(const Range&, const Range&) = default;
};
// Convolution (op) name -> the range of its data input.
using InputRanges = std::map<std::string, Range>;

// What calibration saw of one convolution's input: its extremes and a histogram of the
// magnitudes |x| in 2048 logarithmic bins (a float's exponent and top 3 mantissa bits:
// 8 bins per octave, each within 12.5% of its value).
struct InputStats {
  Range range;
  std::vector<std::uint64_t> magnitudes = std::vector<std::uint64_t>(2048, 0);
};
using CalibrationStats = std::map<std::string, InputStats>;

// Each input's range clipped to the magnitude below which a `quantile` of its values lie
// (1: the extremes themselves). Rare extreme activations otherwise set the scale for all
// the others: an 8-bit step is the range / 255.
InputRanges clipped_ranges(const CalibrationStats& stats, double quantile);

struct ExecutorOptions {
  Precision precision = Precision::kF32;
  int threads = 1;
  InputRanges input_ranges;  // kInt8 only: at least one convolution's (else an error)
};

// Per-step timing from Executor::profile(): the op name, kind, for convolutions their
// shape and oneDNN implementation ("64->64 3x3 d2 @256x256 brgconv:avx512_core") and
// multiply-accumulates, and milliseconds.
struct StepTime {
  std::string name, kind, detail;
  std::int64_t macs = 0;
  double ms = 0;
};

class Executor {
 public:
  // Errors (kInvalidArgument / kUnimplemented): a primitive oneDNN cannot create for this
  // CPU and precision ("oneDNN executor: conv 'x' (bf16): could not create a primitive").
  static Result<std::unique_ptr<Executor>> compile(Graph graph, const ExecutorOptions& options);
  ~Executor();

  // `input` is NCHW fp32 of the graph's input size; returns the output in NCHW fp32.
  Result<std::vector<float>> run(const float* input);
  const Dims& input_dims() const;
  const Dims& output_dims() const;

  // Bytes of the activation arena, of the weights (in their compute precision), and of the
  // shared scratchpad.
  std::size_t arena_bytes() const;
  std::size_t weight_bytes() const;
  std::size_t scratchpad_bytes() const;
  // The implementation oneDNN chose for the first convolution (e.g. "brgconv:avx512_core").
  std::string conv_implementation() const;
  // One run with every step timed (for benchmarks).
  Result<std::vector<StepTime>> profile(const float* input);
  // One run (kF32 executors only, else kFailedPrecondition) that adds the values every
  // convolution's input took to `stats`: the same inputs give the same stats.
  Status calibrate(const float* input, CalibrationStats& stats);
  // How many convolutions run in int8.
  int int8_convolutions() const;

 private:
  struct Impl;
  explicit Executor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The CPU's instruction set as oneDNN uses it ("avx512_core_bf16", "avx2", ...), after any
// cap set by DNNL_MAX_CPU_ISA.
std::string effective_isa();
// Whether the CPU runs bf16 convolutions natively (AVX512-BF16 or AMX).
bool has_native_bf16();
// Whether oneDNN has bf16 convolutions on this CPU at all: natively, or emulated on
// AVX-512 (plain AVX2 has none).
bool runs_bf16();
// Whether its int8 convolutions sum u8·s8 pairs in 32 bits (VNNI or AMX); without, weights
// keep to 7 bits.
bool has_int8_vnni();

}  // namespace atelier::ml::onednn
