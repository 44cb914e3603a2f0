//===- WeightOnly.cpp - Weight-only quantized GEMM driver -----------------===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//
//
// qrt_uk_wo_gemm multiplies fp32 activations by low-bit weights without ever
// materialising the fp32 weight matrix:
//
//  * Decode-sized M (<= kWoGemvMaxM rows): one dot product per output
//    channel, weights unpacked in registers; the per-group scale multiplies
//    the group's partial sum and the zero point is folded in through
//    precomputed per-group sums of X. Memory bound, so the speed-up over fp32
//    is about the ratio of bytes read.
//  * Larger M: each thread dequantizes one KC x 16 tile of W at a time into
//    an L1-sized buffer in the packed-B layout and runs the sgemm
//    micro-kernel over all of its rows of X against it.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include "../ThreadPool.h"
#include "qopt/Runtime/UKernels.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

using namespace qrt;
using namespace qrt::uk;

//===----------------------------------------------------------------------===//
// Portable kernels
//===----------------------------------------------------------------------===//

namespace {

void gemvScalar(const WoParams &p, int64_t n0, int64_t n1) {
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t *row = p.Wq + n * p.rowBytes;
    const float *scale = p.scale + n * p.numGroups;
    for (int64_t m = 0; m < p.M; ++m) {
      const float *x = p.X + m * p.ldxM;
      float sum = 0.0f;
      for (int64_t g = 0; g < p.numGroups; ++g) {
        int64_t k0 = g * p.groupSize;
        int64_t k1 = std::min(p.K, k0 + p.groupSize);
        float dot = 0.0f;
        for (int64_t k = k0; k < k1; ++k)
          dot += x[k] * woLoadQ(row, k, p.bits, p.isSigned);
        if (p.zp)
          dot -= p.zp[n * p.numGroups + g] * p.xGroupSum[m * p.numGroups + g];
        sum += dot * scale[g];
      }
      float &y = p.Y[m * p.ldyM + n];
      y = (p.accumulate ? y : 0.0f) + sum;
    }
  }
}

void dequantTileScalar(const WoParams &p, int64_t n0, int64_t k0, int64_t kc,
                       float *tile) {
  for (int j = 0; j < kNR; ++j) {
    int64_t n = n0 + j;
    if (n >= p.N) {
      for (int64_t k = 0; k < kc; ++k)
        tile[k * kNR + j] = 0.0f;
      continue;
    }
    const uint8_t *row = p.Wq + n * p.rowBytes;
    for (int64_t k = 0; k < kc; ++k) {
      int64_t g = (k0 + k) / p.groupSize;
      float zp = p.zp ? p.zp[n * p.numGroups + g] : 0.0f;
      tile[k * kNR + j] = (woLoadQ(row, k0 + k, p.bits, p.isSigned) - zp) *
                          p.scale[n * p.numGroups + g];
    }
  }
}

} // namespace

WoArch qrt::uk::getWoArchScalar() {
  return {"scalar", gemvScalar, dequantTileScalar, false};
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

namespace {

/// Below this many weights a call runs on the calling thread.
constexpr int64_t kMinParallelWeights = int64_t(1) << 18;

thread_local ScratchBuffer tlXGroupSum;
thread_local ScratchBuffer tlXPerm;
thread_local ScratchBuffer tlXPermSum;
thread_local ScratchBuffer tlPackX;
thread_local ScratchBuffer tlTile;

/// Computes the per-call tables the GEMV kernels share across all N rows:
/// per-group sums of X (zp(n,g) * scale(n,g) * sum_{k in g} X[m,k] is
/// subtracted per group) and, if the kernel wants it, the block-transposed
/// copy of X for 4-bit weights.
void prepareGemv(WoParams &p, const WoArch &arch) {
  const int64_t M = p.M, K = p.K, G = p.groupSize, numGroups = p.numGroups;
  if (p.zp) {
    float *sums = tlXGroupSum.get(M * numGroups);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t g = 0; g < numGroups; ++g) {
        int64_t k1 = std::min(K, (g + 1) * G);
        float s = 0.0f;
        for (int64_t k = g * G; k < k1; ++k)
          s += p.X[m * p.ldxM + k];
        sums[m * numGroups + g] = s;
      }
    p.xGroupSum = sums;
  }
  if (!arch.wantsPermutedX4 || p.bits != 4 || G % 64 != 0)
    return;
  float *perm = tlXPerm.get(M * K);
  float *permSums = tlXPermSum.get(M * numGroups);
  for (int64_t m = 0; m < M; ++m) {
    const float *x = p.X + m * p.ldxM;
    float *xp = perm + m * K;
    int64_t k = 0;
    for (; k + 64 <= K; k += 64)
      for (int i = 0; i < 8; ++i)
        for (int j = 0; j < 8; ++j)
          xp[k + 8 * j + i] = x[k + 8 * i + j];
    for (; k < K; ++k)
      xp[k] = x[k];
    for (int64_t g = 0; g < numGroups; ++g) {
      int64_t k0 = g * G, k1 = std::min(K, k0 + G);
      k1 = k0 + (k1 - k0) / 64 * 64;
      float s = 0.0f;
      for (int64_t kk = k0; kk < k1; ++kk)
        s += x[kk];
      permSums[m * numGroups + g] = s;
    }
  }
  p.xPerm = perm;
  p.xPermSum = permSums;
}

void gemvTask(void *ctx, int64_t begin, int64_t end) {
  const WoParams &p = *static_cast<const WoParams *>(ctx);
  getWoArch().gemv(p, begin, end);
}

/// Computes Y[:, n0:n1] (n0 a multiple of 16) through dequantized tiles and
/// the sgemm micro-kernel.
void tiledTask(void *ctx, int64_t n0, int64_t n1) {
  const WoParams &p = *static_cast<const WoParams *>(ctx);
  const SgemmArch &arch = getSgemmArch();
  const WoArch &wo = getWoArch();
  const int mr = arch.mr;
  const int64_t kcMax = std::min<int64_t>(arch.kc, p.K);
  const int64_t mcMax = std::min<int64_t>(arch.mc, (p.M + mr - 1) / mr * mr);
  float *aBuf = tlPackX.get(mcMax * kcMax);
  float *tile = tlTile.get(kcMax * kNR);
  alignas(64) float cTile[32 * kNR];

  for (int64_t ic = 0; ic < p.M; ic += mcMax) {
    int64_t mc = std::min(mcMax, p.M - ic);
    for (int64_t pc = 0; pc < p.K; pc += kcMax) {
      int64_t kc = std::min(kcMax, p.K - pc);
      bool accumulate = p.accumulate || pc > 0;
      packAPanels(p.X, p.ldxM, 1, ic, mc, pc, kc, mr, aBuf);
      for (int64_t n = n0; n < n1; n += kNR) {
        int64_t nr = std::min<int64_t>(kNR, p.N - n);
        wo.dequantTile(p, n, pc, kc, tile);
        for (int64_t ir = 0; ir < mc; ir += mr) {
          int rows = int(std::min<int64_t>(mr, mc - ir));
          float *y = p.Y + (ic + ir) * p.ldyM + n;
          if (nr == kNR) {
            arch.kernel(kc, aBuf + ir * kc, tile, kNR, y, p.ldyM, accumulate,
                        rows);
            continue;
          }
          arch.kernel(kc, aBuf + ir * kc, tile, kNR, cTile, kNR, 0, rows);
          for (int i = 0; i < rows; ++i)
            for (int64_t j = 0; j < nr; ++j) {
              float &dst = y[i * p.ldyM + j];
              dst = (accumulate ? dst : 0.0f) + cTile[i * kNR + j];
            }
        }
      }
    }
  }
}

} // namespace

extern "C" void qrt_uk_wo_gemm(int64_t M, int64_t N, int64_t K, const float *X,
                               int64_t ldx_m, const uint8_t *Wq, int32_t bits,
                               int32_t is_signed, const float *scale,
                               const float *zp, int64_t group_size, float *Y,
                               int64_t ldy_m, int32_t flags) {
  if (bits != 8 && bits != 4 && bits != 3) {
    std::fprintf(stderr, "qrt_uk_wo_gemm: unsupported bit width %d\n", bits);
    std::abort();
  }
  bool accumulate = (flags & QRT_UK_ACCUMULATE) != 0;
  if (M <= 0 || N <= 0)
    return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n)
          Y[m * ldy_m + n] = 0.0f;
    return;
  }

  WoParams p;
  p.M = M;
  p.N = N;
  p.K = K;
  p.X = X;
  p.ldxM = ldx_m;
  p.Wq = Wq;
  p.rowBytes = (K * bits + 7) / 8;
  p.bits = bits;
  p.isSigned = is_signed != 0;
  p.scale = scale;
  p.zp = zp;
  p.groupSize = group_size > 0 ? std::min(group_size, K) : K;
  p.numGroups = (K + p.groupSize - 1) / p.groupSize;
  p.Y = Y;
  p.ldyM = ldy_m;
  p.accumulate = accumulate;
  p.xGroupSum = nullptr;
  p.xPerm = nullptr;
  p.xPermSum = nullptr;

  ThreadPool &pool = getGlobalThreadPool();
  bool parallel =
      N * K >= kMinParallelWeights && !ThreadPool::isInParallelRegion();

  if (M <= kWoGemvMaxM) {
    prepareGemv(p, getWoArch());
    // Chunks of whole cache lines of Y, so threads never share one.
    if (parallel)
      pool.parallelFor(N, gemvTask, &p, 16);
    else
      gemvTask(&p, 0, N);
    return;
  }

  if (parallel)
    pool.parallelFor(N, tiledTask, &p, kNR);
  else
    tiledTask(&p, 0, N);
}
