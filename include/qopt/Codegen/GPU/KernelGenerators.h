//===- KernelGenerators.h - GPU kernels generated in C++ --------*- C++ -*-===//
//
// Parameterized kernel generators: each builds one `gpu.func` at the
// gpu/nvvm level (scf loops, arith, llvm loads and nvvm intrinsics such as
// mma.sync) into a gpu.module. The kernels' contract with the runtime
// (parameters, launch shape, weight layout) is
// include/qopt/Runtime/GPUKernelABI.h.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CODEGEN_GPU_KERNELGENERATORS_H
#define QOPT_CODEGEN_GPU_KERNELGENERATORS_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir {
namespace qopt {

/// Compile-time shape of the int4 weight-only GEMM kernel (the
/// qopt-gpu-generate-w4-gemm options).
struct W4GemmKernelConfig {
  int64_t maxM = 16;
  int64_t tilesPerWarp = 4;
  int64_t warpsPerBlock = 4;
  int64_t groupsPerIter = 2;
  /// Issue the next iteration's loads before this one's MMAs (registers
  /// carried across the K loop).
  bool prefetch = false;

  /// The kernel's symbol:
  /// qopt_w4g128_gemm_m<maxM>_t<tiles>_w<warps>_u<groups>[_p].
  std::string kernelName() const;
  /// An error message when a field is out of range, else empty.
  std::string verify() const;
};

/// The gpu.module @qopt_gpu_kernels of `module`, created (and `module`
/// marked as a gpu.container_module) if missing.
gpu::GPUModuleOp getOrCreateKernelModule(ModuleOp module);

/// Builds the int4 weight-only GEMM kernel of `config` into `kernels`, or
/// returns the existing one of that name. Fails (with a diagnostic at
/// `loc`) on a bad config.
FailureOr<gpu::GPUFuncOp> buildW4GemmKernel(gpu::GPUModuleOp kernels,
                                            Location loc,
                                            const W4GemmKernelConfig &config);

} // namespace qopt
} // namespace mlir

#endif // QOPT_CODEGEN_GPU_KERNELGENERATORS_H
