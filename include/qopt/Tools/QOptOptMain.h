//===- QOptOptMain.h - the qopt driver's main -------------------*- C++ -*-===//

#ifndef QOPT_TOOLS_QOPTOPTMAIN_H
#define QOPT_TOOLS_QOPTOPTMAIN_H

namespace mlir {
namespace qopt {

/// The whole of `qopt`: registers everything, checks that every plugin named
/// on the command line loads (MlirOptMain alone only warns and carries on,
/// which would let a build silently run without the user's pass), then runs
/// MlirOptMain. Returns the process exit code.
int qoptOptMain(int argc, char **argv);

} // namespace qopt
} // namespace mlir

#endif // QOPT_TOOLS_QOPTOPTMAIN_H
