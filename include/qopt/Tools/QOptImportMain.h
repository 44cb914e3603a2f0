//===- QOptImportMain.h - the qopt-import tool's main -----------*- C++ -*-===//

#ifndef QOPT_TOOLS_QOPTIMPORTMAIN_H
#define QOPT_TOOLS_QOPTIMPORTMAIN_H

namespace mlir {
namespace qopt {

/// The whole of `qopt-import`: ONNX model in, MLIR (bytecode or text) out,
/// written to a temporary file and renamed into place only on success.
/// Returns the process exit code (0 success, 1 model error, 2 usage error).
int qoptImportMain(int argc, char **argv);

} // namespace qopt
} // namespace mlir

#endif // QOPT_TOOLS_QOPTIMPORTMAIN_H
