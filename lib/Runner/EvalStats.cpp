//===- EvalStats.cpp - paired statistics for qrun eval --------------------===//

#include "qopt/Runner/EvalStats.h"

#include <algorithm>

using namespace qrun;
using namespace qrun::eval;

double eval::computeDelta(double baseline, double candidate, DeltaKind kind) {
  switch (kind) {
  case DeltaKind::Relative:
    if (baseline == 0)
      return candidate == 0 ? 0 : INFINITY;
    return (candidate - baseline) / baseline;
  case DeltaKind::Absolute:
    return candidate - baseline;
  case DeltaKind::ExpDifference:
    // expm1 keeps the digits of small changes, the usual case.
    return std::expm1(candidate - baseline);
  }
  return NAN;
}

uint64_t eval::splitMix64(uint64_t &state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double eval::quantile(const std::vector<double> &sorted, double q) {
  if (sorted.empty())
    return NAN;
  double h = static_cast<double>(sorted.size() - 1) * q;
  size_t below = static_cast<size_t>(std::floor(h));
  if (below + 1 >= sorted.size())
    return sorted.back();
  double fraction = h - static_cast<double>(below);
  // Equal neighbours (also two infinities) need no interpolation, which
  // would give inf - inf = NaN.
  if (fraction == 0 || sorted[below] == sorted[below + 1])
    return sorted[below];
  return sorted[below] + fraction * (sorted[below + 1] - sorted[below]);
}

Comparison eval::comparePaired(const std::vector<PairedUnit> &units,
                               DeltaKind kind,
                               const BootstrapOptions &options) {
  Comparison result;
  if (units.empty())
    return result;
  double sums[3] = {0, 0, 0};
  for (const PairedUnit &unit : units) {
    sums[0] += unit.baseline;
    sums[1] += unit.candidate;
    sums[2] += unit.weight;
  }
  result.baseline = sums[0] / sums[2];
  result.candidate = sums[1] / sums[2];
  result.delta = computeDelta(result.baseline, result.candidate, kind);

  uint64_t state = options.seed;
  uint64_t n = units.size();
  std::vector<double> deltas;
  deltas.reserve(static_cast<size_t>(std::max(options.resamples, 0)));
  for (int r = 0; r < options.resamples; ++r) {
    double b = 0, c = 0, w = 0;
    for (uint64_t i = 0; i < n; ++i) {
      // The modulo bias is below n / 2^64: irrelevant here, and it keeps the
      // draw reproducible in a line of any language.
      const PairedUnit &unit = units[splitMix64(state) % n];
      b += unit.baseline;
      c += unit.candidate;
      w += unit.weight;
    }
    double delta = computeDelta(b / w, c / w, kind);
    if (!std::isnan(delta))
      deltas.push_back(delta);
  }
  std::sort(deltas.begin(), deltas.end());
  double tail = (1 - options.confidence) / 2;
  result.interval.low = quantile(deltas, tail);
  result.interval.high = quantile(deltas, 1 - tail);
  return result;
}
