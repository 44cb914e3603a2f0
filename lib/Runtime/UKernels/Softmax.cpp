//===- Softmax.cpp - Softmax over the rows of a matrix --------------------===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//
//
// qrt_uk_softmax computes a softmax per row in three passes over the row
// (max, exp and sum, scale) while the row sits in L1, where the generic
// lowering makes three passes over the whole tensor. Attention's [S, S]
// score matrices are what it is for. Rows are split across the thread pool.
//
//===----------------------------------------------------------------------===//

#include "UKernelsImpl.h"

#include "../ThreadPool.h"
#include "qopt/Runtime/UKernels.h"

using namespace qrt;
using namespace qrt::uk;

namespace {

/// Below this many elements a call runs on the calling thread: waking the
/// pool costs more than the work.
constexpr int64_t kMinParallelElements = int64_t(1) << 15;

/// A row with any column strides; the portable implementation, and what
/// every ISA uses for non-unit strides.
void softmaxRowStrided(const float *x, int64_t ldxC, float *y, int64_t ldyC,
                       int64_t n) {
  if (n <= 0)
    return;
  float max = x[0];
  for (int64_t i = 1; i < n; ++i)
    max = std::max(max, x[i * ldxC]);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    float e = softmaxExpScalar(x[i * ldxC] - max);
    y[i * ldyC] = e;
    sum += e;
  }
  float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i)
    y[i * ldyC] *= inv;
}

struct SoftmaxParams {
  int64_t cols;
  const float *X;
  int64_t ldxR, ldxC;
  float *Y;
  int64_t ldyR, ldyC;
};

void softmaxTask(void *ctx, int64_t begin, int64_t end) {
  const auto &p = *static_cast<const SoftmaxParams *>(ctx);
  if (p.ldxC == 1 && p.ldyC == 1) {
    SoftmaxRowFn row = getSoftmaxArch().row;
    for (int64_t r = begin; r < end; ++r)
      row(p.X + r * p.ldxR, p.Y + r * p.ldyR, p.cols);
    return;
  }
  for (int64_t r = begin; r < end; ++r)
    softmaxRowStrided(p.X + r * p.ldxR, p.ldxC, p.Y + r * p.ldyR, p.ldyC,
                      p.cols);
}

} // namespace

SoftmaxArch qrt::uk::getSoftmaxArchScalar() {
  return {"scalar", [](const float *x, float *y, int64_t n) {
            softmaxRowStrided(x, 1, y, 1, n);
          }};
}

extern "C" void qrt_uk_softmax(int64_t rows, int64_t cols, const float *X,
                               int64_t ldx_r, int64_t ldx_c, float *Y,
                               int64_t ldy_r, int64_t ldy_c) {
  if (rows <= 0 || cols <= 0)
    return;
  SoftmaxParams p{cols, X, ldx_r, ldx_c, Y, ldy_r, ldy_c};
  if (rows * cols < kMinParallelElements || ThreadPool::isInParallelRegion()) {
    softmaxTask(&p, 0, rows);
    return;
  }
  // Chunks of at least kMinParallelElements / 4 elements each.
  int64_t minChunk = std::max<int64_t>(1, (kMinParallelElements / 4) / cols);
  getGlobalThreadPool().parallelFor(rows, softmaxTask, &p, minChunk);
}
