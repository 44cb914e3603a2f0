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

struct ConvParams {
  int64_t N, C, F, groups, Cg, Fg, K, P;
  int64_t colBlock, colBlocks, rowBlock, rowBlocks;
  ConvPlaneArgs plane;
  const float *X, *Wt;
  float *Y;
  int32_t flags;
  bool pointwise;
};

/// Copies the receptive fields of output pixels [p0, p0 + np) of channels
/// [c0, c0 + Cg) of image plane stack `x` into col[k][j], k = (c, kh, kw).
void im2col(const ConvParams &p, const float *x, int64_t p0, int64_t np,
            float *col) {
  const ConvPlaneArgs &a = p.plane;
  int64_t k = 0;
  for (int64_t c = 0; c < p.Cg; ++c) {
    const float *xc = x + c * a.H * a.W;
    for (int64_t kh = 0; kh < a.KH; ++kh)
      for (int64_t kw = 0; kw < a.KW; ++kw, ++k) {
        float *dst = col + k * np;
        int64_t j = 0;
        int64_t oh = p0 / a.OW, ow = p0 % a.OW;
        while (j < np) {
          int64_t run = std::min(np - j, a.OW - ow);
          const float *src =
              xc + (oh * a.SH + kh * a.DH) * a.W + ow * a.SW + kw * a.DW;
          if (a.SW == 1) {
            std::memcpy(dst + j, src, run * sizeof(float));
          } else {
            for (int64_t i = 0; i < run; ++i)
              dst[j + i] = src[i * a.SW];
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
      for (int64_t f = 0; f < nf; ++f) {
        const float *wf = w + f * p.K;
        // Eight partial sums: a vectorizable reduction without reassociation
        // flags.
        float part[8] = {};
        int64_t k = 0;
        for (; k + 8 <= p.K; k += 8)
          for (int j = 0; j < 8; ++j)
            part[j] += wf[k + j] * x[k + j];
        float sum = 0.0f;
        for (; k < p.K; ++k)
          sum += wf[k] * x[k];
        for (float v : part)
          sum += v;
        y[f] = (p.flags & QRT_UK_ACCUMULATE) ? y[f] + sum : sum;
      }
      continue;
    }
    if (p.pointwise) {
      qrt_uk_sgemm(nf, np, p.K, w, p.K, 1, x + p0, a.H * a.W, 1, y, p.P, 1,
                   p.flags);
      continue;
    }
    float *col = tlColumns.get(p.K * np);
    im2col(p, x, p0, np, col);
    qrt_uk_sgemm(nf, np, p.K, w, p.K, 1, col, np, 1, y, p.P, 1, p.flags);
  }
}

void depthwiseTask(void *ctx, int64_t begin, int64_t end) {
  const ConvParams &p = *static_cast<const ConvParams *>(ctx);
  const ConvPlaneArgs &a = p.plane;
  DepthwisePlaneFn plane = getConvArch().depthwisePlane;
  float *scratch = tlColumns.get(depthwiseScratchSize(a));
  for (int64_t t = begin; t < end; ++t) {
    int64_t c = t % p.C;
    plane(a, p.X + t * a.H * a.W, p.Wt + c * a.KH * a.KW, p.Y + t * p.P,
          scratch);
  }
}

} // namespace

ConvArch qrt::uk::getConvArchScalar() { return {"scalar", depthwisePlane}; }

extern "C" void qrt_uk_conv2d_f32(int64_t N, int64_t C, int64_t H, int64_t W,
                                  int64_t F, int64_t KH, int64_t KW, int64_t OH,
                                  int64_t OW, int64_t SH, int64_t SW,
                                  int64_t DH, int64_t DW, int64_t groups,
                                  const float *X, const float *Wt, float *Y,
                                  int32_t flags) {
  if (N <= 0 || C <= 0 || F <= 0 || OH <= 0 || OW <= 0 || KH <= 0 || KW <= 0 ||
      SH <= 0 || SW <= 0 || DH <= 0 || DW <= 0 || groups <= 0 ||
      C % groups != 0 || F % groups != 0 ||
      (OH - 1) * SH + (KH - 1) * DH >= H || (OW - 1) * SW + (KW - 1) * DW >= W)
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
  p.plane = {
      H, W, KH, KW, OH, OW, SH, SW, DH, DW, (flags & QRT_UK_ACCUMULATE) != 0};
  p.X = X;
  p.Wt = Wt;
  p.Y = Y;
  p.flags = flags;
  int64_t macs = N * F * p.P * p.K;
  bool serial = macs < kMinParallelMacs || ThreadPool::isInParallelRegion();
  int64_t threads = serial ? 1 : qrt_get_num_threads();

  if (p.Cg == 1 && p.Fg == 1) {
    if (serial)
      depthwiseTask(&p, 0, N * C);
    else
      getGlobalThreadPool().parallelFor(N * C, depthwiseTask, &p, 1);
    return;
  }

  p.pointwise = KH == 1 && KW == 1 && SH == 1 && SW == 1 && OH == H && OW == W;
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
    p.rowBlock = std::max<int64_t>(32, (p.Fg / want + 15) / 16 * 16);
  }
  p.rowBlocks = (p.Fg + p.rowBlock - 1) / p.rowBlock;
  tasks *= p.rowBlocks;
  if (serial)
    gemmTask(&p, 0, tasks);
  else
    getGlobalThreadPool().parallelFor(tasks, gemmTask, &p, 1);
}
