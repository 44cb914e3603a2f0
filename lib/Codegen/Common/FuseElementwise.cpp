//===- FuseElementwise.cpp - elementwise fusion that spares ukernels ------===//

#include "qopt/Codegen/Common/Passes.h"
#include "qopt/Codegen/Common/UKernelOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "qopt/Codegen/Common/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

/// Whether fusing the producer of `fused` into its owner computes the same
/// values. Upstream fusion keeps a producer result as an extra output of the
/// fused op when the producer's payload reads that result's init (an in-place
/// update such as a bias added into `outs(%conv)`) or the result has other
/// users. The fused op then writes that output at every iteration of the
/// consumer, reading back what it wrote before, so the producer's update is
/// applied once per consumer iteration that maps to the element: more than
/// once unless the consumer visits each producer element exactly once, i.e.
/// its indexing map for the operand is a permutation of parallel loops. A
/// reduction consumer or a broadcasting or windowed read (a convolution's
/// input) would apply a bias several times.
static bool fusionPreservesValues(OpOperand *fused) {
  auto producer = fused->get().getDefiningOp<linalg::LinalgOp>();
  auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
  if (!producer || !consumer)
    return false;
  bool keepsProducerResult =
      !producer->hasOneUse() ||
      llvm::any_of(producer.getDpsInitsMutable(), [&](OpOperand &init) {
        return producer.payloadUsesValueFromOperand(&init);
      });
  if (!keepsProducerResult)
    return true;
  return consumer.getNumReductionLoops() == 0 &&
         consumer.getMatchingIndexingMap(fused).isPermutation();
}

namespace {
struct FuseElementwisePass
    : public qopt::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    linalg::ControlFusionFn control = [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      if (!producer || qopt::isUKernelOp(fused->getOwner()) ||
          qopt::isUKernelOp(producer))
        return false;
      // Fusing a producer with several users recomputes it once per user;
      // that only pays when it is cheap, which we do not model yet.
      return producer->hasOneUse() && fusionPreservesValues(fused);
    };
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    linalg::FillOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::EmptyOp::getCanonicalizationPatterns(patterns, ctx);
    // Some of upstream's patterns rewrite an op without asking `control`
    // (scalar and splat constant inputs are folded into the body), and the
    // op they build carries none of the original's attributes: a marked
    // ukernel op would lose its mark. Such ops are therefore not roots.
    SmallVector<Operation *> roots;
    getOperation().walk([&](Operation *op) {
      if (!qopt::isUKernelOp(op))
        roots.push_back(op);
    });
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    if (failed(applyOpPatternsGreedily(roots, std::move(patterns), config)))
      return signalPassFailure();
  }
};
} // namespace
