//===- GenerateGemm.cpp - qopt-gpu-generate-gemm --------------------------===//

#include "qopt/Codegen/GPU/KernelGenerators.h"
#include "qopt/Codegen/GPU/Passes.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_GENERATEGEMM
#include "qopt/Codegen/GPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

struct GenerateGemmPass : qopt::impl::GenerateGemmBase<GenerateGemmPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    qopt::GemmKernelConfig config;
    if (!qopt::parseGemmElementType(elementType, config.type)) {
      module.emitError() << "GEMM kernel: unknown element type '" << elementType
                         << "' (expected f16, bf16, s8 or e4m3)";
      return signalPassFailure();
    }
    if (!qopt::parseGemmOutputType(outputType, config.out)) {
      module.emitError() << "GEMM kernel: unknown output type '" << outputType
                         << "' (expected f16 or f32)";
      return signalPassFailure();
    }
    config.blockN = blockN;
    config.stages = stages;
    config.consumers = consumers;
    // Check before creating the kernel module: a bad option leaves the IR
    // as it was.
    if (std::string err = config.verify(); !err.empty()) {
      module.emitError() << "GEMM kernel: " << err;
      return signalPassFailure();
    }
    gpu::GPUModuleOp kernels = qopt::getOrCreateKernelModule(module);
    if (failed(qopt::buildGemmKernel(kernels, module.getLoc(), config)))
      return signalPassFailure();
  }
};

} // namespace
