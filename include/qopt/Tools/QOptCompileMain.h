//===- QOptCompileMain.h - the qopt-compile tool's main ---------*- C++ -*-===//

#ifndef QOPT_TOOLS_QOPTCOMPILEMAIN_H
#define QOPT_TOOLS_QOPTCOMPILEMAIN_H

namespace mlir {
namespace qopt {

/// The whole of `qopt-compile`: an ONNX model or MLIR module in, a native
/// artifact (or object file, LLVM IR, LLVM-dialect MLIR) out. Returns the
/// process exit code (0 success, 1 model or compile error, 2 usage error).
int qoptCompileMain(int argc, char **argv);

} // namespace qopt
} // namespace mlir

#endif // QOPT_TOOLS_QOPTCOMPILEMAIN_H
