//===- Int8Conv.cpp - int8 2-D convolution over NCHW tensors --------------===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//
//
// qrt_uk_conv2d_s8_i32, the kernel of a W8A8 convolution (an int8 x int8 ->
// i32 Conv generic, UKernels.h). Regular, grouped and 1x1 convolutions are
// GEMMs on the int8 GEMM's micro-kernels (the ISA qrt_uk_s8_gemm picks:
// AMX, AVX-512 VNNI, AVX-VNNI, AVX2 or portable) with the roles swapped
// with respect to a linear layer, so that the result comes out in NCHW
// order with no transpose:
//
//   A = the filters of a group, [Fg, K = Cg*KH*KW] (row-major as stored),
//       packed into micro-panels once per call;
//   B = the receptive fields of a block of output pixels, [K, pixels],
//       written straight into the packed-B layout (panels of 16 pixels, k in
//       groups of 4, column sums for VNNI's unsigned offset) per task;
//   C = Y[n, g*Fg + f, pixel], int32 (the GEMM's int32 epilogue).
//
// Depthwise convolutions (one channel per group) have no reuse for a GEMM;
// they are memory bound, and the f32 depthwise kernel (getConvArch) is the
// tuned direct loop. Integer products of int8 values (|x w| <= 2^14) and
// their sums over a window of at most kExactWindow taps stay below 2^24, so
// that kernel computes them exactly in f32 (with or without fused
// multiply-adds): each channel plane is widened to f32, convolved, and the
// exact sums converted back to int32. Larger windows take a plain int32
// loop (Int8DepthwiseConv.inc). Everything runs on the thread pool.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include "../ThreadPool.h"
#include "qopt/Runtime/UKernels.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

using namespace qrt;
using namespace qrt::uk;

namespace {
#include "Int8DepthwiseConv.inc"

/// Below this many multiply-adds a call runs on the calling thread.
constexpr int64_t kMinParallelMacs = int64_t(1) << 16;
/// Bytes of im2col rows one task gathers at once (about half of L2).
constexpr int64_t kColumnBudget = int64_t(1) << 18;

thread_local ScratchBuffer tlPackedA;
thread_local ScratchBuffer tlColumns;
thread_local ScratchBuffer tlPackedB;

struct S8ConvJob {
  int64_t N, C, F, groups, Cg, Fg, K, Kp, P;
  ConvPlaneArgs plane;
  const int8_t *X, *Wt;
  int32_t *Y;
  bool accumulate, pointwise;
  // GEMM path.
  const S8Arch *arch;
  const uint8_t *packedA; ///< groups * panelsPerGroup micro-panels.
  int64_t panelBytes, panelsPerGroup;
  int64_t colBlock, colBlocks;
  /// Filter micro-panels per task (all of a group's unless the pixels alone
  /// give too few tasks) and the number of such ranges.
  int64_t rowPanels, rowBlocks;
};

/// K alignment of the packed operands for the non-AMX micro-kernels (the
/// AVX-512 VNNI one steps over 4 groups of 4 k; the others fewer).
constexpr int64_t kKpAlign = 16;
/// Below this K the AMX implementation hands over to AVX-512 VNNI.
constexpr int64_t kAmxMinK = 128;

/// Largest depthwise window whose f32 sums are exact integers: 1024 *
/// 2^14 = 2^24.
constexpr int64_t kExactWindow = 1024;

/// Gathers rows k of the im2col matrix for output pixels [p0, p0 + np) of
/// the channel group at `x`: cols[k * np + j], k = (c, kh, kw).
void im2colS8(const S8ConvJob &job, const int8_t *x, int64_t p0, int64_t np,
              int8_t *cols) {
  const ConvPlaneArgs &a = job.plane;
  int64_t k = 0;
  for (int64_t c = 0; c < job.Cg; ++c) {
    const int8_t *xc = x + c * a.H * a.W;
    for (int64_t kh = 0; kh < a.KH; ++kh)
      for (int64_t kw = 0; kw < a.KW; ++kw, ++k) {
        int8_t *dst = cols + k * np;
        int64_t j = 0, oh = p0 / a.OW, ow = p0 % a.OW;
        while (j < np) {
          int64_t run = std::min(np - j, a.OW - ow);
          const int8_t *src =
              xc + (oh * a.SH + kh * a.DH) * a.W + ow * a.SW + kw * a.DW;
          if (a.SW == 1)
            std::memcpy(dst + j, src, size_t(run));
          else
            for (int64_t i = 0; i < run; ++i)
              dst[j + i] = src[i * a.SW];
          j += run;
          ow = 0;
          ++oh;
        }
      }
  }
}

/// Packs B(k, j) = rows[k * ldr + j] for k < K, j < np into the layout of
/// qrt_uk_pack_b_s8 (panels of 16 columns, 4 consecutive k per column
/// together, K padded with zeros to Kp), followed by the int32 column sums.
void packColumns(const int8_t *rows, int64_t ldr, int64_t K, int64_t Kp,
                 int64_t np, int8_t *bp) {
  const int64_t panels = (np + kS8NR - 1) / kS8NR;
  int32_t *colSum = reinterpret_cast<int32_t *>(bp + panels * kS8NR * Kp);
  for (int64_t q = 0; q < panels; ++q) {
    int8_t *panel = bp + q * Kp * kS8NR;
    const int64_t j0 = q * kS8NR;
    const int64_t cols = std::min<int64_t>(kS8NR, np - j0);
    int64_t k = 0;
#if defined(__SSE2__)
    if (cols == kS8NR) {
      // 4 rows of 16 bytes -> 16 columns of 4 bytes: two rounds of
      // interleaving.
      for (; k + kS8KR <= K; k += kS8KR) {
        const int8_t *r = rows + k * ldr + j0;
        __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(r));
        __m128i r1 =
            _mm_loadu_si128(reinterpret_cast<const __m128i *>(r + ldr));
        __m128i r2 =
            _mm_loadu_si128(reinterpret_cast<const __m128i *>(r + 2 * ldr));
        __m128i r3 =
            _mm_loadu_si128(reinterpret_cast<const __m128i *>(r + 3 * ldr));
        __m128i a01lo = _mm_unpacklo_epi8(r0, r1),
                a01hi = _mm_unpackhi_epi8(r0, r1);
        __m128i a23lo = _mm_unpacklo_epi8(r2, r3),
                a23hi = _mm_unpackhi_epi8(r2, r3);
        __m128i *d = reinterpret_cast<__m128i *>(panel + k * kS8NR);
        _mm_storeu_si128(d + 0, _mm_unpacklo_epi16(a01lo, a23lo));
        _mm_storeu_si128(d + 1, _mm_unpackhi_epi16(a01lo, a23lo));
        _mm_storeu_si128(d + 2, _mm_unpacklo_epi16(a01hi, a23hi));
        _mm_storeu_si128(d + 3, _mm_unpackhi_epi16(a01hi, a23hi));
      }
    }
#endif
    // The last partial group of 4, then zeros up to Kp.
    for (; k < K; k += kS8KR) {
      int8_t *d = panel + k * kS8NR;
      for (int64_t j = 0; j < kS8NR; ++j)
        for (int t = 0; t < kS8KR; ++t)
          d[j * kS8KR + t] =
              j < cols && k + t < K ? rows[(k + t) * ldr + j0 + j] : int8_t(0);
    }
    std::memset(panel + k * kS8NR, 0, size_t((Kp - k) * kS8NR));
  }
  // Column sums (for VNNI's +128 offset of A): a widening reduction over
  // the rows, which the vectorizer handles.
  uint32_t *sums = reinterpret_cast<uint32_t *>(colSum);
  const int64_t padded = panels * kS8NR;
  for (int64_t j = 0; j < padded; ++j)
    sums[j] = 0;
  for (int64_t kk = 0; kk < K; ++kk) {
    const int8_t *r = rows + kk * ldr;
    for (int64_t j = 0; j < np; ++j)
      sums[j] += uint32_t(int32_t(r[j]));
  }
}

void gemmTask(void *ctx, int64_t begin, int64_t end) {
  const S8ConvJob &job = *static_cast<const S8ConvJob *>(ctx);
  const S8Arch &arch = *job.arch;
  const ConvPlaneArgs &a = job.plane;
  alignas(64) int32_t tile[kS8TileM * kS8TileN];
  if (arch.taskBegin)
    arch.taskBegin();
  for (int64_t t = begin; t < end; ++t) {
    int64_t rb = t % job.rowBlocks;
    int64_t rest = t / job.rowBlocks;
    int64_t cb = rest % job.colBlocks;
    rest /= job.colBlocks;
    int64_t g = rest % job.groups, n = rest / job.groups;
    int64_t p0 = cb * job.colBlock, np = std::min(job.colBlock, job.P - p0);
    const int8_t *x = job.X + (n * job.C + g * job.Cg) * a.H * a.W;
    const int8_t *rows;
    int64_t ldr;
    if (job.pointwise) {
      // A 1x1 convolution with unit strides reads its input in place.
      rows = x + p0;
      ldr = a.H * a.W;
    } else {
      int8_t *cols =
          reinterpret_cast<int8_t *>(tlColumns.get((job.K * np + 3) / 4 + 1));
      im2colS8(job, x, p0, np, cols);
      rows = cols;
      ldr = np;
    }
    const int64_t panels = (np + kS8NR - 1) / kS8NR;
    int8_t *bp = reinterpret_cast<int8_t *>(
        tlPackedB.get(panels * kS8NR * (job.Kp + 4) / 4 + 1));
    packColumns(rows, ldr, job.K, job.Kp, np, bp);

    S8Params p{};
    p.M = job.Fg;
    p.N = np;
    p.K = job.K;
    p.Kp = job.Kp;
    p.Bp = bp;
    p.colSum = reinterpret_cast<const int32_t *>(bp + panels * kS8NR * job.Kp);
    p.f32 = false;
    p.accumulate = job.accumulate;
    p.Ci = job.Y + (n * job.F + g * job.Fg) * job.P + p0;
    p.ldcM = job.P;
    const uint8_t *groupA =
        job.packedA + g * job.panelsPerGroup * job.panelBytes;
    for (int64_t n0 = 0; n0 < np; n0 += kS8TileN) {
      int cols = int(std::min<int64_t>(kS8TileN, np - n0));
      int npanels = cols > kS8NR ? 2 : 1;
      int64_t r0 = rb * job.rowPanels,
              r1 = std::min(job.panelsPerGroup, r0 + job.rowPanels);
      for (int64_t r = r0; r < r1; ++r) {
        int64_t m0 = r * arch.mr;
        int rowsInPanel = int(std::min<int64_t>(arch.mr, job.Fg - m0));
        arch.kernel(p, groupA + r * job.panelBytes, rowsInPanel, n0, npanels,
                    tile, nullptr, 0);
        arch.epilogue(p, tile, m0, rowsInPanel, n0, cols);
      }
    }
  }
  if (arch.taskEnd)
    arch.taskEnd();
}

void depthwiseTask(void *ctx, int64_t begin, int64_t end) {
  const S8ConvJob &job = *static_cast<const S8ConvJob *>(ctx);
  ConvPlaneArgs a = job.plane;
  const int64_t planeIn = a.H * a.W, window = a.KH * a.KW;
  if (window > kExactWindow) {
    int32_t *row = reinterpret_cast<int32_t *>(tlColumns.get(a.OW + 16));
    for (int64_t t = begin; t < end; ++t) {
      int64_t c = t % job.C;
      s8DepthwisePlane(a, job.X + t * planeIn, job.Wt + c * window,
                       job.Y + t * job.P, row);
    }
    return;
  }
  a.accumulate = false;
  DepthwisePlaneFn plane = getConvArch().depthwisePlane;
  const int64_t scratch = depthwiseScratchSize(a);
  float *xf = tlColumns.get(planeIn + window + job.P + scratch + 48);
  float *wf = xf + (planeIn + 15) / 16 * 16;
  float *yf = wf + (window + 15) / 16 * 16;
  float *work = yf + (job.P + 15) / 16 * 16;
  for (int64_t t = begin; t < end; ++t) {
    int64_t c = t % job.C;
    const int8_t *x = job.X + t * planeIn;
    const int8_t *w = job.Wt + c * window;
    for (int64_t i = 0; i < planeIn; ++i)
      xf[i] = float(x[i]);
    for (int64_t i = 0; i < window; ++i)
      wf[i] = float(w[i]);
    plane(a, xf, wf, yf, work);
    int32_t *y = job.Y + t * job.P;
    if (job.accumulate)
      for (int64_t i = 0; i < job.P; ++i)
        y[i] = int32_t(uint32_t(y[i]) + uint32_t(int32_t(yf[i])));
    else
      for (int64_t i = 0; i < job.P; ++i)
        y[i] = int32_t(yf[i]);
  }
}

} // namespace

extern "C" void qrt_uk_conv2d_s8_i32(int64_t N, int64_t C, int64_t H, int64_t W,
                                     int64_t F, int64_t KH, int64_t KW,
                                     int64_t OH, int64_t OW, int64_t SH,
                                     int64_t SW, int64_t DH, int64_t DW,
                                     int64_t groups, const int8_t *X,
                                     const int8_t *Wt, int32_t *Y,
                                     int32_t flags) {
  if (N <= 0 || C <= 0 || F <= 0 || OH <= 0 || OW <= 0 || KH <= 0 || KW <= 0 ||
      SH <= 0 || SW <= 0 || DH <= 0 || DW <= 0 || groups <= 0 ||
      C % groups != 0 || F % groups != 0 ||
      (OH - 1) * SH + (KH - 1) * DH >= H || (OW - 1) * SW + (KW - 1) * DW >= W)
    return;
  S8ConvJob job{};
  job.N = N;
  job.C = C;
  job.F = F;
  job.groups = groups;
  job.Cg = C / groups;
  job.Fg = F / groups;
  job.K = job.Cg * KH * KW;
  job.P = OH * OW;
  job.accumulate = (flags & QRT_UK_ACCUMULATE) != 0;
  job.plane = {H, W, KH, KW, OH, OW, SH, SW, DH, DW, job.accumulate};
  job.X = X;
  job.Wt = Wt;
  job.Y = Y;
  int64_t macs = N * F * job.P * job.K;
  bool serial = macs < kMinParallelMacs || ThreadPool::isInParallelRegion();
  int64_t threads = serial ? 1 : qrt_get_num_threads();

  if (job.Cg == 1 && job.Fg == 1) {
    if (serial)
      depthwiseTask(&job, 0, N * C);
    else
      getGlobalThreadPool().parallelFor(N * C, depthwiseTask, &job, 1);
    return;
  }

  // The filters as A: the GEMM's implementation for M = Fg rows (AMX takes
  // VNNI's below its minimum M), packed once.
  static thread_local S8Arch smallArch;
  const S8Arch *arch = &getS8Arch();
  // AMX pads K to its 64-byte tile rows; on the short K of mobile
  // networks' 1x1 convolutions that is mostly padding, which VNNI does not
  // need.
  if ((job.Fg < arch->minM || job.K < kAmxMinK) && arch->small) {
    smallArch = arch->small();
    arch = &smallArch;
  }
  job.arch = arch;
  // Both sides are packed here, so K need only be padded to what the
  // micro-kernel steps over (VNNI: 4 groups of 4; AMX: 64-byte tile rows),
  // not to the 64 of the compile-time packed layout.
  job.Kp = arch->isa == S8Isa::AMX
               ? s8PaddedK(job.K)
               : (job.K + kKpAlign - 1) / kKpAlign * kKpAlign;
  job.panelBytes = s8PackedAPanelBytes(arch->aLayout, arch->mr, job.Kp);
  job.panelsPerGroup = (job.Fg + arch->mr - 1) / arch->mr;
  int64_t packedBytes = groups * job.panelsPerGroup * job.panelBytes;
  uint8_t *packedA = reinterpret_cast<uint8_t *>(
      tlPackedA.get(std::max<int64_t>(1, (packedBytes + 3) / 4)));
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t r = 0; r < job.panelsPerGroup; ++r) {
      int64_t m0 = r * arch->mr;
      int rows = int(std::min<int64_t>(arch->mr, job.Fg - m0));
      s8PackA(arch->aLayout, arch->xor128, arch->mr,
              Wt + (g * job.Fg + m0) * job.K, job.K, job.K, job.Kp, rows,
              packedA + (g * job.panelsPerGroup + r) * job.panelBytes);
    }
  job.packedA = packedA;
  job.pointwise =
      KH == 1 && KW == 1 && SH == 1 && SW == 1 && OH == H && OW == W;

  // Pixel blocks: multiples of the micro-tile's 32 columns whose im2col
  // rows stay in L2; smaller when that leaves threads idle.
  int64_t block =
      std::max<int64_t>(kS8TileN, kColumnBudget / std::max<int64_t>(1, job.K) /
                                      kS8TileN * kS8TileN);
  block = std::min<int64_t>(block, 2048);
  int64_t outer = N * groups;
  if (threads > 1) {
    int64_t want = (4 * threads + outer - 1) / outer;
    int64_t split = (job.P + want - 1) / want;
    split = std::max<int64_t>(kS8TileN,
                              (split + kS8TileN - 1) / kS8TileN * kS8TileN);
    block = std::min(block, split);
  }
  job.colBlock = std::min(job.P, block);
  job.colBlocks = (job.P + job.colBlock - 1) / job.colBlock;
  int64_t tasks = outer * job.colBlocks;
  // Late layers (7x7 pixels, hundreds of filters) leave threads idle: split
  // the filters too (each range repacks its pixel block, a small cost next
  // to the product).
  job.rowPanels = job.panelsPerGroup;
  if (threads > 1 && tasks < 2 * threads && job.panelsPerGroup > 1) {
    int64_t want =
        std::min(job.panelsPerGroup, (2 * threads + tasks - 1) / tasks);
    job.rowPanels = (job.panelsPerGroup + want - 1) / want;
  }
  job.rowBlocks = (job.panelsPerGroup + job.rowPanels - 1) / job.rowPanels;
  tasks *= job.rowBlocks;
  if (serial || tasks == 1)
    gemmTask(&job, 0, tasks);
  else
    getGlobalThreadPool().parallelFor(tasks, gemmTask, &job, 1);
}
