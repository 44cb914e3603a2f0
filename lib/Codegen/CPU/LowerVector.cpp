//===- LowerVector.cpp - n-D and masked vector ops to 1-D for LLVM --------===//

#include "qopt/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
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
#define GEN_PASS_DEF_CPULOWERVECTOR
#include "qopt/Codegen/CPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {
/// A masked float max/min reduction becomes a select of the identity (-inf
/// for max, +inf for min) into the masked-off lanes and an unmasked
/// reduction. Upstream's LLVM lowering fills those lanes with the
/// smallest-magnitude subnormal of the wrong sign instead (fixed after
/// 22.1), which beats every negative value: ReduceMax over a dynamic size
/// of all-negative rows returned -1.4e-45.
struct MaskedMinMaxReduction : OpRewritePattern<vector::MaskOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::MaskOp mask,
                                PatternRewriter &rewriter) const override {
    auto reduction =
        dyn_cast_or_null<vector::ReductionOp>(mask.getMaskableOp());
    if (!reduction || mask.getPassthru())
      return failure();
    bool isMax;
    switch (reduction.getKind()) {
    case vector::CombiningKind::MAXIMUMF:
    case vector::CombiningKind::MAXNUMF:
      isMax = true;
      break;
    case vector::CombiningKind::MINIMUMF:
    case vector::CombiningKind::MINNUMF:
      isMax = false;
      break;
    default:
      return failure();
    }
    VectorType type = reduction.getSourceVectorType();
    auto elementType = dyn_cast<FloatType>(type.getElementType());
    if (!elementType ||
        mask.getMask().getType() != VectorType::get(type.getShape(),
                                                    rewriter.getI1Type(),
                                                    type.getScalableDims()))
      return failure();
    Location loc = mask.getLoc();
    APFloat identity =
        APFloat::getInf(elementType.getFloatSemantics(), /*Negative=*/isMax);
    Value fill = arith::ConstantOp::create(
        rewriter, loc, type, DenseElementsAttr::get(type, identity));
    Value lanes = arith::SelectOp::create(rewriter, loc, mask.getMask(),
                                          reduction.getVector(), fill);
    Value result =
        reduction.getAcc()
            ? vector::ReductionOp::create(rewriter, loc, reduction.getKind(),
                                          lanes, reduction.getAcc(),
                                          reduction.getFastmath())
            : vector::ReductionOp::create(rewriter, loc, reduction.getKind(),
                                          lanes, reduction.getFastmath());
    rewriter.replaceOp(mask, result);
    return success();
  }
};

struct CPULowerVectorPass
    : public qopt::impl::CPULowerVectorBase<CPULowerVectorPass> {
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
          patterns.add<MaskedMinMaxReduction>(ctx);
        })))
      return signalPassFailure();
  }
};
} // namespace
