//===- GenerateW4Gemm.cpp - qopt-gpu-generate-w4-gemm ---------------------===//

#include "qopt/Codegen/GPU/KernelGenerators.h"
#include "qopt/Codegen/GPU/Passes.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_GENERATEW4GEMM
#include "qopt/Codegen/GPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

struct GenerateW4GemmPass : qopt::impl::GenerateW4GemmBase<GenerateW4GemmPass> {
  using Base::Base;

  void runOnOperation() override {
    qopt::W4GemmKernelConfig config;
    config.maxM = maxM;
    config.tilesPerWarp = tilesPerWarp;
    config.warpsPerBlock = warpsPerBlock;
    config.groupsPerIter = groupsPerIter;
    config.prefetch = prefetch;
    ModuleOp module = getOperation();
    // Check before creating the kernel module: a bad option leaves the IR
    // as it was.
    if (std::string err = config.verify(); !err.empty()) {
      module.emitError() << "int4 GEMM kernel: " << err;
      return signalPassFailure();
    }
    gpu::GPUModuleOp kernels = qopt::getOrCreateKernelModule(module);
    if (failed(qopt::buildW4GemmKernel(kernels, module.getLoc(), config)))
      return signalPassFailure();
  }
};

} // namespace
