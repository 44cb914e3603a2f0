//===- Calibrate.h - running a calibration build over data ------*- C++ -*-===//
//
// The library behind `qrun calibrate`: runs an artifact compiled with
// observation points (qopt-insert-observers + qopt-compile) over a
// calibration set and collects what the points recorded as a statistics
// file (qopt/Calibration/StatsFile.h). Like the rest of the runner, no LLVM
// or MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNNER_CALIBRATE_H
#define QOPT_RUNNER_CALIBRATE_H

#include "qopt/Calibration/StatsFile.h"
#include "qopt/Runtime/qrt.h"

#include <cstdint>
#include <functional>
#include <string>

namespace qrun {
namespace calibrate {

/// What to run and how.
struct Options {
  /// The calibration build.
  std::string artifact;
  /// The calibration set: an eval suite (`.jsonl`, docs/eval.md: byte-level
  /// "prompt"/"answer" strings or "prompt_ids"/"answer_ids"), whose cases'
  /// prompt + answer tokens feed a language model ([batch, seq] int64 ids);
  /// or a `.npy` tensor whose first dimension counts samples, sliced into
  /// batches for an artifact with one input of the tensor's dtype.
  std::string data;
  /// Samples (sequences or rows) per run. Sequences are batched only with
  /// others of the same length, so no padding is observed (except up to a
  /// static sequence length of the artifact, which padding must fill).
  int64_t batch = 8;
  /// Use only the first `limit` samples when > 0.
  int64_t limit = 0;
  /// Called with (samples done, samples in all) after each run.
  std::function<void(size_t, size_t)> progress;
};

/// What a calibration run did.
struct Result {
  qstats::StatsFile stats;
  /// Samples and runs done; tokens: elements of the inputs fed (token ids
  /// for language models).
  int64_t samples = 0, runs = 0, tokens = 0;
  /// Time spent in the model's runs, in seconds.
  double seconds = 0;
};

/// Runs `options.artifact` over `options.data`. The artifact need not have
/// observation points (then `stats` is empty: a plain run, for timing).
/// Errors (returned; "" on success) name the file, the line or the point:
/// an empty calibration set, data the artifact does not take, a point that
/// saw no samples or saw NaN or infinite values.
std::string run(const Options &options, Result &out);

/// The statistics `session` gathered, one entry per observation point; an
/// error names a point that saw no samples or non-finite values.
std::string collect(qrt_session *session, qstats::StatsFile &out);

} // namespace calibrate
} // namespace qrun

#endif // QOPT_RUNNER_CALIBRATE_H
