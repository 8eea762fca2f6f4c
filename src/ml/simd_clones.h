// ATELIER_SIMD_CLONES: compile a hot loop twice, for AVX2 and for the x86-64 baseline,
// and let the loader pick the one the CPU runs (GCC function multi-versioning). Debian
// builds for the baseline; these kernels would otherwise never use 256-bit registers.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define ATELIER_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ATELIER_SIMD_CLONES
#endif
