//===- Int8GemmAVXVNNI.cpp - AVX-VNNI int8 GEMM kernels -------------------===//
//
// Part of the qopt project.
//
// Built with -mavx2 -mavxvnni; only called after a run-time CPU check. The
// VEX-encoded 256-bit VPDPBUSD of CPUs that have it without AVX-512 (Alder
// Lake and later clients); the algorithm of the AVX-512 VNNI kernel
// (UKernels.h) on ymm registers.
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
#pragma clang attribute push(__attribute__((target("avx2,avxvnni"))),          \
                             apply_to = function)

namespace {

#include "Int8GemmX86.inc"

constexpr int kMR = kS8MRAVXVNNI;

/// Rows x 16 columns (one panel) over the whole K: per 4-deep k group two
/// 32-byte loads of B, and per row one 4-byte broadcast of A (offset to u8)
/// and two VPDPBUSD. 6 rows use 12 accumulators + 2 B + 1 A registers.
template <int Rows>
void panel(const uint8_t *ap, const int8_t *b, const int32_t *colSum,
           int64_t groups, int32_t *tile) {
  constexpr int Sets = Rows <= 2 ? 2 : 1;
  __m256i acc[Sets][Rows][2];
  for (int s = 0; s < Sets; ++s)
    for (int i = 0; i < Rows; ++i)
      acc[s][i][0] = acc[s][i][1] = _mm256_setzero_si256();
  auto step = [&](int s, int64_t g) {
    const int8_t *bg = b + g * kS8KR * kS8NR;
    __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(bg));
    __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(bg + 32));
    const uint8_t *ag = ap + g * kMR * kS8KR;
    for (int i = 0; i < Rows; ++i) {
      int32_t a4;
      std::memcpy(&a4, ag + i * kS8KR, sizeof(a4));
      __m256i av = _mm256_set1_epi32(a4);
      acc[s][i][0] = _mm256_dpbusd_avx_epi32(acc[s][i][0], av, b0);
      acc[s][i][1] = _mm256_dpbusd_avx_epi32(acc[s][i][1], av, b1);
    }
  };
  // groups is a multiple of 16 (Kp of 64).
  for (int64_t g = 0; g < groups; g += 2) {
    step(0, g);
    step(Sets - 1, g + 1);
  }
  for (int h = 0; h < 2; ++h) {
    __m256i comp = _mm256_slli_epi32(
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(colSum + h * 8)),
        7);
    for (int i = 0; i < Rows; ++i) {
      __m256i v = acc[0][i][h];
      if (Sets == 2)
        v = _mm256_add_epi32(v, acc[1][i][h]);
      _mm256_store_si256(
          reinterpret_cast<__m256i *>(tile + i * kS8TileN + h * 8),
          _mm256_sub_epi32(v, comp));
    }
  }
}

template <int... Rows>
constexpr auto makeTable(std::integer_sequence<int, Rows...>) {
  using Fn = void (*)(const uint8_t *, const int8_t *, const int32_t *, int64_t,
                      int32_t *);
  return std::array<Fn, sizeof...(Rows)>{panel<Rows + 1>...};
}

void kernelAVXVNNI(const S8Params &p, const void *ap, int rows, int64_t n0,
                   int np, int32_t *tile, const int8_t *, int64_t) {
  static constexpr auto table =
      makeTable(std::make_integer_sequence<int, kMR>());
  const int64_t groups = p.Kp / kS8KR;
  for (int q = 0; q < np; ++q) {
    int64_t n = n0 + q * kS8NR;
    table[rows - 1](static_cast<const uint8_t *>(ap),
                    p.Bp + (n / kS8NR) * p.Kp * kS8NR, p.colSum + n, groups,
                    tile + q * kS8NR);
  }
}

} // namespace

S8Arch qrt::uk::getS8ArchAVXVNNI() {
  return {S8Isa::AVXVNNI,
          "avxvnni",
          S8ALayout::Groups4,
          true,
          kMR,
          kernelAVXVNNI,
          epilogue256,
          quantizeRow256,
          nullptr,
          nullptr,
          0,
          nullptr};
}

#pragma clang attribute pop
