//===- Clip.cpp - clip ranges from calibration histograms -----------------===//
//
// Straight loops in double, in a fixed order: test/Runner/
// histogram-reference.py recomputes the same definitions independently.
//
//===----------------------------------------------------------------------===//

#include "qopt/Calibration/Clip.h"

#include <cmath>
#include <limits>

using namespace qstats;

namespace {
/// qart_observer_kind values (the artifact ABI header is C; this library
/// stays free of it).
enum : int32_t { kPercentile = 1, kMse = 2, kHistogram = 3 };
} // namespace

double qstats::percentileClip(const std::vector<int64_t> &histogram,
                              double range, double percentile) {
  int64_t total = 0;
  for (int64_t count : histogram)
    total += count;
  if (total == 0 || histogram.empty())
    return 0;
  double width = range / static_cast<double>(histogram.size());
  double target = percentile / 100.0 * static_cast<double>(total);
  int64_t cumulative = 0;
  for (size_t i = 0; i < histogram.size(); ++i) {
    cumulative += histogram[i];
    if (static_cast<double>(cumulative) >= target)
      return static_cast<double>(i + 1) * width;
  }
  return range;
}

double qstats::mseClip(const std::vector<int64_t> &histogram, double range,
                       int bits) {
  size_t bins = histogram.size();
  if (bins == 0 || range <= 0)
    return 0;
  double width = range / static_cast<double>(bins);
  double qmax = std::ldexp(1.0, bits - 1) - 1;
  double best = std::numeric_limits<double>::infinity(), bestClip = range;
  for (size_t i = 0; i < bins; ++i) {
    double clip = static_cast<double>(i + 1) * width;
    double step = clip / qmax;
    double rounding = step * step / 12.0;
    double error = 0;
    for (size_t b = 0; b < bins; ++b) {
      if (histogram[b] == 0)
        continue;
      double centre = (static_cast<double>(b) + 0.5) * width;
      double term =
          centre <= clip ? rounding : (centre - clip) * (centre - clip);
      error += static_cast<double>(histogram[b]) * term;
    }
    if (error < best) {
      best = error;
      bestClip = clip;
    }
  }
  return bestClip;
}

double qstats::entropyClip(const std::vector<int64_t> &histogram, double range,
                           int64_t levels) {
  int64_t bins = static_cast<int64_t>(histogram.size());
  if (bins < levels || range <= 0 || levels <= 0)
    return range;
  double width = range / static_cast<double>(bins);
  std::vector<int64_t> beyond(bins + 1, 0); // beyond[i] = sum of h[i..]
  for (int64_t i = bins - 1; i >= 0; --i)
    beyond[i] = beyond[i + 1] + histogram[i];
  double best = std::numeric_limits<double>::infinity();
  int64_t bestI = bins;
  std::vector<double> p, q;
  for (int64_t i = levels; i <= bins; ++i) {
    p.assign(histogram.begin(), histogram.begin() + i);
    p[i - 1] += static_cast<double>(beyond[i]);
    q.assign(i, 0.0);
    for (int64_t j = 0; j < levels; ++j) {
      int64_t start = j * i / levels, end = (j + 1) * i / levels;
      int64_t nonzero = 0, total = 0;
      for (int64_t k = start; k < end; ++k) {
        nonzero += histogram[k] != 0;
        total += histogram[k];
      }
      if (nonzero == 0)
        continue;
      double share = static_cast<double>(total) / static_cast<double>(nonzero);
      for (int64_t k = start; k < end; ++k)
        if (histogram[k] != 0)
          q[k] = share;
    }
    double sumP = 0, sumQ = 0;
    for (int64_t k = 0; k < i; ++k) {
      sumP += p[k];
      sumQ += q[k];
    }
    if (sumP <= 0 || sumQ <= 0)
      continue;
    double kl = 0;
    bool finite = true;
    for (int64_t k = 0; k < i; ++k) {
      if (p[k] <= 0)
        continue;
      double pk = p[k] / sumP, qk = q[k] / sumQ;
      if (qk <= 0) {
        finite = false;
        break;
      }
      kl += pk * std::log(pk / qk);
    }
    if (finite && kl < best) {
      best = kl;
      bestI = i;
    }
  }
  return static_cast<double>(bestI) * width;
}

double qstats::clipFor(const PointStats &point) {
  switch (point.kind) {
  case kPercentile:
    return percentileClip(point.histogram, point.histogramRange,
                          point.percentile);
  case kMse:
    return mseClip(point.histogram, point.histogramRange);
  case kHistogram:
    return entropyClip(point.histogram, point.histogramRange);
  default:
    return -1;
  }
}
