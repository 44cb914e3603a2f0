//===- SgemmAVX2.cpp - AVX2+FMA sgemm micro-kernel ------------------------===//
//
// Part of the qopt project.
//
// Built with -mavx2 -mfma; only called after a run-time CPU check.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include <immintrin.h>

using namespace qrt::uk;

// Also compile the code below for the ISA when the file is built without the
// flags (for instance by the one-line benchmark build in bench/ukernels).
#pragma clang attribute push(__attribute__((target("avx2,fma"))),              \
                             apply_to = function)

namespace {

constexpr int kMR = 6;

/// A 6x16 tile needs 12 ymm accumulators, which covers the FMA latency
/// (4 cycles x 2 pipes = 8 in flight) and leaves 4 registers for B and the
/// broadcast A. Edge tiles with fewer rows instantiate fewer accumulators;
/// with one or two rows, even and odd k go to separate accumulators so that
/// a GEMV is not bound by the FMA latency.
template <int Rows>
void microKernel(int64_t kc, const float *a, const float *b, int64_t ldb,
                 float *c, int64_t ldc, int accumulate) {
  constexpr int Sets = Rows <= 2 ? 2 : 1;
  __m256 acc[Sets][Rows][2];
  for (int s = 0; s < Sets; ++s)
    for (int i = 0; i < Rows; ++i)
      acc[s][i][0] = acc[s][i][1] = _mm256_setzero_ps();

  // C is touched only after the k loop; start fetching it now, since with
  // large N it has long left L1 and L2 since the previous k block.
  for (int i = 0; i < Rows; ++i) {
    _mm_prefetch(reinterpret_cast<const char *>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char *>(c + i * ldc + 15), _MM_HINT_T0);
  }

  int64_t k = 0;
  auto step = [&](int s) {
    __m256 b0 = _mm256_loadu_ps(b);
    __m256 b1 = _mm256_loadu_ps(b + 8);
    for (int i = 0; i < Rows; ++i) {
      __m256 ai = _mm256_broadcast_ss(a + i);
      acc[s][i][0] = _mm256_fmadd_ps(ai, b0, acc[s][i][0]);
      acc[s][i][1] = _mm256_fmadd_ps(ai, b1, acc[s][i][1]);
    }
    a += kMR;
    b += ldb;
  };
  for (; k + 4 <= kc; k += 4) {
    step(0);
    step(Sets - 1);
    step(0);
    step(Sets - 1);
  }
  for (; k < kc; ++k)
    step(0);

  for (int i = 0; i < Rows; ++i) {
    __m256 c0 = acc[0][i][0], c1 = acc[0][i][1];
    if (Sets == 2) {
      c0 = _mm256_add_ps(c0, acc[Sets - 1][i][0]);
      c1 = _mm256_add_ps(c1, acc[Sets - 1][i][1]);
    }
    float *ci = c + i * ldc;
    if (accumulate) {
      c0 = _mm256_add_ps(c0, _mm256_loadu_ps(ci));
      c1 = _mm256_add_ps(c1, _mm256_loadu_ps(ci + 8));
    }
    _mm256_storeu_ps(ci, c0);
    _mm256_storeu_ps(ci + 8, c1);
  }
}

void microKernelAVX2(int64_t kc, const float *a, const float *b, int64_t ldb,
                     float *c, int64_t ldc, int accumulate, int mr) {
  switch (mr) {
  case 1:
    return microKernel<1>(kc, a, b, ldb, c, ldc, accumulate);
  case 2:
    return microKernel<2>(kc, a, b, ldb, c, ldc, accumulate);
  case 3:
    return microKernel<3>(kc, a, b, ldb, c, ldc, accumulate);
  case 4:
    return microKernel<4>(kc, a, b, ldb, c, ldc, accumulate);
  case 5:
    return microKernel<5>(kc, a, b, ldb, c, ldc, accumulate);
  default:
    return microKernel<6>(kc, a, b, ldb, c, ldc, accumulate);
  }
}

} // namespace

/// KC = 256: a 16 KiB B micro-panel stays in the 32 KiB L1D. MC = 144: the
/// 144 KiB A block sits in L2 next to B's stream (the BLIS Zen values).
SgemmArch qrt::uk::getSgemmArchAVX2() {
  return {"avx2", microKernelAVX2, kMR, 144, 256};
}

#pragma clang attribute pop
