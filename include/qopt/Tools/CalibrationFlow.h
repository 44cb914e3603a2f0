//===- CalibrationFlow.h - calibrate and quantize in one command -*- C++
//-*-===//
//
// `qopt-compile model.onnx --calibration data.jsonl --pre-pipeline=...`: the
// calibration flow of docs/calibration.md in one process, every step's
// result kept as a file so that a build system can run (and cache) the
// same steps one by one with qopt, qopt-compile and qrun.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TOOLS_CALIBRATIONFLOW_H
#define QOPT_TOOLS_CALIBRATIONFLOW_H

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <functional>
#include <string>

namespace mlir {
namespace qopt {

/// What runCalibrationFlow does and how it compiles.
struct CalibrationFlow {
  /// Where the intermediate files go (created if missing).
  std::string workDir;
  /// Options of qopt-insert-observers, e.g. "observers=min_max,abs_max".
  std::string observers;
  /// The calibration set and how qrun calibrate runs it
  /// (qrun::calibrate::Options).
  std::string data;
  int64_t batch = 8, limit = 0;
  /// Bytes the calibration runs' intermediate buffers may take (qrun
  /// calibrate --max-memory; 0: no bound).
  int64_t maxMemory = int64_t(4) << 30;
  /// The user's quantization pipeline, run on the calibrated module.
  std::string prePipeline;
  /// Runs a pass pipeline on a module; false after reporting.
  std::function<bool(ModuleOp, llvm::StringRef)> runPipeline;
  /// Compiles a module (consumed) into an artifact at a path; false after
  /// reporting.
  std::function<bool(ModuleOp, llvm::StringRef)> compile;
};

/// Runs, on `module` in place, and writes into `flow.workDir`:
///
///   model.mlirbc       the input module
///   observed.mlirbc    after qopt-insert-observers{flow.observers}
///   observed.so        its calibration build (+ .weights, if it has any)
///   model.qstats       qrun calibrate's statistics over flow.data
///   calibrated.mlirbc  after qopt-apply-calibration{stats=model.qstats}
///   quantized.mlirbc   after flow.prePipeline (the module left in `module`)
///
/// Every file is complete when written (statistics through a temporary
/// file and a rename). Returns false after reporting an error naming the
/// step; the files of earlier steps stay.
bool runCalibrationFlow(ModuleOp module, const CalibrationFlow &flow);

} // namespace qopt
} // namespace mlir

#endif // QOPT_TOOLS_CALIBRATIONFLOW_H
