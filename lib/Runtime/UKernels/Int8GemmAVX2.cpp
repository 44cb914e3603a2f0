//===- Int8GemmAVX2.cpp - AVX2 int8 GEMM kernels --------------------------===//
//
// Part of the qopt project.
//
// Built with -mavx2; only called after a run-time CPU check.
//
// AVX2 has no byte dot product that cannot overflow: VPMADDUBSW (u8 x s8)
// saturates its int16 pair sums, which with activations offset by 128 reach
// 255*127*2 = 64770. So both operands are sign-extended to int16 and
// multiplied by VPMADDWD, whose int32 pair sums (at most 2 * 128 * 128) are
// exact: A is packed as int16, each 16-byte piece of a B panel (4 columns x
// 4 k) is sign-extended by VPMOVSXBW right after it is loaded.
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
#pragma clang attribute push(__attribute__((target("avx2"))),                  \
                             apply_to = function)

namespace {

#include "Int8GemmX86.inc"

constexpr int kMR = kS8MRAVX2;

/// Rows x 8 columns (one half of a panel) over the whole K. Per 4-deep k
/// group: two 16-byte loads of B sign-extended to 16 int16 each (columns
/// c..c+3 and c+4..c+7, 4 k per column), and per row one broadcast of the
/// row's 4 int16 and two VPMADDWD + VPADDD. A VPMADDWD lane holds the sum
/// over k0,k1 or k2,k3 of one column; the two are added at the end. 6 rows
/// use 12 accumulators + 2 B + 1 A of the 16 registers.
template <int Rows>
void halfPanel(const int16_t *ap, const int8_t *b, int64_t groups,
               int32_t *tile) {
  constexpr int Sets = Rows <= 2 ? 2 : 1;
  __m256i acc[Sets][Rows][2];
  for (int s = 0; s < Sets; ++s)
    for (int i = 0; i < Rows; ++i)
      acc[s][i][0] = acc[s][i][1] = _mm256_setzero_si256();
  auto step = [&](int s, int64_t g) {
    const int8_t *bg = b + g * kS8KR * kS8NR;
    __m256i b0 = _mm256_cvtepi8_epi16(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(bg)));
    __m256i b1 = _mm256_cvtepi8_epi16(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(bg + 16)));
    const int16_t *ag = ap + g * kMR * kS8KR;
    for (int i = 0; i < Rows; ++i) {
      int64_t a4;
      std::memcpy(&a4, ag + i * kS8KR, sizeof(a4));
      __m256i av = _mm256_set1_epi64x(a4);
      acc[s][i][0] = _mm256_add_epi32(acc[s][i][0], _mm256_madd_epi16(b0, av));
      acc[s][i][1] = _mm256_add_epi32(acc[s][i][1], _mm256_madd_epi16(b1, av));
    }
  };
  // groups is a multiple of 16 (Kp of 64).
  for (int64_t g = 0; g < groups; g += 2) {
    step(0, g);
    step(Sets - 1, g + 1);
  }
  for (int i = 0; i < Rows; ++i) {
    __m256i c0 = acc[0][i][0], c1 = acc[0][i][1];
    if (Sets == 2) {
      c0 = _mm256_add_epi32(c0, acc[1][i][0]);
      c1 = _mm256_add_epi32(c1, acc[1][i][1]);
    }
    // [c0 c1 c4 c5 | c2 c3 c6 c7] -> columns in order.
    __m256i s = _mm256_permute4x64_epi64(_mm256_hadd_epi32(c0, c1), 0xd8);
    _mm256_store_si256(reinterpret_cast<__m256i *>(tile + i * kS8TileN), s);
  }
}

template <int... Rows>
constexpr auto makeTable(std::integer_sequence<int, Rows...>) {
  using Fn = void (*)(const int16_t *, const int8_t *, int64_t, int32_t *);
  return std::array<Fn, sizeof...(Rows)>{halfPanel<Rows + 1>...};
}

void kernelAVX2(const S8Params &p, const void *ap, int rows, int64_t n0, int np,
                int32_t *tile, const int8_t *, int64_t) {
  static constexpr auto table =
      makeTable(std::make_integer_sequence<int, kMR>());
  const int64_t groups = p.Kp / kS8KR;
  for (int q = 0; q < np; ++q) {
    const int8_t *b = p.Bp + (n0 / kS8NR + q) * p.Kp * kS8NR;
    for (int h = 0; h < 2; ++h)
      table[rows - 1](static_cast<const int16_t *>(ap), b + h * 32, groups,
                      tile + q * kS8NR + h * 8);
  }
}

} // namespace

S8Arch qrt::uk::getS8ArchAVX2() {
  return {S8Isa::AVX2, "avx2",      S8ALayout::Groups4I16, false,   kMR,
          kernelAVX2,  epilogue256, quantizeRow256,        nullptr, nullptr,
          0,           nullptr};
}

#pragma clang attribute pop
