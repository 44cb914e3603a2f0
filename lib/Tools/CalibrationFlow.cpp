//===- CalibrationFlow.cpp - calibrate and quantize in one command --------===//
//
// The steps are those of scripts/calibrate.sh, in process: the module is
// imported once, the calibration build is compiled with the same options as
// the final artifact, and calibration runs through the runner's library
// (qrun calibrate's code), so both ways give the same statistics.
//
//===----------------------------------------------------------------------===//

#include "qopt/Tools/CalibrationFlow.h"

#include "qopt/Calibration/StatsFile.h"
#include "qopt/Runner/Calibrate.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::qopt;

namespace {

std::string inWorkDir(const CalibrationFlow &flow, llvm::StringRef name) {
  llvm::SmallString<256> path(flow.workDir);
  llvm::sys::path::append(path, name);
  return std::string(path);
}

bool fail(const llvm::Twine &step, const llvm::Twine &message) {
  llvm::errs() << "qopt-compile: error: calibration flow, " << step << ": "
               << message << "\n";
  return false;
}

/// Writes `module` as bytecode (locations included, so the layer names
/// survive) through a temporary file.
bool writeModule(ModuleOp module, const std::string &path) {
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return fail(path, ec.message());
  if (failed(writeBytecodeToFile(module, out.os())))
    return fail(path, "cannot write bytecode");
  out.keep();
  return true;
}

} // namespace

bool qopt::runCalibrationFlow(ModuleOp module, const CalibrationFlow &flow) {
  if (std::error_code ec = llvm::sys::fs::create_directories(flow.workDir))
    return fail("--work-dir '" + flow.workDir + "'", ec.message());

  if (!writeModule(module, inWorkDir(flow, "model.mlirbc")))
    return false;

  if (!flow.runPipeline(module,
                        "qopt-insert-observers{" + flow.observers + "}"))
    return fail("qopt-insert-observers", "failed");
  if (!writeModule(module, inWorkDir(flow, "observed.mlirbc")))
    return false;

  std::string observedArtifact = inWorkDir(flow, "observed.so");
  {
    OwningOpRef<ModuleOp> build = module.clone();
    if (!flow.compile(*build, observedArtifact))
      return fail("the calibration build", "failed");
  }

  qrun::calibrate::Options options;
  options.artifact = observedArtifact;
  options.data = {flow.data};
  options.batch = flow.batch;
  options.maxMemory = flow.maxMemory;
  options.limit = flow.limit;
  qrun::calibrate::Result result;
  if (std::string error = qrun::calibrate::run(options, result); !error.empty())
    return fail("calibration", error);
  if (result.stats.points.empty())
    return fail("calibration", "the observers selected no layer (see "
                               "qopt-insert-observers' include/exclude)");
  llvm::errs() << "qopt-compile: calibrated " << result.stats.points.size()
               << " points on " << result.samples << " samples ("
               << result.tokens << " tokens) in " << result.runs << " runs\n";

  std::string statsPath = inWorkDir(flow, "model.qstats");
  {
    std::error_code ec;
    llvm::ToolOutputFile out(statsPath, ec, llvm::sys::fs::OF_None);
    if (ec)
      return fail(statsPath, ec.message());
    out.os() << qstats::encodeStatsFile(result.stats);
    out.os().flush();
    if (out.os().has_error())
      return fail(statsPath, "write error");
    out.keep();
  }

  if (!flow.runPipeline(module,
                        "qopt-apply-calibration{stats=" + statsPath + "}"))
    return fail("qopt-apply-calibration", "failed");
  if (!writeModule(module, inWorkDir(flow, "calibrated.mlirbc")))
    return false;

  if (!flow.prePipeline.empty() && !flow.runPipeline(module, flow.prePipeline))
    return fail("--pre-pipeline", "failed");
  return writeModule(module, inWorkDir(flow, "quantized.mlirbc"));
}
