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

/// The default bound on the bytes a calibration run's intermediate buffers
/// take (Options::maxMemory): 4 GiB.
constexpr int64_t kDefaultMaxMemory = int64_t(4) << 30;

/// Parses a byte count: digits with an optional suffix K, M, G or T (powers
/// of 1024; "B" after it allowed, case ignored). False on anything else or
/// overflow.
bool parseByteSize(const std::string &text, int64_t &bytes);

/// What to run and how.
struct Options {
  /// The calibration build.
  std::string artifact;
  /// The calibration set, one of:
  ///  - one eval suite (`.jsonl`, docs/eval.md: byte-level "prompt"/"answer"
  ///    strings or "prompt_ids"/"answer_ids"), whose cases' prompt + answer
  ///    tokens feed a language model ([batch, seq] int64 ids);
  ///  - `.npy` tensors: entries `PATH` (for an artifact with one input) or
  ///    `NAME=PATH` (one or more per input of the artifact), PATH a `.npy`
  ///    file or a directory, whose `.npy` files count in name order. A
  ///    file of the input's rank holds a batch of samples along its first
  ///    dimension, one of rank one less holds one sample. Several entries of
  ///    one input are concatenated; every input must get the same number of
  ///    samples. Files are read a batch at a time (docs/calibration.md).
  std::vector<std::string> data;
  /// Samples (sequences or rows) per run, at most. Sequences are batched
  /// only with others of the same length (and .npy samples with others of
  /// the same shape), so no padding is observed (except up to a static
  /// sequence length of the artifact, which padding must fill).
  int64_t batch = 8;
  /// Bytes the model's intermediate buffers may take at once (0: no
  /// bound). When > 0, the first run takes one sample and measures its peak
  /// (qrt_memory_usage); later runs take as many samples as fit, at most
  /// `batch`, estimating a longer sample's need from the longest measured
  /// one as growing with the square of its size (attention), and measuring
  /// again. A sample that alone needs more still runs, one at a time.
  int64_t maxMemory = kDefaultMaxMemory;
  /// Use only the first `limit` samples when > 0.
  int64_t limit = 0;
  /// Where the artifact runs: "cpu" or "cuda" (qrun's --device); an
  /// artifact compiled for the other one is refused.
  std::string device = "cpu";
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
  /// The most bytes the model's intermediate buffers took at once in one
  /// run, and the most samples in one run.
  int64_t peakBytes = 0, maxRows = 0;
  /// Whether some sample alone needed more than `maxMemory`.
  bool overBudget = false;
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
