//===- ExpandDynamicExpandShape.cpp - expand_shape with symbolic groups ---===//
//
// Upstream `expand-strided-metadata` derives the expanded sizes of a
// reassociation group from the source size divided by the group's static
// sizes, which only works with at most one dynamic size per group (an
// assertion; release builds dereference a null size and crash). Dynamic
// batch and sequence produce exactly such groups: attention reshapes
// [B*S, D] back to [B, S, D]. Since memref.expand_shape carries its output
// sizes, the metadata is easy to write down directly.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/Common/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_EXPANDDYNAMICEXPANDSHAPE
#include "qopt/Codegen/Common/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// Whether some reassociation group of `op` has more than one dynamic size,
/// which `expand-strided-metadata` cannot handle.
bool hasMultiDynamicGroup(memref::ExpandShapeOp op) {
  MemRefType type = op.getResultType();
  for (const ReassociationIndices &group : op.getReassociationIndices())
    if (llvm::count_if(group, [&](int64_t d) { return type.isDynamicDim(d); }) >
        1)
      return true;
  return false;
}

/// `a * b` on index values, folded when both are constants.
OpFoldResult multiply(OpBuilder &b, Location loc, OpFoldResult lhs,
                      OpFoldResult rhs) {
  std::optional<int64_t> l = getConstantIntValue(lhs);
  std::optional<int64_t> r = getConstantIntValue(rhs);
  if (l && r)
    return b.getIndexAttr(*l * *r);
  if (l == 1)
    return rhs;
  if (r == 1)
    return lhs;
  return arith::MulIOp::create(b, loc,
                               getValueOrCreateConstantIndexOp(b, loc, lhs),
                               getValueOrCreateConstantIndexOp(b, loc, rhs))
      .getResult();
}

/// Makes `ofr` agree with `typeValue`, the result type's static value or
/// kDynamic: the type's constant where it has one, an SSA value where it
/// is dynamic (reinterpret_cast's verifier compares the two).
OpFoldResult matchType(OpBuilder &b, Location loc, OpFoldResult ofr,
                       int64_t typeValue) {
  if (!ShapedType::isDynamic(typeValue))
    return b.getIndexAttr(typeValue);
  return getValueOrCreateConstantIndexOp(b, loc, ofr);
}

struct ExpandShapeToReinterpretCast
    : public OpRewritePattern<memref::ExpandShapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(memref::ExpandShapeOp op,
                                PatternRewriter &rewriter) const override {
    if (!hasMultiDynamicGroup(op))
      return rewriter.notifyMatchFailure(op, "upstream handles it");
    MemRefType resultType = op.getResultType();
    SmallVector<int64_t> resultStrides;
    int64_t resultOffset;
    if (failed(resultType.getStridesAndOffset(resultStrides, resultOffset)))
      return rewriter.notifyMatchFailure(op, "result is not strided");

    SmallVector<int64_t> srcStrides;
    int64_t srcOffset;
    if (failed(op.getSrcType().getStridesAndOffset(srcStrides, srcOffset)))
      return rewriter.notifyMatchFailure(op, "source is not strided");

    Location loc = op.getLoc();
    auto meta =
        memref::ExtractStridedMetadataOp::create(rewriter, loc, op.getSrc());
    // Static metadata of the source type, else its run-time value.
    auto srcValue = [&](int64_t known, Value value) -> OpFoldResult {
      if (ShapedType::isDynamic(known))
        return value;
      return rewriter.getIndexAttr(known);
    };
    SmallVector<OpFoldResult> sizes = op.getMixedOutputShape();
    SmallVector<OpFoldResult> strides(resultType.getRank());
    for (auto [groupId, group] :
         llvm::enumerate(op.getReassociationIndices())) {
      // Within a group the source dimension is split row-major: the
      // innermost part keeps the source stride.
      OpFoldResult stride =
          srcValue(srcStrides[groupId], meta.getStrides()[groupId]);
      for (int64_t d : llvm::reverse(group)) {
        strides[d] = stride;
        stride = multiply(rewriter, loc, stride, sizes[d]);
      }
    }
    for (auto [i, size] : llvm::enumerate(sizes)) {
      size = matchType(rewriter, loc, size, resultType.getDimSize(i));
      strides[i] = matchType(rewriter, loc, strides[i], resultStrides[i]);
    }
    OpFoldResult offset = matchType(
        rewriter, loc, srcValue(srcOffset, meta.getOffset()), resultOffset);
    rewriter.replaceOpWithNewOp<memref::ReinterpretCastOp>(
        op, resultType, meta.getBaseBuffer(), offset, sizes, strides);
    return success();
  }
};

struct ExpandDynamicExpandShapePass
    : public qopt::impl::ExpandDynamicExpandShapeBase<
          ExpandDynamicExpandShapePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandShapeToReinterpretCast>(&getContext());
    // One rewrite per op, no cascades: a single walk is enough.
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingOps);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
  }
};

} // namespace
