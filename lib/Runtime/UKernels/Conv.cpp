//===- Conv.cpp - 2-D convolution over NCHW tensors -----------------------===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//
//
// qrt_uk_conv2d_f32 turns a convolution into the packed sgemm the linear
// layers use: per image, group and block of output pixels, the receptive
// fields are copied into a [Cg*KH*KW, block] column matrix (im2col; a 1x1
// convolution with unit strides reads its input in place) and multiplied by
// the [Fg, Cg*KH*KW] weights. Blocks are sized for L2 and spread over the
// thread pool, each calling the sgemm serially. Depthwise convolutions
// (one input channel per group) have too little reuse for a GEMM: each
// channel is a direct loop, vectorized along the output row (narrow planes
// with strides 1 or 2: along the flattened plane, see depthwiseWide), one
// channel per task.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include "../ThreadPool.h"
#include "qopt/Runtime/UKernels.h"

#include <algorithm>
#include <cstring>

using namespace qrt;
using namespace qrt::uk;

namespace {
#include "DepthwiseConv.inc"

/// The im2col column block holds at most this many floats (256 KiB).
constexpr int64_t kColumnBudget = int64_t(1) << 16;
/// Below this many multiply-adds a call runs on the calling thread.
constexpr int64_t kMinParallelMacs = int64_t(1) << 16;

thread_local ScratchBuffer tlColumns;

/// Whether a depthwise convolution runs channel-interleaved
/// (depthwiseLanes) rather than plane by plane (depthwisePlane): on narrow
/// planes, whose rows are too short for vectors along them, and strided
/// ones up to 16 columns. On wider planes the copies into and out of the
/// interleaved tile cost more than they save (measured on AVX-512 with
/// qrt-ukernel-bench --only=depthwise: 14 columns stride 2 gain 1.3x, 28
/// and 56 lose 1.3x and 1.8x; see docs/benchmarks.md).
bool useDepthwiseLanes(const ConvPlaneArgs &a) {
  return a.OW <= 8 || (a.SH > 1 && a.OW <= 16);
}

struct ConvParams {
  int64_t N, C, F, groups, Cg, Fg, K, P;
  /// Zero padding above and left of the input (below and right: what the
  /// windows of the last output row and column reach past H and W).
  int64_t PT, PL;
  /// Whether some window reaches outside the input.
  bool padded;
  ConvEpilogue epilogue;
  bool hasEpilogue;
  /// Output rows per task of the channel-interleaved depthwise path.
  int64_t laneRows, laneRowBlocks;
  int64_t colBlock, colBlocks, rowBlock, rowBlocks;
  ConvPlaneArgs plane;
  const float *X, *Wt;
  /// The filter packed as QRT_UK_CONV_PACK_MR-row panels, when this ISA
  /// reads that layout, else null.
  const float *Wp;
  int64_t Fgp;
  float *Y;
  int32_t flags;
  bool pointwise;
};

/// Copies the receptive fields of output pixels [p0, p0 + np) of channels
/// [c0, c0 + Cg) of image plane stack `x` into col[k][j], k = (c, kh, kw);
/// taps in the padding read 0.
void im2col(const ConvParams &p, const float *x, int64_t p0, int64_t np,
            float *col) {
  const ConvPlaneArgs &a = p.plane;
  int64_t k = 0;
  for (int64_t c = 0; c < p.Cg; ++c) {
    const float *xc = x + c * a.H * a.W;
    for (int64_t kh = 0; kh < a.KH; ++kh)
      for (int64_t kw = 0; kw < a.KW; ++kw, ++k) {
        float *dst = col + k * np;
        // Input column ow * SW + off of output column ow; the output columns
        // [lo, hi) read inside the row.
        int64_t off = kw * a.DW - p.PL;
        int64_t lo = off >= 0 ? 0 : (-off + a.SW - 1) / a.SW;
        int64_t hi = off >= a.W ? 0 : (a.W - 1 - off) / a.SW + 1;
        int64_t j = 0;
        int64_t oh = p0 / a.OW, ow = p0 % a.OW;
        while (j < np) {
          int64_t run = std::min(np - j, a.OW - ow);
          int64_t ih = oh * a.SH + kh * a.DH - p.PT;
          if (ih < 0 || ih >= a.H) {
            std::memset(dst + j, 0, run * sizeof(float));
          } else {
            int64_t b = std::clamp(lo, ow, ow + run);
            int64_t e = std::clamp(hi, b, ow + run);
            float *d = dst + j - ow;
            for (int64_t o = ow; o < b; ++o)
              d[o] = 0.0f;
            const float *src = xc + ih * a.W + off;
            if (a.SW == 1) {
              if (e > b)
                std::memcpy(d + b, src + b, (e - b) * sizeof(float));
            } else if (a.SW == 2) {
              // A constant stride, which the compiler turns into vector
              // shuffles (the stem convolution of a CNN).
              for (int64_t o = b; o < e; ++o)
                d[o] = src[2 * o];
            } else {
              for (int64_t o = b; o < e; ++o)
                d[o] = src[o * a.SW];
            }
            for (int64_t o = e; o < ow + run; ++o)
              d[o] = 0.0f;
          }
          j += run;
          ow = 0;
          ++oh;
        }
      }
  }
}

void gemmTask(void *ctx, int64_t begin, int64_t end) {
  const ConvParams &p = *static_cast<const ConvParams *>(ctx);
  const ConvPlaneArgs &a = p.plane;
  for (int64_t t = begin; t < end; ++t) {
    int64_t rb = t % p.rowBlocks;
    int64_t rest = t / p.rowBlocks;
    int64_t cb = rest % p.colBlocks;
    rest /= p.colBlocks;
    int64_t g = rest % p.groups;
    int64_t n = rest / p.groups;
    int64_t p0 = cb * p.colBlock, np = std::min(p.colBlock, p.P - p0);
    int64_t f0 = rb * p.rowBlock, nf = std::min(p.rowBlock, p.Fg - f0);
    const float *x = p.X + (n * p.C + g * p.Cg) * a.H * a.W;
    const float *w = p.Wt + (g * p.Fg + f0) * p.K;
    float *y = p.Y + (n * p.F + g * p.Fg + f0) * p.P + p0;
    if (p.pointwise && p.P == 1) {
      // A 1x1 convolution of a 1x1 image (squeeze-excite): a matrix-vector
      // product, not worth packing the weights for.
      getConvArch().dotRows(w, x, p.K, nf, y,
                            (p.flags & QRT_UK_ACCUMULATE) != 0);
    } else {
      const float *b = x + p0;
      int64_t ldb = a.H * a.W;
      if (!p.pointwise) {
        float *col = tlColumns.get(p.K * np);
        im2col(p, x, p0, np, col);
        b = col;
        ldb = np;
      }
      if (p.Wp)
        sgemmPackedA(nf, np, p.K, p.Wp + (g * p.Fgp + f0) * p.K, b, ldb, y, p.P,
                     (p.flags & QRT_UK_ACCUMULATE) != 0);
      else
        qrt_uk_sgemm(nf, np, p.K, w, p.K, 1, b, ldb, 1, y, p.P, 1, p.flags);
    }
    if (p.hasEpilogue)
      getConvArch().epilogue(p.epilogue, g * p.Fg + f0, nf, y, p.P, np);
  }
}

void depthwiseTask(void *ctx, int64_t begin, int64_t end) {
  const ConvParams &p = *static_cast<const ConvParams *>(ctx);
  const ConvArch &arch = getConvArch();
  ConvPlaneArgs a = p.plane;
  // A padded input plane is first copied into a zero-bordered one (in
  // cache, per channel) of the size the windows reach.
  int64_t Hp = a.H, Wp = a.W;
  if (p.padded) {
    Hp = std::max(a.H + p.PT, (a.OH - 1) * a.SH + (a.KH - 1) * a.DH + 1);
    Wp = std::max(a.W + p.PL, (a.OW - 1) * a.SW + (a.KW - 1) * a.DW + 1);
  }
  ConvPlaneArgs ap = a;
  ap.H = Hp;
  ap.W = Wp;
  int64_t planeFloats = p.padded ? Hp * Wp : 0;
  float *padded = tlColumns.get(planeFloats + depthwiseScratchSize(ap));
  float *scratch = padded + planeFloats;
  if (p.padded)
    std::memset(padded, 0, planeFloats * sizeof(float));
  for (int64_t t = begin; t < end; ++t) {
    int64_t c = t % p.C;
    const float *x = p.X + t * a.H * a.W;
    if (p.padded) {
      for (int64_t h = 0; h < a.H; ++h)
        std::memcpy(padded + (h + p.PT) * Wp + p.PL, x + h * a.W,
                    a.W * sizeof(float));
      x = padded;
    }
    float *y = p.Y + t * p.P;
    arch.depthwisePlane(ap, x, p.Wt + c * a.KH * a.KW, y, scratch);
    if (p.hasEpilogue)
      arch.epilogue(p.epilogue, c, 1, y, 0, p.P);
  }
}

/// Tasks of the channel-interleaved depthwise path: (image, block of
/// kDwLanes channels, block of laneRows output rows).
void depthwiseLanesTask(void *ctx, int64_t begin, int64_t end) {
  const ConvParams &p = *static_cast<const ConvParams *>(ctx);
  const ConvArch &arch = getConvArch();
  const ConvPlaneArgs &a = p.plane;
  int64_t channelBlocks = (p.C + kDwLanes - 1) / kDwLanes;
  float *scratch =
      tlColumns.get(depthwiseLanesScratchSize(a, p.PL, p.laneRows));
  for (int64_t t = begin; t < end; ++t) {
    int64_t rb = t % p.laneRowBlocks, rest = t / p.laneRowBlocks;
    int64_t cb = rest % channelBlocks, n = rest / channelBlocks;
    int64_t c0 = cb * kDwLanes, nc = std::min(kDwLanes, p.C - c0);
    int64_t oh0 = rb * p.laneRows, oh1 = std::min(a.OH, oh0 + p.laneRows);
    float *y = p.Y + (n * p.C + c0) * p.P;
    arch.depthwiseLanes(a, p.PT, p.PL, nc, oh0, oh1,
                        p.X + (n * p.C + c0) * a.H * a.W,
                        p.Wt + c0 * a.KH * a.KW, y, scratch);
    if (p.hasEpilogue)
      arch.epilogue(p.epilogue, c0, nc, y + oh0 * a.OW, p.P,
                    (oh1 - oh0) * a.OW);
  }
}

} // namespace

ConvArch qrt::uk::getConvArchScalar() {
  return {"scalar", depthwisePlane, convEpilogue, depthwiseLanes, convDotRows};
}

extern "C" void qrt_uk_conv2d_f32_fused(
    int64_t N, int64_t C, int64_t H, int64_t W, int64_t F, int64_t KH,
    int64_t KW, int64_t OH, int64_t OW, int64_t SH, int64_t SW, int64_t DH,
    int64_t DW, int64_t PT, int64_t PL, int64_t groups, const float *X,
    const float *Wt, const float *Wp, const float *bias, int32_t act,
    float alpha, float beta, float *Y, int32_t flags) {
  if (N <= 0 || C <= 0 || F <= 0 || H <= 0 || W <= 0 || OH <= 0 || OW <= 0 ||
      KH <= 0 || KW <= 0 || SH <= 0 || SW <= 0 || DH <= 0 || DW <= 0 ||
      PT < 0 || PL < 0 || groups <= 0 || C % groups != 0 || F % groups != 0 ||
      act < QRT_UK_ACT_NONE || act > QRT_UK_ACT_CLIP)
    return;
  ConvParams p{};
  p.N = N;
  p.C = C;
  p.F = F;
  p.groups = groups;
  p.Cg = C / groups;
  p.Fg = F / groups;
  p.K = p.Cg * KH * KW;
  p.P = OH * OW;
  p.PT = PT;
  p.PL = PL;
  p.padded = PT > 0 || PL > 0 || (OH - 1) * SH + (KH - 1) * DH - PT >= H ||
             (OW - 1) * SW + (KW - 1) * DW - PL >= W;
  p.epilogue = {bias, act, alpha, beta};
  p.hasEpilogue = bias || act != QRT_UK_ACT_NONE;
  p.plane = {
      H, W, KH, KW, OH, OW, SH, SW, DH, DW, (flags & QRT_UK_ACCUMULATE) != 0};
  p.X = X;
  p.Wt = Wt;
  p.Y = Y;
  p.flags = flags;
  int64_t macs = N * F * p.P * p.K;
  bool serial = macs < kMinParallelMacs || ThreadPool::isInParallelRegion();
  int64_t threads = serial ? 1 : qrt_get_num_threads();

  if (p.Cg == 1 && p.Fg == 1 && useDepthwiseLanes(p.plane)) {
    // Enough tasks for the pool: split the rows when there are few channel
    // blocks.
    int64_t blocks = N * ((C + kDwLanes - 1) / kDwLanes);
    int64_t rowBlocks =
        std::min(OH, std::max<int64_t>(1, (2 * threads + blocks - 1) / blocks));
    p.laneRows = (OH + rowBlocks - 1) / rowBlocks;
    p.laneRowBlocks = (OH + p.laneRows - 1) / p.laneRows;
    int64_t tasks = blocks * p.laneRowBlocks;
    if (serial)
      depthwiseLanesTask(&p, 0, tasks);
    else
      getGlobalThreadPool().parallelFor(tasks, depthwiseLanesTask, &p, 1);
    return;
  }
  if (p.Cg == 1 && p.Fg == 1) {
    if (serial)
      depthwiseTask(&p, 0, N * C);
    else
      getGlobalThreadPool().parallelFor(N * C, depthwiseTask, &p, 1);
    return;
  }

  p.pointwise = KH == 1 && KW == 1 && SH == 1 && SW == 1 && !p.padded &&
                OH == H && OW == W;
  if (Wp && p.P > 1 && getSgemmArch().mr == QRT_UK_CONV_PACK_MR) {
    p.Wp = Wp;
    p.Fgp = (p.Fg + QRT_UK_CONV_PACK_MR - 1) / QRT_UK_CONV_PACK_MR *
            QRT_UK_CONV_PACK_MR;
  }
  // Blocks of filters start at a panel of the packed filter.
  int64_t rowAlign = p.Wp ? QRT_UK_CONV_PACK_MR : 16;
  // Column blocks: a multiple of the sgemm's 16-column panels that keeps
  // the im2col block in L2, at least 32 columns.
  int64_t block = std::max<int64_t>(32, (kColumnBudget / p.K) / 16 * 16);
  p.colBlock = std::min(p.P, std::min<int64_t>(block, 1024));
  p.colBlocks = (p.P + p.colBlock - 1) / p.colBlock;
  // Too few tasks for the pool (late layers: 7x7 pixels, hundreds of
  // filters): split the filters too (the im2col block is then rebuilt per
  // filter block, a small cost next to the GEMM).
  p.rowBlock = p.Fg;
  int64_t tasks = N * groups * p.colBlocks;
  if (tasks < 4 * threads && p.Fg >= 64) {
    int64_t want = (4 * threads + tasks - 1) / tasks;
    p.rowBlock = std::max<int64_t>(2 * rowAlign, (p.Fg / want + rowAlign - 1) /
                                                     rowAlign * rowAlign);
  }
  p.rowBlocks = (p.Fg + p.rowBlock - 1) / p.rowBlock;
  tasks *= p.rowBlocks;
  // Still fewer tasks than threads (the 28x28 and 14x14 stages of a CNN:
  // one column block, fewer than 64 filters): split the columns too, in
  // whole 16-column panels, so that no thread idles through the layer.
  if (threads > 1 && tasks < 2 * threads && p.P >= 32) {
    int64_t want = (2 * threads + tasks - 1) / tasks;
    int64_t block = (p.colBlock + want - 1) / want;
    p.colBlock = std::max<int64_t>(16, (block + 15) / 16 * 16);
    tasks /= p.colBlocks;
    p.colBlocks = (p.P + p.colBlock - 1) / p.colBlock;
    tasks *= p.colBlocks;
  }
  if (serial)
    gemmTask(&p, 0, tasks);
  else
    getGlobalThreadPool().parallelFor(tasks, gemmTask, &p, 1);
}

extern "C" void qrt_uk_conv2d_f32(int64_t N, int64_t C, int64_t H, int64_t W,
                                  int64_t F, int64_t KH, int64_t KW, int64_t OH,
                                  int64_t OW, int64_t SH, int64_t SW,
                                  int64_t DH, int64_t DW, int64_t groups,
                                  const float *X, const float *Wt, float *Y,
                                  int32_t flags) {
  // Unpadded: every window must lie inside the input.
  if (H <= 0 || W <= 0 || (OH - 1) * SH + (KH - 1) * DH >= H ||
      (OW - 1) * SW + (KW - 1) * DW >= W)
    return;
  qrt_uk_conv2d_f32_fused(N, C, H, W, F, KH, KW, OH, OW, SH, SW, DH, DW, 0, 0,
                          groups, X, Wt, nullptr, nullptr, QRT_UK_ACT_NONE,
                          0.0f, 0.0f, Y, flags);
}
