//===- SgemmAVX512.cpp - AVX-512 sgemm micro-kernel -----------------------===//
//
// Part of the qopt project.
//
// Built with -mavx512f -mavx512bw -mavx512vl -mfma; only called after a
// run-time CPU check.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include <array>
#include <immintrin.h>
#include <utility>

using namespace qrt::uk;

// Also compile the code below for the ISA when the file is built without the
// flags (for instance by the one-line benchmark build in bench/ukernels).
#pragma clang attribute push(                                                  \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma"))),             \
    apply_to = function)

namespace {

constexpr int kMR = 14;

/// A 14x16 tile: one zmm accumulator per row (14 of 32 registers), enough to
/// cover 2 FMA pipes x 4 cycles of latency; each k step is one B load and 14
/// broadcast FMAs. The panel width stays 16 so that the packed layout is the
/// same as for AVX2. Edge tiles with one to three rows split even and odd k
/// across two sets of accumulators to keep GEMV off the latency bound.
template <int Rows>
void microKernel(int64_t kc, const float *a, const float *b, int64_t ldb,
                 float *c, int64_t ldc, int accumulate) {
  constexpr int Sets = Rows <= 3 ? 2 : 1;
  __m512 acc[Sets][Rows];
  for (int s = 0; s < Sets; ++s)
    for (int i = 0; i < Rows; ++i)
      acc[s][i] = _mm512_setzero_ps();

  // C is touched only after the k loop; start fetching it now, since with
  // large N it has long left L1 and L2 since the previous k block.
  for (int i = 0; i < Rows; ++i) {
    _mm_prefetch(reinterpret_cast<const char *>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char *>(c + i * ldc + 15), _MM_HINT_T0);
  }

  auto step = [&](int s) {
    __m512 bv = _mm512_loadu_ps(b);
    for (int i = 0; i < Rows; ++i)
      acc[s][i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i]), bv, acc[s][i]);
    a += kMR;
    b += ldb;
  };
  int64_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    step(0);
    step(Sets - 1);
    step(0);
    step(Sets - 1);
  }
  for (; k < kc; ++k)
    step(0);

  for (int i = 0; i < Rows; ++i) {
    __m512 ci = acc[0][i];
    if (Sets == 2)
      ci = _mm512_add_ps(ci, acc[Sets - 1][i]);
    if (accumulate)
      ci = _mm512_add_ps(ci, _mm512_loadu_ps(c + i * ldc));
    _mm512_storeu_ps(c + i * ldc, ci);
  }
}

template <int... Rows>
constexpr auto makeKernelTable(std::integer_sequence<int, Rows...>) {
  using Fn = void (*)(int64_t, const float *, const float *, int64_t, float *,
                      int64_t, int);
  return std::array<Fn, sizeof...(Rows)>{microKernel<Rows + 1>...};
}

void microKernelAVX512(int64_t kc, const float *a, const float *b, int64_t ldb,
                       float *c, int64_t ldc, int accumulate, int mr) {
  static constexpr auto table =
      makeKernelTable(std::make_integer_sequence<int, kMR>());
  table[mr - 1](kc, a, b, ldb, c, ldc, accumulate);
}

} // namespace

/// KC = 256 keeps the 16 KiB B micro-panel in L1D; MC = 168 makes the A block
/// 168 KiB, well inside the 1-2 MiB L2 of AVX-512 server parts.
SgemmArch qrt::uk::getSgemmArchAVX512() {
  return {"avx512", microKernelAVX512, kMR, 168, 256};
}

#pragma clang attribute pop
