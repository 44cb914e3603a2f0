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

/// Operand element type of the prefill GEMM kernels (A and B alike).
enum class GemmElementType { F16, BF16, S8, E4M3 };
/// Element type of the prefill GEMM kernels' output C.
enum class GemmOutputType { F16, F32 };

/// Compile-time shape of the Hopper (sm_90a) prefill GEMM kernel
/// `C[M,N] = A[M,K] x B[N,K]^T`, both operands K-major and loaded by TMA
/// into a multistage shared-memory ring that wgmma reads (the
/// qopt-gpu-generate-gemm options; contract in GPUKernelABI.h).
struct GemmKernelConfig {
  GemmElementType type = GemmElementType::F16;
  GemmOutputType out = GemmOutputType::F16;
  /// Columns of C per CTA (the n of wgmma's m64nNk*): 64..256, % 16 == 0.
  int64_t blockN = 128;
  /// Shared-memory stages of the TMA ring: 2..8.
  int64_t stages = 4;
  /// Consumer warpgroups (1 or 2); each owns 128 / consumers rows of the
  /// CTA's 128-row tile. One more warpgroup produces (issues the TMA).
  int64_t consumers = 2;

  /// The kernel's symbol: qopt_gemm_<type>_<out>_n<N>_s<S>_c<C>.
  std::string kernelName() const;
  /// An error message when a field is out of range, else empty.
  std::string verify() const;
  /// Bytes of one operand element (2 for f16/bf16, 1 for s8/e4m3).
  int64_t elementBytes() const;
  /// Dynamic shared memory the kernel needs (QRT_GPU_GEMM_SMEM_BYTES).
  int64_t sharedBytes() const;
  /// Threads per CTA: 128 * (1 + consumers).
  int64_t threads() const { return 128 * (1 + consumers); }
};

/// Parses "f16", "bf16", "s8", "e4m3"; false if unknown.
bool parseGemmElementType(StringRef text, GemmElementType &out);
/// Parses "f16", "f32"; false if unknown.
bool parseGemmOutputType(StringRef text, GemmOutputType &out);
/// The name parseGemmElementType accepts for `type`.
StringRef stringifyGemmElementType(GemmElementType type);

/// Builds the Hopper prefill GEMM kernel of `config` into `kernels` (with
/// the module's dynamic shared-memory symbol), or returns the existing one
/// of that name. Fails (with a diagnostic at `loc`) on a bad config.
FailureOr<gpu::GPUFuncOp> buildGemmKernel(gpu::GPUModuleOp kernels,
                                          Location loc,
                                          const GemmKernelConfig &config);

} // namespace qopt
} // namespace mlir

#endif // QOPT_CODEGEN_GPU_KERNELGENERATORS_H
