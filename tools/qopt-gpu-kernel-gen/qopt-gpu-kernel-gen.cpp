//===- qopt-gpu-kernel-gen.cpp - qopt's GPU kernels as PTX or cubin -------===//
//
//   qopt-gpu-kernel-gen --w4-gemm=16,4,4,2 --emit=cubin -o kernels.cubin
//
//===----------------------------------------------------------------------===//

#include "qopt/Tools/QOptGPUKernelGenMain.h"

int main(int argc, char **argv) {
  return mlir::qopt::qoptGPUKernelGenMain(argc, argv);
}
