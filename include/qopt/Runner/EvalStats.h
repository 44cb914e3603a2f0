//===- EvalStats.h - paired statistics for qrun eval ------------*- C++ -*-===//
//
// Pure functions: the paired bootstrap behind the confidence intervals of
// `qrun eval` and the quantile and random number generator it is built on.
// Nothing here runs a model, so every result can be checked by hand or by an
// independent script (test/Runner/eval-stats.test).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNNER_EVALSTATS_H
#define QOPT_RUNNER_EVALSTATS_H

#include <cmath>
#include <cstdint>
#include <vector>

namespace qrun {
namespace eval {

/// One resampling unit of a paired comparison: a case of a suite, or a block
/// of consecutive tokens of a text. `baseline` and `candidate` are sums over
/// the unit's tokens (1 or 0 for a whole case) and `weight` is what they are
/// averaged over (1 for a case, the number of tokens for token metrics), so
/// that a score is sum(values) / sum(weights) over the units.
struct PairedUnit {
  double baseline = 0;
  double candidate = 0;
  double weight = 1;
};

/// How the two scores B (baseline) and C (candidate) make a delta.
enum class DeltaKind {
  /// (C - B) / B: 0 when both are 0, +inf when only B is.
  Relative,
  /// C - B.
  Absolute,
  /// exp(C - B) - 1: the relative change of exp(score), e.g. of perplexity
  /// when the scores are mean negative log-likelihoods.
  ExpDifference,
};

/// The delta of `candidate` against `baseline`.
double computeDelta(double baseline, double candidate, DeltaKind kind);

/// A two-sided confidence interval [low, high]; NaN when there is none.
struct Interval {
  double low = NAN;
  double high = NAN;
};

/// The seed of every bootstrap of qrun eval: fixed, so that the same scores
/// always give the same intervals and gate decisions.
constexpr uint64_t kBootstrapSeed = 0x5eed;

struct BootstrapOptions {
  /// Resamples; 2000 puts the 2.5% and 97.5% quantiles 50 resamples from
  /// the ends.
  int resamples = 2000;
  /// Two-sided coverage of the interval, in (0, 1).
  double confidence = 0.95;
  uint64_t seed = kBootstrapSeed;
};

/// Scores of both sides, their delta and its interval.
struct Comparison {
  double baseline = NAN;
  double candidate = NAN;
  double delta = NAN;
  Interval interval;
};

/// The next number of the SplitMix64 generator (Steele, Lea and Flood 2014),
/// advancing `state`. Chosen because it is fully specified in a few lines, so
/// that an independent implementation can reproduce a bootstrap exactly.
uint64_t splitMix64(uint64_t &state);

/// The `q` quantile (0 <= q <= 1) of ascending `sorted`, interpolating
/// linearly between order statistics: position h = (n - 1) q, the value
/// x[floor(h)] + (h - floor(h)) (x[floor(h) + 1] - x[floor(h)]) (Hyndman and
/// Fan's type 7, NumPy's default). NaN when `sorted` is empty.
double quantile(const std::vector<double> &sorted, double q);

/// Compares paired scores: B = sum(baseline) / sum(weight) and C likewise
/// over all units, their delta, and a percentile paired-bootstrap interval of
/// the delta. Each resample draws units.size() units with replacement (unit
/// splitMix64(state) % units.size(), state starting at `options.seed`),
/// keeping each unit's baseline and candidate together, so that what the
/// two sides share cancels out; the interval is the (1 - confidence) / 2 and
/// (1 + confidence) / 2 quantiles of the resampled deltas. Resamples whose
/// delta is NaN are left out. Units must have positive weights. With no
/// units, everything is NaN.
Comparison comparePaired(const std::vector<PairedUnit> &units, DeltaKind kind,
                         const BootstrapOptions &options = {});

} // namespace eval
} // namespace qrun

#endif // QOPT_RUNNER_EVALSTATS_H
