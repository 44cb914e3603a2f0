//===- QOptGPUKernelGenMain.h - the qopt-gpu-kernel-gen tool ----*- C++ -*-===//

#ifndef QOPT_TOOLS_QOPTGPUKERNELGENMAIN_H
#define QOPT_TOOLS_QOPTGPUKERNELGENMAIN_H

namespace mlir {
namespace qopt {

/// The whole of `qopt-gpu-kernel-gen`: generates the requested GPU kernels
/// into one gpu.module and writes it at the gpu level, after the NVVM
/// lowering, as PTX, or as a cubin (through ptxas). Returns the process
/// exit code (0 success, 1 failure, 2 usage error).
int qoptGPUKernelGenMain(int argc, char **argv);

} // namespace qopt
} // namespace mlir

#endif // QOPT_TOOLS_QOPTGPUKERNELGENMAIN_H
