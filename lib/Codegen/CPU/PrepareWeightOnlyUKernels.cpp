//===- PrepareWeightOnlyUKernels.cpp - fused weight-only contractions -----===//
//
// The decode step of an LLM is a matrix-vector product per layer: its speed
// is the speed at which weights stream from memory. Weight-only quantization
// only pays if the packed weights are what streams, so the contraction must
// read packed bytes and dequantize in registers. This pass builds that
// contraction as one linalg.generic (correct on its own, as loops) and marks
// it for the runtime's weight-only kernel.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/CPU/Passes.h"

#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUPREPAREWEIGHTONLYUKERNELS
#include "qopt/Codegen/CPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

SmallVector<utils::IteratorType> parallel(unsigned n) {
  return SmallVector<utils::IteratorType>(n, utils::IteratorType::parallel);
}

/// `value` (a float or integer tensor) converted elementwise to f32.
Value toF32(OpBuilder &b, Location loc, Value value, bool isSigned) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getElementType().isF32())
    return value;
  Type f32 = b.getF32Type();
  Value init = tensor::EmptyOp::create(
      b, loc, tensor::getMixedSizes(b, loc, value), f32);
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{value},
             ValueRange{init}, ArrayRef<AffineMap>{id, id},
             parallel(type.getRank()),
             [&](OpBuilder &b, Location loc, ValueRange args) {
               Value in = args[0], out;
               if (isa<FloatType>(in.getType()))
                 out = arith::ExtFOp::create(b, loc, f32, in);
               else if (isSigned)
                 out = arith::SIToFPOp::create(b, loc, f32, in);
               else
                 out = arith::UIToFPOp::create(b, loc, f32, in);
               linalg::YieldOp::create(b, loc, out);
             })
      .getResult(0);
}

/// The `bits`-bit field of the i32 `word` starting at bit `shift`, as f32,
/// sign-extended when `isSigned` ((v ^ 2^(bits-1)) - 2^(bits-1)).
Value extractField(OpBuilder &b, Location loc, Value word, Value shift,
                   unsigned bits, bool isSigned) {
  Type i32 = b.getI32Type();
  Value field = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, word, shift),
      arith::ConstantIntOp::create(b, loc, i32, (1 << bits) - 1));
  if (isSigned) {
    Value half = arith::ConstantIntOp::create(b, loc, i32, 1 << (bits - 1));
    field = arith::SubIOp::create(
        b, loc, arith::XOrIOp::create(b, loc, field, half), half);
  }
  return arith::SIToFPOp::create(b, loc, b.getF32Type(), field);
}

struct FuseWeightOnlyLinear : public OpRewritePattern<WeightOnlyLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(WeightOnlyLinearOp op,
                                PatternRewriter &rewriter) const override {
    SchemeAttr scheme = op.getScheme();
    unsigned bits = scheme.isFloatStorage() ? 0 : scheme.getStorageWidth();
    if ((bits != 8 && bits != 4 && bits != 3) || op.getActOrder())
      return rewriter.notifyMatchFailure(
          op, "not int8/int4/int3 without act-order");
    auto xType = cast<RankedTensorType>(op.getInput().getType());
    RankedTensorType logical = op.getLogicalWeightType();
    if (!xType.getElementType().isF32() || !logical.hasStaticShape() ||
        xType.getRank() < 1)
      return rewriter.notifyMatchFailure(op, "needs f32 input, static weight");
    int64_t n = logical.getDimSize(0), k = logical.getDimSize(1);
    int64_t groupSize;
    if (scheme.getGranularity() == Granularity::PerChannel &&
        scheme.getAxis().value_or(0) == 0)
      groupSize = k;
    else if (scheme.getGranularity() == Granularity::PerGroup &&
             scheme.getAxis().value_or(1) == 1 && scheme.getGroupSize())
      groupSize = *scheme.getGroupSize();
    else
      return rewriter.notifyMatchFailure(op, "unsupported granularity");
    if (bits == 4 && k % 2 != 0)
      return rewriter.notifyMatchFailure(op, "odd K with int4");
    // qopt.pack stores whole groups of eight i3 values (three bytes).
    if (bits == 3 && k % 8 != 0)
      return rewriter.notifyMatchFailure(op, "K not a multiple of 8 with int3");

    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    bool isSigned = scheme.isSignedStorage();
    unsigned rank = xType.getRank();
    unsigned numLoops = rank + 1; // outer dims..., n, k
    AffineExpr nDim = getAffineDimExpr(rank - 1, ctx);
    AffineExpr kDim = getAffineDimExpr(rank, ctx);
    SmallVector<AffineExpr> outer;
    for (unsigned i = 0; i + 1 < rank; ++i)
      outer.push_back(getAffineDimExpr(i, ctx));

    SmallVector<AffineExpr> xExprs = outer, outExprs = outer;
    xExprs.push_back(kDim);
    outExprs.push_back(nDim);
    SmallVector<AffineExpr> paramExprs = {nDim};
    if (groupSize != k)
      paramExprs.push_back(kDim.floorDiv(groupSize));

    Value scale = toF32(rewriter, loc, op.getScale(), true);
    if (cast<RankedTensorType>(scale.getType()).getRank() !=
        static_cast<int64_t>(paramExprs.size()))
      return rewriter.notifyMatchFailure(op, "unexpected scale shape");
    SmallVector<Value> inputs = {op.getInput(), op.getWeight(), scale};
    SmallVector<AffineMap> maps = {
        AffineMap::get(numLoops, 0, xExprs, ctx),
        // The byte holding the first bit of element k.
        AffineMap::get(numLoops, 0,
                       {nDim, 8 % bits == 0 ? kDim.floorDiv(8 / bits)
                                            : (kDim * bits).floorDiv(8)},
                       ctx),
        AffineMap::get(numLoops, 0, paramExprs, ctx)};
    if (Value zp = op.getZeroPoint()) {
      inputs.push_back(toF32(rewriter, loc, zp, isSigned));
      maps.push_back(maps.back());
    }
    maps.push_back(AffineMap::get(numLoops, 0, outExprs, ctx));

    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, op.getInput());
    sizes.back() = rewriter.getIndexAttr(n);
    Value empty =
        tensor::EmptyOp::create(rewriter, loc, sizes, rewriter.getF32Type());
    Value zero = arith::ConstantOp::create(rewriter, loc,
                                           rewriter.getF32FloatAttr(0.0f));
    Value init =
        linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);

    SmallVector<utils::IteratorType> iterators = parallel(numLoops);
    iterators.back() = utils::IteratorType::reduction;
    bool hasZeroPoint = static_cast<bool>(op.getZeroPoint());
    Value weight = op.getWeight();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
        maps, iterators, [&](OpBuilder &b, Location loc, ValueRange args) {
          Type f32 = b.getF32Type(), i32 = b.getI32Type();
          Value byte = args[1], q;
          if (bits == 3) {
            // Element k is bits [3k, 3k + 3) of the row's bit stream: in the
            // byte the map reads, spilling into the next one when 3k % 8 > 5.
            // That byte is read from the tensor directly (it is in bounds:
            // (3k + 2) / 8 < 3K / 8).
            Value kIndex = linalg::IndexOp::create(b, loc, rank);
            Value nIndex = linalg::IndexOp::create(b, loc, rank - 1);
            Value bit = arith::MulIOp::create(
                b, loc, kIndex, arith::ConstantIndexOp::create(b, loc, 3));
            Value eight = arith::ConstantIndexOp::create(b, loc, 8);
            Value last = arith::DivUIOp::create(
                b, loc,
                arith::AddIOp::create(
                    b, loc, bit, arith::ConstantIndexOp::create(b, loc, 2)),
                eight);
            Value next = tensor::ExtractOp::create(b, loc, weight,
                                                   ValueRange{nIndex, last});
            Value word = arith::OrIOp::create(
                b, loc, arith::ExtUIOp::create(b, loc, i32, byte),
                arith::ShLIOp::create(
                    b, loc, arith::ExtUIOp::create(b, loc, i32, next),
                    arith::ConstantIntOp::create(b, loc, i32, 8)));
            Value shift = arith::IndexCastOp::create(
                b, loc, i32, arith::RemUIOp::create(b, loc, bit, eight));
            q = extractField(b, loc, word, shift, bits, isSigned);
          } else if (bits == 8) {
            q = isSigned
                    ? arith::SIToFPOp::create(b, loc, f32, byte).getResult()
                    : arith::UIToFPOp::create(b, loc, f32, byte).getResult();
          } else {
            // Element k is the low nibble of byte k / 2 when k is even.
            Value kIndex = linalg::IndexOp::create(b, loc, rank);
            Value two = arith::ConstantIndexOp::create(b, loc, 2);
            Value odd = arith::RemUIOp::create(b, loc, kIndex, two);
            Value shift = arith::MulIOp::create(
                b, loc, arith::IndexCastOp::create(b, loc, i32, odd),
                arith::ConstantIntOp::create(b, loc, i32, 4));
            Value word = arith::ExtUIOp::create(b, loc, i32, byte);
            q = extractField(b, loc, word, shift, bits, isSigned);
          }
          if (hasZeroPoint)
            q = arith::SubFOp::create(b, loc, q, args[3]);
          Value w = arith::MulFOp::create(b, loc, q, args[2]);
          Value product = arith::MulFOp::create(b, loc, args[0], w);
          linalg::YieldOp::create(
              b, loc,
              ValueRange{arith::AddFOp::create(b, loc, args.back(), product)});
        });
    generic->setAttr(
        kWeightOnlyGemmAttrName,
        rewriter.getDictionaryAttr(
            {rewriter.getNamedAttr("bits", rewriter.getI64IntegerAttr(bits)),
             rewriter.getNamedAttr("signed", rewriter.getBoolAttr(isSigned)),
             rewriter.getNamedAttr("group_size",
                                   rewriter.getI64IntegerAttr(groupSize))}));
    Value result = generic.getResult(0);

    if (Value bias = op.getBias()) {
      AffineMap id = rewriter.getMultiDimIdentityMap(rank);
      AffineMap channel =
          AffineMap::get(rank, 0, {getAffineDimExpr(rank - 1, ctx)}, ctx);
      result =
          linalg::GenericOp::create(
              rewriter, loc, TypeRange{result.getType()},
              ValueRange{toF32(rewriter, loc, bias, true)}, ValueRange{result},
              ArrayRef<AffineMap>{channel, id}, parallel(rank),
              [](OpBuilder &b, Location loc, ValueRange args) {
                linalg::YieldOp::create(b, loc,
                                        ValueRange{arith::AddFOp::create(
                                            b, loc, args[1], args[0])});
              })
              .getResult(0);
    }
    if (result.getType() != op.getType())
      result = tensor::CastOp::create(rewriter, loc, op.getType(), result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct CPUPrepareWeightOnlyUKernelsPass
    : public qopt::impl::CPUPrepareWeightOnlyUKernelsBase<
          CPUPrepareWeightOnlyUKernelsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseWeightOnlyLinear>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
