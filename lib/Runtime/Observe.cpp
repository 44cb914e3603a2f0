//===- Observe.cpp - Statistics of calibration builds ---------------------===//
//
// Calibration builds call qrt_observe at every `qopt.observe`. The call runs
// on the thread of qrt_session_run, which names the session's statistics in
// a thread-local (handed on to pool threads by qrt_parallel_for); every
// point has its own lock, so that observations from
// several threads (or sessions of other artifacts) never contend on one
// global lock. Non-finite values are counted and left out (a Hessian row
// holding one is skipped whole): one NaN would otherwise poison a whole
// range, and the driver decides what a count means.
//
//===----------------------------------------------------------------------===//

#include "Observe.h"
#include "ThreadPool.h"

#include "qopt/Runtime/UKernels.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <limits>

using namespace qrt;

// The session's Observations travel as the thread pool's run context, so
// that calls from parallel loop bodies find them too.
static Observations *current() {
  return static_cast<Observations *>(getRunContext());
}

Observations::Observations(const qart_artifact_v1 *desc)
    : desc(desc), points(new PointStats[desc->num_observe_points]) {}

void Observations::reset() {
  for (int32_t i = 0; i < desc->num_observe_points; ++i) {
    PointStats &p = points[i];
    std::lock_guard<std::mutex> lock(p.mutex);
    p.samples = p.elements = p.nonfinite = 0;
    p.channels = -1;
    p.anyFinite = false;
    p.min.clear();
    p.max.clear();
    p.absmax.clear();
    p.hessianK = 0;
    p.hessian.clear();
    p.histogram.clear();
    p.histogramRange = 0;
  }
  std::lock_guard<std::mutex> lock(errorMutex);
  error.clear();
}

ObservationScope::ObservationScope(Observations *observations)
    : previous(current()) {
  setRunContext(observations);
}

ObservationScope::~ObservationScope() { setRunContext(previous); }

namespace {

void recordError(Observations &obs, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

void recordError(Observations &obs, const char *format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  vsnprintf(buffer, sizeof(buffer), format, args);
  va_end(args);
  std::lock_guard<std::mutex> lock(obs.errorMutex);
  if (obs.error.empty())
    obs.error = buffer;
}

/// A strided rank-r f32 view.
struct View {
  const float *base;
  int64_t rank;
  const int64_t *sizes, *strides;
};

/// Calls fn(outerIndex, row pointer, inner stride) for every row along the
/// last dimension (rank 0: one row of one element).
template <typename Fn> void forEachRow(const View &v, Fn fn) {
  int64_t inner = v.rank ? v.sizes[v.rank - 1] : 1;
  int64_t innerStride = v.rank ? v.strides[v.rank - 1] : 1;
  if (inner == 0)
    return;
  std::vector<int64_t> index(v.rank > 1 ? v.rank - 1 : 0, 0);
  for (int64_t d = 0; d + 1 < v.rank; ++d)
    if (v.sizes[d] == 0)
      return;
  while (true) {
    const float *row = v.base;
    for (size_t d = 0; d < index.size(); ++d)
      row += index[d] * v.strides[d];
    fn(index, row, innerStride, inner);
    int64_t d = static_cast<int64_t>(index.size()) - 1;
    for (; d >= 0; --d) {
      if (++index[d] < v.sizes[d])
        break;
      index[d] = 0;
    }
    if (d < 0)
      return;
  }
}

// The common case, rows without NaN or infinity, in loops the compiler
// vectorizes: lane-wise selects rather than std::min (whose NaN ordering
// blocks vectorization), with eight partial results per row.

/// min/max/absmax of element j into entry j.
void updateLanes(const float *row, int64_t stride, int64_t n, float *mins,
                 float *maxs, float *abss) {
  for (int64_t j = 0; j < n; ++j) {
    float v = row[j * stride], a = std::fabs(v);
    mins[j] = v < mins[j] ? v : mins[j];
    maxs[j] = v > maxs[j] ? v : maxs[j];
    abss[j] = a > abss[j] ? a : abss[j];
  }
}

/// min/max/absmax of the whole row into one entry.
void reduceRow(const float *row, int64_t stride, int64_t n, float &min,
               float &max, float &absmax) {
  constexpr int kLanes = 8;
  float mn[kLanes], mx[kLanes], am[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    mn[l] = min;
    mx[l] = max;
    am[l] = absmax;
  }
  int64_t j = 0;
  if (stride == 1)
    for (; j + kLanes <= n; j += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        float v = row[j + l], a = std::fabs(v);
        mn[l] = v < mn[l] ? v : mn[l];
        mx[l] = v > mx[l] ? v : mx[l];
        am[l] = a > am[l] ? a : am[l];
      }
  for (; j < n; ++j) {
    float v = row[j * stride], a = std::fabs(v);
    mn[0] = v < mn[0] ? v : mn[0];
    mx[0] = v > mx[0] ? v : mx[0];
    am[0] = a > am[0] ? a : am[0];
  }
  for (int l = 0; l < kLanes; ++l) {
    min = std::min(min, mn[l]);
    max = std::max(max, mx[l]);
    absmax = std::max(absmax, am[l]);
  }
}

/// Adds 2 * X^T X to `h` (K x K, double), X being `rows` ([T, K]
/// contiguous, finite). One call's product comes from the sgemm kernel in
/// f32 (on the pool; a sum over one batch's tokens), and calls accumulate in
/// f64, so the error does not grow with the size of the calibration set.
void accumulateHessian(const std::vector<float> &rows, int64_t k,
                       std::vector<double> &h) {
  int64_t t = k ? static_cast<int64_t>(rows.size()) / k : 0;
  std::vector<float> product(static_cast<size_t>(k * k));
  // C[i, j] = sum_r X[r, i] * X[r, j]: A = X^T read through strides.
  qrt_uk_sgemm(k, k, t, rows.data(), /*lda_m=*/1, /*lda_k=*/k, rows.data(),
               /*ldb_k=*/k, /*ldb_n=*/1, product.data(), k, 1, /*flags=*/0);
  for (size_t i = 0; i < product.size(); ++i)
    h[i] += 2.0 * static_cast<double>(product[i]);
}

bool isHistogramKind(int32_t kind) {
  return kind == QART_OBSERVE_PERCENTILE || kind == QART_OBSERVE_MSE ||
         kind == QART_OBSERVE_HISTOGRAM;
}

/// Makes the histogram's range cover `absmax`. The first non-zero maximum
/// becomes the range; later, larger ones double it as often as needed,
/// each doubling merging bins 2i and 2i + 1 into bin i. The bin edges of
/// the new range are edges of the old one, so counts move exactly (no
/// interpolation); the price is resolution: the data's maximum always
/// lies in the upper half of the range, so at least bins / 2 bins cover it.
void growHistogram(PointStats &p, double absmax) {
  if (absmax <= p.histogramRange)
    return;
  if (p.histogramRange == 0) {
    // Zeros counted so far are in bin 0, which holds 0 whatever the range.
    p.histogramRange = absmax;
    return;
  }
  size_t bins = p.histogram.size();
  while (absmax > p.histogramRange) {
    p.histogramRange *= 2;
    for (size_t i = 0; i < bins; ++i) {
      int64_t merged = 0;
      if (2 * i < bins)
        merged += p.histogram[2 * i];
      if (2 * i + 1 < bins)
        merged += p.histogram[2 * i + 1];
      p.histogram[i] = merged;
    }
  }
}

/// Adds the finite values of `row` to the histogram: bin
/// min(bins - 1, floor(|x| * bins / range)), in double.
void binRow(PointStats &p, const float *row, int64_t stride, int64_t n) {
  int64_t bins = static_cast<int64_t>(p.histogram.size());
  if (p.histogramRange == 0) {
    // Only zeros so far (the range grows before binning).
    for (int64_t j = 0; j < n; ++j)
      p.histogram[0] += row[j * stride] == 0.0f;
    return;
  }
  double perUnit = static_cast<double>(bins) / p.histogramRange;
  for (int64_t j = 0; j < n; ++j) {
    float v = row[j * stride];
    if (!std::isfinite(v))
      continue;
    int64_t bin =
        static_cast<int64_t>(std::fabs(static_cast<double>(v)) * perUnit);
    p.histogram[std::min(bin, bins - 1)] += 1;
  }
}

} // namespace

extern "C" void qrt_observe(int64_t point, int64_t rank, const void *desc) {
  Observations *obs = current();
  if (!obs)
    return;
  if (point < 0 || point >= obs->desc->num_observe_points)
    return recordError(*obs, "observation point %lld does not exist",
                       static_cast<long long>(point));
  const qart_observe_point &info = obs->desc->observe_points[point];
  if (rank < 0 || rank > 64 || !desc)
    return recordError(*obs, "point '%s': invalid buffer of rank %lld",
                       info.name, static_cast<long long>(rank));
  const int64_t *words = static_cast<const int64_t *>(desc);
  const float *aligned;
  memcpy(&aligned, &words[1], sizeof(aligned));
  View view = {aligned + words[2], rank, words + 3, words + 3 + rank};

  bool hessian = info.kind == QART_OBSERVE_HESSIAN;
  // Entries of min/max/absmax (the Hessian's point is per tensor for
  // those), and the Hessian's K.
  int64_t channels = 1, k = 0;
  if (hessian) {
    if (rank < 1)
      return recordError(*obs, "point '%s': a hessian needs rank >= 1",
                         info.name);
    k = view.sizes[rank - 1];
  } else if (info.axis >= 0) {
    if (info.axis >= rank)
      return recordError(*obs, "point '%s': axis %d of a rank-%lld buffer",
                         info.name, info.axis, static_cast<long long>(rank));
    channels = view.sizes[info.axis];
  }
  int64_t expected = hessian ? k : channels;
  int64_t inner = rank ? view.sizes[rank - 1] : 1;
  int64_t total = 1;
  for (int64_t d = 0; d < rank; ++d)
    total *= view.sizes[d];
  int64_t rows = inner ? total / inner : 0;

  PointStats &p = obs->points[point];
  std::lock_guard<std::mutex> lock(p.mutex);
  if (p.channels < 0) {
    if (info.channels >= 0 && info.channels != expected)
      return recordError(*obs,
                         "point '%s': %lld channels, the artifact says %lld",
                         info.name, static_cast<long long>(expected),
                         static_cast<long long>(info.channels));
    p.channels = channels;
    p.hessianK = k;
    p.hessian.assign(static_cast<size_t>(k * k), 0.0);
    p.min.assign(channels, std::numeric_limits<float>::infinity());
    p.max.assign(channels, -std::numeric_limits<float>::infinity());
    p.absmax.assign(channels, 0.0f);
    if (isHistogramKind(info.kind))
      p.histogram.assign(static_cast<size_t>(std::max<int64_t>(info.bins, 2)),
                         0);
  } else if ((hessian ? p.hessianK : p.channels) != expected) {
    return recordError(
        *obs, "point '%s': %lld channels after %lld in an earlier call",
        info.name, static_cast<long long>(expected),
        static_cast<long long>(hessian ? p.hessianK : p.channels));
  }

  p.samples += rows;
  p.elements += total;
  // Per tensor and per channel along an outer axis, a row has one channel;
  // along the last axis, every element is its own.
  bool innerAxis = !hessian && info.axis >= 0 && info.axis == rank - 1;
  std::vector<float> gathered;
  if (hessian)
    gathered.reserve(static_cast<size_t>(total));
  float *mins = p.min.data(), *maxs = p.max.data(), *abss = p.absmax.data();
  forEachRow(view, [&](const std::vector<int64_t> &index, const float *row,
                       int64_t stride, int64_t n) {
    int64_t channel =
        (!hessian && info.axis >= 0 && !innerAxis) ? index[info.axis] : 0;
    int64_t bad = 0;
    for (int64_t j = 0; j < n; ++j)
      bad += !(std::fabs(row[j * stride]) <= FLT_MAX);
    p.nonfinite += bad;
    if (bad == 0) {
      p.anyFinite |= n > 0;
      if (innerAxis)
        updateLanes(row, stride, n, mins, maxs, abss);
      else
        reduceRow(row, stride, n, mins[channel], maxs[channel], abss[channel]);
      // A row with a NaN would poison a whole row and column of H.
      if (hessian)
        for (int64_t j = 0; j < n; ++j)
          gathered.push_back(row[j * stride]);
      return;
    }
    for (int64_t j = 0; j < n; ++j) {
      float v = row[j * stride];
      if (!std::isfinite(v))
        continue;
      int64_t c = innerAxis ? j : channel;
      mins[c] = std::min(mins[c], v);
      maxs[c] = std::max(maxs[c], v);
      abss[c] = std::max(abss[c], std::fabs(v));
      p.anyFinite = true;
    }
  });
  if (hessian && !gathered.empty())
    accumulateHessian(gathered, p.hessianK, p.hessian);
  // Histogram kinds are per tensor: absmax[0] is the running max |x|, which
  // the range covers before this call's values are binned.
  if (isHistogramKind(info.kind) && !p.histogram.empty() && p.anyFinite) {
    growHistogram(p, static_cast<double>(p.absmax[0]));
    forEachRow(view,
               [&](const std::vector<int64_t> &, const float *row,
                   int64_t stride, int64_t n) { binRow(p, row, stride, n); });
  }
}
