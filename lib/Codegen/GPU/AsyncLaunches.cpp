//===- AsyncLaunches.cpp - qopt-gpu-async-launches ------------------------===//

#include "qopt/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_ASYNCLAUNCHES
#include "qopt/Codegen/GPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// Whether host code may run `op` while kernels are still running: it
/// touches no memory (index arithmetic, dims, views) or only allocates or
/// frees (libqrt's CUDA allocator keeps freed blocks for later allocations,
/// whose kernels run after the pending ones on the same stream, and host
/// code that writes them waits first).
bool runsBesideKernels(Operation *op) {
  if (isMemoryEffectFree(op))
    return true;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects || op->getNumRegions() != 0)
    return false;
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffects(instances);
  return llvm::all_of(instances, [](const MemoryEffects::EffectInstance &e) {
    return isa<MemoryEffects::Allocate, MemoryEffects::Free>(e.getEffect());
  });
}

struct AsyncLaunchesPass : qopt::impl::AsyncLaunchesBase<AsyncLaunchesPass> {
  void runOnOperation() override {
    for (Block &block : getOperation().getBody())
      processBlock(block);
  }

  /// Chains the block's launches on one stream; waits before the first op
  /// that needs their results on the host, and before the terminator.
  void processBlock(Block &block) {
    OpBuilder b(&getContext());
    Type tokenType = b.getType<gpu::AsyncTokenType>();
    Value token;
    auto wait = [&](Operation *before) {
      if (!token)
        return;
      b.setInsertionPoint(before);
      gpu::WaitOp::create(b, before->getLoc(), Type(), ValueRange{token});
      token = nullptr;
    };
    for (Operation &op : llvm::make_early_inc_range(block)) {
      if (auto launch = dyn_cast<gpu::LaunchFuncOp>(&op)) {
        if (launch.getAsyncToken() || !launch.getAsyncDependencies().empty() ||
            launch.getAsyncObject()) {
          wait(launch); // already asynchronous: leave it as it is
          continue;
        }
        b.setInsertionPoint(launch);
        if (!token)
          token =
              gpu::WaitOp::create(b, launch.getLoc(), tokenType, ValueRange())
                  .getAsyncToken();
        std::optional<gpu::KernelDim3> cluster;
        if (launch.hasClusterSize())
          cluster = launch.getClusterSizeOperandValues();
        auto async = gpu::LaunchFuncOp::create(
            b, launch.getLoc(), launch.getKernel(),
            launch.getGridSizeOperandValues(),
            launch.getBlockSizeOperandValues(),
            launch.getDynamicSharedMemorySize(), launch.getKernelOperands(),
            tokenType, ValueRange{token}, cluster);
        async->setDiscardableAttrs(launch->getDiscardableAttrDictionary());
        token = async.getAsyncToken();
        launch.erase();
        continue;
      }
      if (op.hasTrait<OpTrait::IsTerminator>() || !runsBesideKernels(&op))
        wait(&op);
      for (Region &region : op.getRegions())
        for (Block &nested : region)
          processBlock(nested);
    }
    if (token) { // a block without terminator
      b.setInsertionPointToEnd(&block);
      gpu::WaitOp::create(b, block.back().getLoc(), Type(), ValueRange{token});
    }
  }
};

} // namespace
