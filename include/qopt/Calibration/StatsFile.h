//===- StatsFile.h - the calibration statistics file ------------*- C++ -*-===//
//
// The file `qrun calibrate` writes and `qopt-apply-calibration` reads: the
// statistics gathered at every observation point of a calibration build.
// Plain C++17 without LLVM, so that both the runner and the compiler link it.
//
// Layout (all integers and floats little-endian; docs/calibration.md):
//
//   header, 32 bytes:
//     char[8]  magic "QOPTSTAT"
//     u32      version (kStatsFileVersion)
//     u32      reserved, 0
//     u64      payload size in bytes
//     u64      FNV-1a 64 of the payload
//   payload:
//     u32      number of points
//     per point:
//       u32 name length, then the name's bytes (no terminator)
//       i32 kind (qart_observer_kind), i32 axis (-1: per tensor)
//       i64 bins, f64 percentile
//       i64 samples, i64 elements, i64 non-finite values
//       i64 channels C (0 when no finite value was seen),
//         f32 min[C], f32 max[C], f32 absmax[C]
//       i64 Hessian size K (0 unless kind is hessian), f64 hessian[K*K]
//       i64 histogram bins H (0 unless a histogram kind), f64 its range,
//         i64 counts[H]                                     (version 2)
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CALIBRATION_STATSFILE_H
#define QOPT_CALIBRATION_STATSFILE_H

#include <cstdint>
#include <string>
#include <vector>

namespace qstats {

/// "QOPTSTAT".
constexpr char kStatsFileMagic[8] = {'Q', 'O', 'P', 'T', 'S', 'T', 'A', 'T'};
/// Bumped whenever the layout changes; readers refuse other versions.
constexpr uint32_t kStatsFileVersion = 2;

/// The statistics of one observation point.
struct PointStats {
  std::string name;
  int32_t kind = 0;  // a qart_observer_kind
  int32_t axis = -1; // -1: per tensor
  int64_t bins = 0;
  double percentile = 0;
  int64_t samples = 0, elements = 0, nonfinite = 0;
  /// `channels` entries each, or empty when no finite value was seen.
  std::vector<float> min, max, absmax;
  /// K x K row-major, or empty (hessianK == 0).
  int64_t hessianK = 0;
  std::vector<double> hessian;
  /// Histogram kinds: counts of |x| in equal bins over [0, histogramRange)
  /// (qrt_observation); empty otherwise.
  std::vector<int64_t> histogram;
  double histogramRange = 0;
};

/// The whole file.
struct StatsFile {
  std::vector<PointStats> points;
};

/// The file's bytes.
std::string encodeStatsFile(const StatsFile &stats);

/// Parses the bytes of the file at `path` (used in messages); checks the
/// magic, version, checksum and every length. Returns an error message, or
/// "" on success.
std::string decodeStatsFile(const std::string &bytes, const std::string &path,
                            StatsFile &out);

/// FNV-1a, 64 bits.
uint64_t fnv1a64(const void *data, size_t size);

} // namespace qstats

#endif // QOPT_CALIBRATION_STATSFILE_H
