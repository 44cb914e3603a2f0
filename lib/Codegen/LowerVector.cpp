//===- LowerVector.cpp - n-D and masked vector ops to 1-D for LLVM --------===//

#include "qopt/Codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_LOWERVECTOR
#include "qopt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {
struct LowerVectorPass : public qopt::impl::LowerVectorBase<LowerVectorPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    // Tiles are 1 x ... x 1 x W: remove the unit dimensions first so that
    // everything below works on 1-D vectors, the shape registers have. Each
    // stage runs to a fixed point on its own: mixing shape_cast lowering
    // with unit-dim dropping makes the two undo each other forever.
    auto runStage = [&](function_ref<void(RewritePatternSet &)> populate) {
      RewritePatternSet patterns(ctx);
      populate(patterns);
      return applyPatternsGreedily(getOperation(), std::move(patterns));
    };
    // exp has no vector instruction: LLVM scalarizes vector exp into libm
    // calls, whose underflow path (softmax of masked scores) is slow. A
    // polynomial in registers is accurate to a few ulp.
    if (failed(runStage([&](RewritePatternSet &patterns) {
          populateMathPolynomialApproximationPatterns(
              patterns, [](StringRef name) { return name == "math.exp"; });
        })))
      return signalPassFailure();
    // Masks first: other patterns create constants at their insertion
    // point, which inside a vector.mask region breaks its single-op rule.
    if (failed(runStage([&](RewritePatternSet &patterns) {
          vector::populateVectorMaskLoweringPatternsForSideEffectingOps(
              patterns);
          vector::populateVectorMaskOpLoweringPatterns(patterns);
        })) ||
        failed(runStage([&](RewritePatternSet &patterns) {
          vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
          vector::populateVectorTransferDropUnitDimsPatterns(patterns);
          vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
          vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
        })) ||
        failed(runStage([&](RewritePatternSet &patterns) {
          vector::populateVectorTransferPermutationMapLoweringPatterns(
              patterns);
          vector::populateVectorMultiReductionLoweringPatterns(
              patterns, vector::VectorMultiReductionLowering::InnerReduction);
          vector::populateVectorBroadcastLoweringPatterns(patterns);
          vector::populateVectorTransposeLoweringPatterns(
              patterns, vector::VectorTransposeLowering::EltWise);
          vector::populateVectorStepLoweringPatterns(patterns);
        })) ||
        failed(runStage([&](RewritePatternSet &patterns) {
          vector::populateVectorShapeCastLoweringPatterns(patterns);
          vector::populateVectorTransferLoweringPatterns(patterns,
                                                         /*maxTransferRank=*/1);
          vector::populateScalarVectorTransferLoweringPatterns(
              patterns, /*benefit=*/1, /*allowMultipleUses=*/true);
          vector::populateVectorGatherLoweringPatterns(patterns);
        })))
      return signalPassFailure();
  }
};
} // namespace
