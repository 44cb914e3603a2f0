//===- Observe.h - Statistics of calibration builds -------------*- C++ -*-===//
//
// Part of the qopt project.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_RUNTIME_OBSERVE_H
#define QOPT_LIB_RUNTIME_OBSERVE_H

#include "qopt/Runtime/qrt.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace qrt {

/// What one observation point has gathered. Guarded by `mutex`: compiled
/// code may call qrt_observe from several threads at once.
struct PointStats {
  std::mutex mutex;
  int64_t samples = 0, elements = 0, nonfinite = 0;
  int64_t channels = -1; // fixed by the descriptor or the first call
  bool anyFinite = false;
  std::vector<float> min, max, absmax;
  int64_t hessianK = 0;
  std::vector<double> hessian;
  /// Histogram kinds (percentile, mse, histogram): counts of |x| in
  /// `bins` equal bins over [0, histogramRange), empty otherwise. The range
  /// only grows, by doubling (Observe.cpp).
  std::vector<int64_t> histogram;
  double histogramRange = 0;
};

/// The statistics of every point of one session.
struct Observations {
  const qart_artifact_v1 *desc = nullptr;
  std::unique_ptr<PointStats[]> points;
  /// The first call that did not fit its point, "" if none.
  std::mutex errorMutex;
  std::string error;

  explicit Observations(const qart_artifact_v1 *desc);
  void reset();
};

/// Makes `observations` the target of qrt_observe on this thread while the
/// scope lives (null: calls are ignored).
class ObservationScope {
public:
  explicit ObservationScope(Observations *observations);
  ~ObservationScope();
  ObservationScope(const ObservationScope &) = delete;
  ObservationScope &operator=(const ObservationScope &) = delete;

private:
  Observations *previous;
};

} // namespace qrt

#endif // QOPT_LIB_RUNTIME_OBSERVE_H
