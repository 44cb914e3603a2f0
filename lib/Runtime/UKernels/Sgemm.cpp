//===- Sgemm.cpp - Single-precision GEMM driver ---------------------------===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//
//
// The ISA-independent part of qrt_uk_sgemm: GotoBLAS/BLIS blocking, packing,
// threading and the portable micro-kernel. Per thread:
//
//   for jc in its columns, NC at a time:
//     for pc in K, KC at a time:
//       get a KC x NC block of B as 16-column panels (pre-packed, read in
//         place, or packed into a thread-local buffer)
//       for ic in its rows, MC at a time:
//         pack an MC x KC block of A into MR-row micro-panels (L2)
//         for each 16-column panel (L1) and each MR-row micro-panel:
//           micro-kernel
//
// The micro-kernel and MR/MC/KC come from the ISA table (UKernelsImpl.h).
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include "../ThreadPool.h"
#include "qopt/Runtime/UKernels.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

using namespace qrt;
using namespace qrt::uk;

//===----------------------------------------------------------------------===//
// ISA selection
//===----------------------------------------------------------------------===//

namespace {

enum class Isa { Scalar, AVX2, AVX512 };

/// Returns the ISA named by $QRT_UK_ISA ("scalar", "avx2", "avx512") if set
/// and supported, so that tests can exercise every implementation on one
/// machine; otherwise the best one this CPU supports.
Isa selectIsa() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  bool hasAVX2 =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  bool hasAVX512 = hasAVX2 && __builtin_cpu_supports("avx512f") &&
                   __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512vl");
#else
  bool hasAVX2 = false, hasAVX512 = false;
#endif
  Isa best = hasAVX512 ? Isa::AVX512 : hasAVX2 ? Isa::AVX2 : Isa::Scalar;
  if (const char *env = std::getenv("QRT_UK_ISA")) {
    if (!std::strcmp(env, "scalar"))
      return Isa::Scalar;
    if (!std::strcmp(env, "avx2") && hasAVX2)
      return Isa::AVX2;
    if (!std::strcmp(env, "avx512") && hasAVX512)
      return Isa::AVX512;
  }
  return best;
}

Isa getIsa() {
  static const Isa isa = selectIsa();
  return isa;
}

/// One kernel family's table for this CPU's ISA.
template <typename Arch>
Arch selectArch(Arch (*scalar)(), Arch (*avx2)(), Arch (*avx512)()) {
  switch (getIsa()) {
  case Isa::AVX512:
    return avx512();
  case Isa::AVX2:
    return avx2();
  case Isa::Scalar:
    break;
  }
  return scalar();
}

} // namespace

const SgemmArch &qrt::uk::getSgemmArch() {
  static const SgemmArch arch =
      selectArch(getSgemmArchScalar, getSgemmArchAVX2, getSgemmArchAVX512);
  return arch;
}

const WoArch &qrt::uk::getWoArch() {
  static const WoArch arch =
      selectArch(getWoArchScalar, getWoArchAVX2, getWoArchAVX512);
  return arch;
}

const SoftmaxArch &qrt::uk::getSoftmaxArch() {
  static const SoftmaxArch arch = selectArch(
      getSoftmaxArchScalar, getSoftmaxArchAVX2, getSoftmaxArchAVX512);
  return arch;
}

const AttentionArch &qrt::uk::getAttentionArch() {
  static const AttentionArch arch = selectArch(
      getAttentionArchScalar, getAttentionArchAVX2, getAttentionArchAVX512);
  return arch;
}

const ConvArch &qrt::uk::getConvArch() {
  static const ConvArch arch =
      selectArch(getConvArchScalar, getConvArchAVX2, getConvArchAVX512);
  return arch;
}

//===----------------------------------------------------------------------===//
// Portable micro-kernel
//===----------------------------------------------------------------------===//

namespace {

constexpr int kScalarMR = 4;

/// Plain loops over a 4x16 tile; the compiler vectorises the j loop with
/// whatever the baseline ISA offers.
void scalarMicroKernel(int64_t kc, const float *a, const float *b, int64_t ldb,
                       float *c, int64_t ldc, int accumulate, int mr) {
  float acc[kScalarMR][kNR] = {};
  for (int64_t k = 0; k < kc; ++k) {
    const float *bk = b + k * ldb;
    const float *ak = a + k * kScalarMR;
    for (int i = 0; i < kScalarMR; ++i)
      for (int j = 0; j < kNR; ++j)
        acc[i][j] += ak[i] * bk[j];
  }
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < kNR; ++j)
      c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0.0f) + acc[i][j];
}

} // namespace

SgemmArch qrt::uk::getSgemmArchScalar() {
  return {"scalar", scalarMicroKernel, kScalarMR, 128, 256};
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

namespace {

/// Largest MR of any ISA; sizes the tile used for edge and strided C tiles.
constexpr int kMaxMR = 32;
/// Columns of B packed at once (a KC x NC block is meant to sit in L3).
constexpr int64_t kNC = 4096;
/// Depth of a block when B is read in place (BMode::Direct).
constexpr int64_t kDirectKC = 16;
/// Depth of a block for GEMV-like problems with pre-packed B.
constexpr int64_t kMaxGemvKC = 16384;
/// Below this many multiply-adds a problem runs on the calling thread: waking
/// the pool would cost more than it saves.
constexpr int64_t kMinParallelMacs = int64_t(1) << 20;

thread_local ScratchBuffer tlPackA;
thread_local ScratchBuffer tlPackB;

/// Where a block's B panels come from.
enum class BMode {
  Prepacked, ///< Panels of the caller's pre-packed B, full K deep.
  Direct,    ///< Rows of the caller's B (unit column stride), read in place.
  Pack,      ///< Packed per block into a thread-local buffer.
};

struct GemmProblem {
  int64_t M, N, K;
  const float *A;
  int64_t ldaM, ldaK;
  const float *B; ///< Unpacked B, or the pre-packed panels for Prepacked.
  int64_t ldbK, ldbN;
  float *C;
  int64_t ldcM, ldcN;
  bool accumulate;
  BMode bMode;
  /// Thread grid: rows of C split `tm` ways, columns (16-column panels)
  /// `tn` ways.
  int tm, tn;
  /// A packed ahead of time as full-depth micro-panels (sgemmPackedA), or
  /// null.
  const float *Ap = nullptr;
};

/// Packs one 16-column panel: dst[k*16 + j] = B(k0+k, n0+j), zero past N.
void packBPanel(const float *b, int64_t ldbK, int64_t ldbN, int64_t N,
                int64_t n0, int64_t k0, int64_t kc, float *dst) {
  int64_t cols = std::min<int64_t>(kNR, N - n0);
  const float *src = b + k0 * ldbK + n0 * ldbN;
  if (ldbN == 1 && cols == kNR) {
    // Fixed-size copies, so that the compiler emits plain vector moves.
    for (int64_t k = 0; k < kc; ++k)
      std::memcpy(dst + k * kNR, src + k * ldbK, kNR * sizeof(float));
    return;
  }
  for (int64_t k = 0; k < kc; ++k) {
    for (int64_t j = 0; j < cols; ++j)
      dst[k * kNR + j] = src[k * ldbK + j * ldbN];
    for (int64_t j = cols; j < kNR; ++j)
      dst[k * kNR + j] = 0.0f;
  }
}

/// Packs B[k0:k0+kc, n0:n0+nc] into 16-column panels of kc rows at dst.
void packBBlock(const GemmProblem &p, int64_t n0, int64_t nc, int64_t k0,
                int64_t kc, float *dst) {
  if (p.ldbN != 1) {
    for (int64_t jr = 0; jr < nc; jr += kNR)
      packBPanel(p.B, p.ldbK, p.ldbN, p.N, n0 + jr, k0, kc, dst + jr * kc);
    return;
  }
  // Row-major B: walk it row by row, so that the reads are a few long
  // sequential streams instead of one 64-byte piece of each of kc rows per
  // panel, which defeats the hardware prefetchers.
  int64_t fullCols = std::min(nc, p.N - n0) / kNR * kNR;
  for (int64_t k = 0; k < kc; ++k) {
    const float *src = p.B + (k0 + k) * p.ldbK + n0;
    for (int64_t jr = 0; jr < fullCols; jr += kNR)
      std::memcpy(dst + jr * kc + k * kNR, src + jr, kNR * sizeof(float));
  }
  if (fullCols < nc)
    packBPanel(p.B, p.ldbK, 1, p.N, n0 + fullCols, k0, kc, dst + fullCols * kc);
}

/// Computes C[i0:i1, n0:n1] (n0 a multiple of 16) on the calling thread.
void gemmBlock(const GemmProblem &p, const SgemmArch &arch, int64_t i0,
               int64_t i1, int64_t n0, int64_t n1) {
  const int mr = arch.mr;
  // Reading B in place touches kc rows of B per panel: keep kc small so that
  // the prefetchers can track the streams.
  // With few rows (a GEMV, in effect) and pre-packed B, B is the only big
  // operand: take each panel full depth, so that it is read as one long
  // sequential stream, and the A micro-panel (mr x K) stays in L2.
  int64_t kcWanted = arch.kc;
  if (p.bMode == BMode::Direct)
    kcWanted = kDirectKC;
  else if (p.bMode == BMode::Prepacked && i1 - i0 <= 2 * mr)
    kcWanted = kMaxGemvKC;
  const int64_t kcMax = std::min<int64_t>(kcWanted, p.K);
  const int64_t mcMax =
      std::min<int64_t>(arch.mc, (i1 - i0 + mr - 1) / mr * mr);
  const int64_t ncMax = std::min<int64_t>(kNC, (n1 - n0 + kNR - 1) / kNR * kNR);
  float *aBuf = tlPackA.get(mcMax * kcMax);
  float *bBuf = nullptr;
  if (p.bMode == BMode::Pack)
    bBuf = tlPackB.get(ncMax * kcMax);
  else if (p.bMode == BMode::Direct && p.N % kNR != 0)
    bBuf = tlPackB.get(kNR * kcMax); // The partial last panel.
  alignas(64) float tile[kMaxMR * kNR];

  for (int64_t jc = n0; jc < n1; jc += ncMax) {
    int64_t nc = std::min(ncMax, n1 - jc);
    for (int64_t pc = 0; pc < p.K; pc += kcMax) {
      int64_t kc = std::min(kcMax, p.K - pc);
      bool accumulate = p.accumulate || pc > 0;
      if (p.bMode == BMode::Pack)
        packBBlock(p, jc, nc, pc, kc, bBuf);
      else if (p.bMode == BMode::Direct && p.N % kNR != 0 && jc + nc == p.N)
        packBPanel(p.B, p.ldbK, 1, p.N, p.N / kNR * kNR, pc, kc, bBuf);

      for (int64_t ic = i0; ic < i1; ic += mcMax) {
        int64_t mc = std::min(mcMax, i1 - ic);
        if (!p.Ap)
          packAPanels(p.A, p.ldaM, p.ldaK, ic, mc, pc, kc, mr, aBuf);

        for (int64_t jr = 0; jr < nc; jr += kNR) {
          int64_t n = jc + jr;
          int64_t nr = std::min<int64_t>(kNR, p.N - n);
          const float *b;
          int64_t ldb = kNR;
          switch (p.bMode) {
          case BMode::Prepacked:
            b = p.B + ((n / kNR) * p.K + pc) * kNR;
            break;
          case BMode::Pack:
            b = bBuf + jr * kc;
            break;
          case BMode::Direct:
            if (nr == kNR) {
              b = p.B + pc * p.ldbK + n;
              ldb = p.ldbK;
            } else {
              b = bBuf;
            }
            break;
          }
          for (int64_t ir = 0; ir < mc; ir += mr) {
            int rows = int(std::min<int64_t>(mr, mc - ir));
            const float *a =
                p.Ap ? p.Ap + (ic + ir) * p.K + pc * mr : aBuf + ir * kc;
            float *c = p.C + (ic + ir) * p.ldcM + n * p.ldcN;
            if (nr == kNR && p.ldcN == 1) {
              arch.kernel(kc, a, b, ldb, c, p.ldcM, accumulate, rows);
              continue;
            }
            // Edge or strided tile: compute into a local tile, then merge.
            arch.kernel(kc, a, b, ldb, tile, kNR, 0, rows);
            for (int i = 0; i < rows; ++i)
              for (int64_t j = 0; j < nr; ++j) {
                float &dst = c[i * p.ldcM + j * p.ldcN];
                dst = (accumulate ? dst : 0.0f) + tile[i * kNR + j];
              }
          }
        }
      }
    }
  }
}

void gemmTask(void *ctx, int64_t begin, int64_t end) {
  const GemmProblem &p = *static_cast<const GemmProblem *>(ctx);
  const SgemmArch &arch = getSgemmArch();
  int64_t panels = (p.N + kNR - 1) / kNR;
  int64_t microRows = (p.M + arch.mr - 1) / arch.mr;
  for (int64_t t = begin; t < end; ++t) {
    int64_t ti = t / p.tn, tj = t % p.tn;
    // Split micro-panel rows and 16-column panels as evenly as possible.
    int64_t r0 = microRows * ti / p.tm, r1 = microRows * (ti + 1) / p.tm;
    int64_t q0 = panels * tj / p.tn, q1 = panels * (tj + 1) / p.tn;
    int64_t i0 = r0 * arch.mr, i1 = std::min(p.M, r1 * arch.mr);
    int64_t n0 = q0 * kNR, n1 = std::min(p.N, q1 * kNR);
    if (i0 < i1 && n0 < n1)
      gemmBlock(p, arch, i0, i1, n0, n1);
  }
}

/// Chooses the thread grid: the split of C into tm x tn rectangles, one per
/// thread, that minimises a rough per-thread cost (multiply-adds, including
/// padding to whole tiles, plus the A and B elements each thread packs or
/// streams).
void chooseGrid(GemmProblem &p, const SgemmArch &arch, int threads) {
  p.tm = p.tn = 1;
  if (threads <= 1 || p.M * p.N * p.K < kMinParallelMacs)
    return;
  int64_t panels = (p.N + kNR - 1) / kNR;
  int64_t microRows = (p.M + arch.mr - 1) / arch.mr;
  double best = 0;
  for (int tn = 1; tn <= threads; ++tn) {
    if (threads % tn)
      continue;
    int tm = threads / tn;
    if (tn > panels || tm > microRows)
      continue;
    double cols = double((panels + tn - 1) / tn * kNR);
    double rows = double((microRows + tm - 1) / tm * arch.mr);
    double cost = rows * cols * double(p.K) + 8.0 * double(p.K) * (rows + cols);
    if (p.tm * p.tn == 1 || cost <= best) {
      best = cost;
      p.tm = tm;
      p.tn = tn;
    }
  }
}

void runGemm(GemmProblem &p) {
  if (p.M <= 0 || p.N <= 0)
    return;
  if (p.K <= 0) {
    if (!p.accumulate)
      for (int64_t i = 0; i < p.M; ++i)
        for (int64_t j = 0; j < p.N; ++j)
          p.C[i * p.ldcM + j * p.ldcN] = 0.0f;
    return;
  }
  const SgemmArch &arch = getSgemmArch();
  ThreadPool &pool = getGlobalThreadPool();
  chooseGrid(p, arch,
             ThreadPool::isInParallelRegion() ? 1 : pool.getNumThreads());
  int64_t tasks = int64_t(p.tm) * p.tn;
  if (tasks == 1)
    gemmTask(&p, 0, 1);
  else
    pool.parallelFor(tasks, gemmTask, &p);
}

} // namespace

void qrt::uk::packAPanels(const float *A, int64_t ldaM, int64_t ldaK,
                          int64_t i0, int64_t mc, int64_t k0, int64_t kc,
                          int mr, float *ap) {
  for (int64_t ir = 0; ir < mc; ir += mr) {
    int64_t rows = std::min<int64_t>(mr, mc - ir);
    const float *a = A + (i0 + ir) * ldaM + k0 * ldaK;
    float *dst = ap + ir * kc;
    if (ldaK == 1 && rows == mr) {
      // Row-major A, a full micro-panel: 4x4 blocks transposed in
      // registers, so that the stores are vectors too (element-wise, this
      // packing took a tenth of a transformer's run time).
      int64_t k = 0;
#if defined(__SSE2__)
      for (; k + 4 <= kc; k += 4) {
        int i = 0;
        for (; i + 4 <= mr; i += 4) {
          __m128 r0 = _mm_loadu_ps(a + (i + 0) * ldaM + k);
          __m128 r1 = _mm_loadu_ps(a + (i + 1) * ldaM + k);
          __m128 r2 = _mm_loadu_ps(a + (i + 2) * ldaM + k);
          __m128 r3 = _mm_loadu_ps(a + (i + 3) * ldaM + k);
          _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
          _mm_storeu_ps(dst + (k + 0) * mr + i, r0);
          _mm_storeu_ps(dst + (k + 1) * mr + i, r1);
          _mm_storeu_ps(dst + (k + 2) * mr + i, r2);
          _mm_storeu_ps(dst + (k + 3) * mr + i, r3);
        }
        for (; i < mr; ++i)
          for (int j = 0; j < 4; ++j)
            dst[(k + j) * mr + i] = a[i * ldaM + k + j];
      }
#endif
      for (; k < kc; ++k)
        for (int i = 0; i < mr; ++i)
          dst[k * mr + i] = a[i * ldaM + k];
      continue;
    }
    if (ldaK == 1 || ldaM != 1) {
      // Row-major-ish: read each row contiguously.
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t k = 0; k < kc; ++k)
          dst[k * mr + i] = a[i * ldaM + k * ldaK];
    } else {
      // Column-major A: the rows of one k are adjacent.
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t i = 0; i < rows; ++i)
          dst[k * mr + i] = a[k * ldaK + i];
    }
  }
}

//===----------------------------------------------------------------------===//
// C entry points
//===----------------------------------------------------------------------===//

extern "C" void qrt_uk_sgemm(int64_t M, int64_t N, int64_t K, const float *A,
                             int64_t lda_m, int64_t lda_k, const float *B,
                             int64_t ldb_k, int64_t ldb_n, float *C,
                             int64_t ldc_m, int64_t ldc_n, int32_t flags) {
  GemmProblem p{M,
                N,
                K,
                A,
                lda_m,
                lda_k,
                B,
                ldb_k,
                ldb_n,
                C,
                ldc_m,
                ldc_n,
                (flags & QRT_UK_ACCUMULATE) != 0,
                BMode::Pack,
                1,
                1};
  // With few rows each B panel is used by few micro-tiles, so copying it
  // costs more than the cache misses it saves: read it in place.
  if (ldb_n == 1 && M <= 2 * getSgemmArch().mr)
    p.bMode = BMode::Direct;
  runGemm(p);
}

void qrt::uk::sgemmPackedA(int64_t M, int64_t N, int64_t K, const float *ap,
                           const float *B, int64_t ldbK, float *C, int64_t ldcM,
                           bool accumulate) {
  GemmProblem p{M, N,    K, nullptr,    0,           0, B, ldbK, 1,
                C, ldcM, 1, accumulate, BMode::Pack, 1, 1, ap};
  if (M <= 2 * getSgemmArch().mr)
    p.bMode = BMode::Direct;
  if (M <= 0 || N <= 0 || K <= 0) {
    runGemm(p);
    return;
  }
  gemmTask(&p, 0, 1);
}

extern "C" void qrt_uk_sgemm_packed(int64_t M, int64_t N, int64_t K,
                                    const float *A, int64_t lda_m,
                                    int64_t lda_k, const float *Bp, float *C,
                                    int64_t ldc_m, int64_t ldc_n,
                                    int32_t flags) {
  GemmProblem p{M,
                N,
                K,
                A,
                lda_m,
                lda_k,
                Bp,
                kNR,
                1,
                C,
                ldc_m,
                ldc_n,
                (flags & QRT_UK_ACCUMULATE) != 0,
                BMode::Prepacked,
                1,
                1};
  runGemm(p);
}

extern "C" int64_t qrt_uk_packed_b_f32_size(int64_t N, int64_t K) {
  return (N + kNR - 1) / kNR * kNR * K;
}

extern "C" void qrt_uk_pack_b_f32(int64_t N, int64_t K, const float *B,
                                  int64_t ldb_k, int64_t ldb_n, float *Bp) {
  for (int64_t n0 = 0; n0 < N; n0 += kNR)
    packBPanel(B, ldb_k, ldb_n, N, n0, 0, K, Bp + n0 * K);
}
