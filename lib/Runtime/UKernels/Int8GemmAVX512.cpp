//===- Int8GemmAVX512.cpp - AVX-512 VNNI int8 GEMM kernels ----------------===//
//
// Part of the qopt project.
//
// Built with -mavx512f -mavx512bw -mavx512vl -mavx512vnni; only called after
// a run-time CPU check. Also provides the AVX-512 epilogue and row quantizer
// that the AMX implementation uses.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include <array>
#include <immintrin.h>
#include <utility>

#pragma STDC FP_CONTRACT OFF

using namespace qrt::uk;

// Also compile the code below for the ISA when the file is built without the
// flags (for instance by the one-line benchmark build in bench/ukernels).
#pragma clang attribute push(                                                  \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2"))),      \
    apply_to = function)

namespace {

constexpr int kMR = kS8MRAVX512VNNI;

static inline int32_t load32(const uint8_t *p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

/// A Rows x (16*NP) tile of VPDPBUSD: per 4-deep k group, NP 64-byte loads
/// of B (16 columns x 4 k each) and one 4-byte broadcast of A (offset to
/// u8) per row, Rows*NP multiply-adds of 64 products each. 12 x 2 uses 24
/// accumulators, enough for 2 ports x 5 cycles of latency with loads to
/// spare. Tiles of up to 4 rows (GEMV-like) alternate two sets of
/// accumulators over even and odd groups to stay off the latency bound.
template <int Rows, int NP>
void kernelT(const S8Params &p, const uint8_t *ap, int64_t n0, int32_t *tile,
             const int8_t *prefetch, int64_t prefetchBytes) {
  constexpr int Sets = Rows <= 4 ? 2 : 1;
  const int64_t groups = p.Kp / kS8KR;
  // Lines of the prefetch range to touch per 4 groups.
  const int64_t pfLines =
      groups ? (prefetchBytes / 64 * 4 + groups - 1) / groups : 0;
  const char *pf = reinterpret_cast<const char *>(prefetch);
  const char *pfEnd = pf + prefetchBytes;
  const int64_t panelStride = p.Kp * kS8NR;
  const int8_t *b = p.Bp + (n0 / kS8NR) * panelStride;
  __m512i acc[Sets][Rows][NP];
  for (int s = 0; s < Sets; ++s)
    for (int i = 0; i < Rows; ++i)
      for (int q = 0; q < NP; ++q)
        acc[s][i][q] = _mm512_setzero_si512();

  auto step = [&](int s, int64_t g) {
    __m512i bv[NP];
    for (int q = 0; q < NP; ++q)
      bv[q] = _mm512_loadu_si512(b + q * panelStride + g * kS8KR * kS8NR);
    const uint8_t *ag = ap + g * kMR * kS8KR;
    for (int i = 0; i < Rows; ++i) {
      __m512i av = _mm512_set1_epi32(load32(ag + i * kS8KR));
      for (int q = 0; q < NP; ++q)
        acc[s][i][q] = _mm512_dpbusd_epi32(acc[s][i][q], av, bv[q]);
    }
  };
  // groups is a multiple of 16 (Kp of 64).
  for (int64_t g = 0; g < groups; g += 4) {
    for (int64_t l = 0; l < pfLines && pf < pfEnd; ++l, pf += 64)
      _mm_prefetch(pf, _MM_HINT_T1);
    step(0, g);
    step(Sets - 1, g + 1);
    step(0, g + 2);
    step(Sets - 1, g + 3);
  }

  // acc - 128 * colsum: the activations were offset by 128.
  for (int q = 0; q < NP; ++q) {
    __m512i comp =
        _mm512_slli_epi32(_mm512_loadu_si512(p.colSum + n0 + q * kS8NR), 7);
    for (int i = 0; i < Rows; ++i) {
      __m512i v = acc[0][i][q];
      if (Sets == 2)
        v = _mm512_add_epi32(v, acc[Sets - 1][i][q]);
      _mm512_store_si512(tile + i * kS8TileN + q * kS8NR,
                         _mm512_sub_epi32(v, comp));
    }
  }
}

template <int NP, int... Rows>
constexpr auto makeRowTable(std::integer_sequence<int, Rows...>) {
  using Fn = void (*)(const S8Params &, const uint8_t *, int64_t, int32_t *,
                      const int8_t *, int64_t);
  return std::array<Fn, sizeof...(Rows)>{kernelT<Rows + 1, NP>...};
}

void kernelAVX512(const S8Params &p, const void *ap, int rows, int64_t n0,
                  int np, int32_t *tile, const int8_t *prefetch,
                  int64_t prefetchBytes) {
  static constexpr auto one =
      makeRowTable<1>(std::make_integer_sequence<int, kMR>());
  static constexpr auto two =
      makeRowTable<2>(std::make_integer_sequence<int, kMR>());
  (np == 2 ? two : one)[rows - 1](p, static_cast<const uint8_t *>(ap), n0, tile,
                                  prefetch, prefetchBytes);
}

__mmask16 colMask(int n) {
  return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1);
}

void epilogueAVX512(const S8Params &p, const int32_t *tile, int64_t m0,
                    int rows, int64_t n0, int cols) {
  for (int j0 = 0; j0 < cols; j0 += 16) {
    __mmask16 mask = colMask(cols - j0);
    int64_t n = n0 + j0;
    __m512 sb, bias = _mm512_setzero_ps();
    if (p.f32) {
      sb = _mm512_maskz_loadu_ps(mask, p.bScale + n);
      if (p.bias)
        bias = _mm512_maskz_loadu_ps(mask, p.bias + n);
    }
    for (int i = 0; i < rows; ++i) {
      int64_t m = m0 + i;
      __m512i v = _mm512_load_si512(tile + i * kS8TileN + j0);
      if (!p.f32) {
        int32_t *c = p.Ci + m * p.ldcM + n;
        if (p.accumulate)
          v = _mm512_add_epi32(v, _mm512_maskz_loadu_epi32(mask, c));
        _mm512_mask_storeu_epi32(c, mask, v);
        continue;
      }
      float *c = p.Cf + m * p.ldcM + n;
      __m512 y = _mm512_cvtepi32_ps(v);
      y = _mm512_mul_ps(y, _mm512_set1_ps(p.aScale[m * p.aScaleStride]));
      y = _mm512_mul_ps(y, sb);
      if (p.bias)
        y = _mm512_add_ps(y, bias);
      if (p.accumulate)
        y = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, c), y);
      _mm512_mask_storeu_ps(c, mask, y);
    }
  }
}

void quantizeRowAVX512(const float *x, int64_t K, int8_t *q, float *scale) {
  const __m512i absMask = _mm512_set1_epi32(0x7fffffff);
  __m512i vmax = _mm512_setzero_si512();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16)
    vmax = _mm512_max_epi32(
        vmax, _mm512_and_si512(_mm512_loadu_si512(x + k), absMask));
  if (k < K)
    vmax = _mm512_max_epi32(
        vmax,
        _mm512_and_si512(_mm512_maskz_loadu_epi32(colMask(int(K - k)), x + k),
                         absMask));
  uint32_t amax = uint32_t(_mm512_reduce_max_epi32(vmax));
  float inv;
  if (!s8RowScale(amax, *scale, inv)) {
    std::memset(q, 0, size_t(K));
    return;
  }
  const __m512 vinv = _mm512_set1_ps(inv);
  const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
  auto quant = [&](__m512 v) {
    // Round half to even in the default rounding mode, as nearbyint does.
    __m512i r = _mm512_cvtps_epi32(_mm512_mul_ps(v, vinv));
    return _mm512_min_epi32(_mm512_max_epi32(r, lo), hi);
  };
  for (k = 0; k + 16 <= K; k += 16)
    _mm_storeu_si128(reinterpret_cast<__m128i *>(q + k),
                     _mm512_cvtepi32_epi8(quant(_mm512_loadu_ps(x + k))));
  if (k < K) {
    __mmask16 mask = colMask(int(K - k));
    _mm512_mask_cvtepi32_storeu_epi8(q + k, mask,
                                     quant(_mm512_maskz_loadu_ps(mask, x + k)));
  }
}

} // namespace

S8Arch qrt::uk::getS8ArchAVX512VNNI() {
  return {S8Isa::AVX512VNNI,
          "avx512vnni",
          S8ALayout::Groups4,
          true,
          kMR,
          kernelAVX512,
          epilogueAVX512,
          quantizeRowAVX512,
          nullptr,
          nullptr,
          0,
          nullptr};
}

#pragma clang attribute pop
