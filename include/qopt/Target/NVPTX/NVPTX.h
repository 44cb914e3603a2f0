//===- NVPTX.h - qopt's NVIDIA target: NVVM lowering, PTX, cubin -*- C++
//-*-===//
//
// From gpu.module kernels at the gpu/nvvm level (lib/Codegen/GPU) to PTX
// through MLIR's NVVM target (`gpu-module-to-binary{format=isa}`, LLVM's
// NVPTX backend, no CUDA needed), and to a cubin through the CUDA
// toolkit's `ptxas` where it is installed.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TARGET_NVPTX_NVPTX_H
#define QOPT_TARGET_NVPTX_NVPTX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir {
class DialectRegistry;
namespace qopt {

/// Registers what the NVPTX path needs beyond the dialects: the NVVM target
/// attribute's serialization and the LLVM IR translations.
void registerNVPTXTargetInterfaces(DialectRegistry &registry);

/// Adds the lowering of every gpu.module from the gpu/scf/arith/nvvm level
/// to the LLVM + NVVM dialects (the `qopt-gpu-lower-to-nvvm` pipeline).
void buildGPUToNVVMPipeline(OpPassManager &pm);

/// Registers the `qopt-gpu-lower-to-nvvm` pass pipeline.
void registerGPUToNVVMPipeline();

/// One kernel module's PTX.
struct PTXModule {
  std::string moduleName; ///< the gpu.module's symbol
  std::string ptx;
};

/// An error message when `chip` (sm_NN[a|f]) or `features` (+ptxNN, or
/// empty for LLVM's default) cannot take the generated kernels, else empty.
std::string verifyNVPTXTarget(StringRef chip, StringRef features);

/// Lowers `module` (in place) to NVVM, attaches an NVVM target for `chip`
/// (e.g. sm_90a) with PTX `features` (e.g. +ptx80) and serializes every
/// gpu.module to PTX. Diagnostics go to the context's handler.
FailureOr<std::vector<PTXModule>> emitPTX(ModuleOp module, StringRef chip,
                                          StringRef features);

/// The `ptxas` of the CUDA toolkit: $CUDA_HOME/bin, /usr/local/cuda/bin or
/// PATH; nullopt when none is installed.
std::optional<std::string> findPtxas();

/// Assembles `ptx` for `chip` with `ptxas` (at -O3); `extraArgs` go to
/// ptxas as they are (e.g. -v). Returns the cubin, or an error message in
/// `error` (ptxas's output included). `log` receives ptxas's output.
std::optional<std::string> assembleCubin(StringRef ptx, StringRef chip,
                                         StringRef ptxas,
                                         ArrayRef<std::string> extraArgs,
                                         std::string &log, std::string &error);

} // namespace qopt
} // namespace mlir

#endif // QOPT_TARGET_NVPTX_NVPTX_H
