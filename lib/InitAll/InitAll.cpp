//===- InitAll.cpp - register everything qopt tools need ------------------===//

#include "qopt/InitAll.h"

#include "qopt/Codegen/CPU/Passes.h"
#include "qopt/Codegen/Common/Passes.h"
#include "qopt/Codegen/GPU/Passes.h"
#include "qopt/Dialect/QOpt/IR/QOpt.h"
#include "qopt/Dialect/QOpt/Transforms/Passes.h"
#include "qopt/Pipelines/Pipelines.h"
#include "qopt/Target/NVPTX/NVPTX.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"

void mlir::qopt::registerAllDialects(DialectRegistry &registry) {
  registry.insert<QOptDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registerNVPTXTargetInterfaces(registry);
}

void mlir::qopt::registerAllPasses() {
  mlir::registerAllPasses();
  registerQOptPasses();
  registerQOptCodegenCommonPasses();
  registerQOptCodegenCPUPasses();
  registerQOptCodegenGPUPasses();
  registerGPUToNVVMPipeline();
  registerQOptPipelines();
}
