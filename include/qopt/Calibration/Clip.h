//===- Clip.h - clip ranges from calibration histograms ---------*- C++ -*-===//
//
// The clip ranges that the percentile, MSE and histogram (KL entropy)
// observers stand for, computed from the histogram of |x| that a
// calibration build records (qrt_observation; docs/calibration.md). Plain
// C++17 without LLVM: qrun prints them, qopt-apply-calibration writes them
// into #qopt.stats.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CALIBRATION_CLIP_H
#define QOPT_CALIBRATION_CLIP_H

#include "qopt/Calibration/StatsFile.h"

#include <cstdint>
#include <vector>

namespace qstats {

/// The upper edge of the first bin at which the cumulative count reaches
/// `percentile`% of all values: an upper bound of the percentile of |x|
/// that is at most one bin width (range / bins) above it. 0 without values.
double percentileClip(const std::vector<int64_t> &histogram, double range,
                      double percentile);

/// The bin edge c = (i + 1) * width (i = 0 .. bins - 1) that minimises the
/// expected squared error of symmetric `bits`-bit quantization with step
/// c / (2^(bits - 1) - 1): every bin contributes its count times, at its
/// centre v, step^2 / 12 (rounding) when v <= c and (v - c)^2 (clipping)
/// otherwise. The first minimum wins. 0 without values.
double mseClip(const std::vector<int64_t> &histogram, double range,
               int bits = 8);

/// KL-divergence (entropy) calibration as TensorRT does it, for `levels`
/// quantization levels (128: int8 magnitudes): for every i from `levels`
/// to bins, P is the first i bins with the counts beyond folded into bin
/// i - 1, Q is the first i bins merged into `levels` chunks (chunk j:
/// bins [j*i/levels, (j+1)*i/levels), integer division) and spread evenly
/// over the chunk's non-empty bins; the threshold is i * width for the i
/// of least KL(P || Q). Candidates where Q is 0 at a non-zero P (infinite
/// divergence) are skipped; with fewer than `levels` bins, or when every
/// candidate is skipped, the whole range is returned.
double entropyClip(const std::vector<int64_t> &histogram, double range,
                   int64_t levels = 128);

/// The clip of a point of a histogram kind (percentile, mse, histogram),
/// or -1 for other kinds.
double clipFor(const PointStats &point);

} // namespace qstats

#endif // QOPT_CALIBRATION_CLIP_H
