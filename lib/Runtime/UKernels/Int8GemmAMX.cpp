//===- Int8GemmAMX.cpp - AMX-INT8 GEMM kernel -----------------------------===//
//
// Part of the qopt project.
//
// Built with -mamx-tile -mamx-int8 and the AVX-512 flags; only called after
// a run-time check of the CPU, of XCR0 and of Linux's permission to use the
// tile data (see getS8CpuFeatures).
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include <immintrin.h>

using namespace qrt::uk;

// Also compile the code below for the ISA when the file is built without the
// flags (for instance by the one-line benchmark build in bench/ukernels).
#pragma clang attribute push(                                                  \
    __attribute__((target(                                                     \
        "amx-tile,amx-int8,avx512f,avx512bw,avx512vl,avx512vnni,avx2"))),      \
    apply_to = function)

namespace {

/// Two 16-row A tiles per micro-panel.
constexpr int kMR = kS8MRAMX;

/// The 64-byte tile configuration of palette 1 (see the SDM's LDTILECFG).
struct alignas(64) TileConfig {
  uint8_t palette;
  uint8_t startRow;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

/// Every tile 16 rows of 64 bytes: tiles 0-3 hold the 2 x 2 int32 C tiles
/// (16 x 16 each), 4-5 the two A tiles (16 rows x 64 k), 6-7 the two B
/// tiles (16 groups of 4 k x 16 columns: a 1 KiB block of one packed panel).
void configureTiles() {
  TileConfig cfg{};
  cfg.palette = 1;
  for (int t = 0; t < 8; ++t) {
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }
  _tile_loadconfig(&cfg);
}

void releaseTiles() { _tile_release(); }

/// RT row tiles x NP column tiles of C over the whole K: per 64-deep k
/// block, RT + NP tile loads and RT*NP TDPBSSD (signed x signed, so no
/// offset or column-sum correction). Stores C into the int32 tile buffer.
template <int RT, int NP>
void kernelT(const S8Params &p, const int8_t *ap, int64_t n0, int32_t *tile,
             const int8_t *prefetch, int64_t prefetchBytes) {
  const int64_t blocks = p.Kp / kS8KAlign;
  // Cache lines of the prefetch range to touch per k block.
  const int64_t pfLines =
      blocks ? (prefetchBytes / 64 + blocks - 1) / blocks : 0;
  const char *pf = reinterpret_cast<const char *>(prefetch);
  const char *pfEnd = pf + prefetchBytes;
  const int64_t panelStride = p.Kp * kS8NR;
  const int8_t *b = p.Bp + (n0 / kS8NR) * panelStride;
  const int8_t *a1 = ap + blocks * 1024;
  _tile_zero(0);
  if (NP == 2)
    _tile_zero(1);
  if (RT == 2)
    _tile_zero(2);
  if (RT == 2 && NP == 2)
    _tile_zero(3);
  for (int64_t kb = 0; kb < blocks; ++kb) {
    for (int64_t l = 0; l < pfLines && pf < pfEnd; ++l, pf += 64)
      _mm_prefetch(pf, _MM_HINT_T1);
    _tile_loadd(4, ap + kb * 1024, 64);
    _tile_loadd(6, b + kb * 1024, 64);
    if (NP == 2)
      _tile_loadd(7, b + panelStride + kb * 1024, 64);
    _tile_dpbssd(0, 4, 6);
    if (NP == 2)
      _tile_dpbssd(1, 4, 7);
    if (RT == 2) {
      _tile_loadd(5, a1 + kb * 1024, 64);
      _tile_dpbssd(2, 5, 6);
      if (NP == 2)
        _tile_dpbssd(3, 5, 7);
    }
  }
  constexpr int stride = kS8TileN * sizeof(int32_t);
  _tile_stored(0, tile, stride);
  if (NP == 2)
    _tile_stored(1, tile + kS8NR, stride);
  if (RT == 2)
    _tile_stored(2, tile + 16 * kS8TileN, stride);
  if (RT == 2 && NP == 2)
    _tile_stored(3, tile + 16 * kS8TileN + kS8NR, stride);
}

void kernelAMX(const S8Params &p, const void *ap, int rows, int64_t n0, int np,
               int32_t *tile, const int8_t *prefetch, int64_t prefetchBytes) {
  const int8_t *a = static_cast<const int8_t *>(ap);
  if (rows > 16)
    (np == 2 ? kernelT<2, 2> : kernelT<2, 1>)(p, a, n0, tile, prefetch,
                                              prefetchBytes);
  else
    (np == 2 ? kernelT<1, 2> : kernelT<1, 1>)(p, a, n0, tile, prefetch,
                                              prefetchBytes);
}

} // namespace

/// AMX for M >= 16: with fewer rows a TDPBSSD does mostly padding, and the
/// product is bound by streaming B anyway, which VNNI does as well.
S8Arch qrt::uk::getS8ArchAMX() {
  S8Arch vnni = getS8ArchAVX512VNNI();
  return {S8Isa::AMX,
          "amx",
          S8ALayout::AmxTiles,
          false,
          kMR,
          kernelAMX,
          vnni.epilogue,
          vnni.quantizeRow,
          configureTiles,
          releaseTiles,
          16,
          getS8ArchAVX512VNNI};
}

#pragma clang attribute pop
