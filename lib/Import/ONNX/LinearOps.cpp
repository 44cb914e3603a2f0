//===- LinearOps.cpp - ONNX MatMul and Gemm -------------------------------===//
//
// A MatMul or Gemm whose weight is a constant is a linear layer: it becomes
// qopt.linear, which the quantization passes rewrite. Every other product
// (attention's Q K^T, scores x V) is a batched contraction in linalg.
//
//===----------------------------------------------------------------------===//

#include "Builders.h"

#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx_import;

namespace {

/// `[..., M, K] x [..., K, N] -> [..., M, N]` with broadcast batch dims.
FailureOr<Value> buildBatchMatMul(NodeContext &ctx, Value a, Value b,
                                  bool transA, bool transB) {
  OpBuilder &builder = ctx.getBuilder();
  Location loc = ctx.getLoc();
  auto aType = cast<RankedTensorType>(a.getType());
  auto bType = cast<RankedTensorType>(b.getType());
  if (aType.getRank() < 2 || bType.getRank() < 2)
    return ctx.emitError() << "products of 1-D operands are not supported";
  if (aType.getElementType() != bType.getElementType())
    return ctx.emitError() << "operand element types differ";
  Type elementType = aType.getElementType();
  ArrayRef<int64_t> aBatch = aType.getShape().drop_back(2);
  ArrayRef<int64_t> bBatch = bType.getShape().drop_back(2);
  FailureOr<SmallVector<int64_t>> batch =
      broadcastShapes(ctx, {aBatch, bBatch});
  if (failed(batch))
    return failure();
  int64_t batchRank = batch->size();
  int64_t m = batchRank, n = batchRank + 1, k = batchRank + 2;
  int64_t numLoops = batchRank + 3;
  MLIRContext *context = builder.getContext();
  auto operandMap = [&](RankedTensorType type, ArrayRef<int64_t> ownBatch,
                        int64_t rowDim, int64_t colDim) {
    SmallVector<AffineExpr> exprs;
    int64_t offset = batchRank - ownBatch.size();
    for (auto [j, size] : llvm::enumerate(ownBatch)) {
      int64_t d = j + offset;
      exprs.push_back(size == 1 && (*batch)[d] != 1
                          ? getAffineConstantExpr(0, context)
                          : getAffineDimExpr(d, context));
    }
    exprs.push_back(getAffineDimExpr(rowDim, context));
    exprs.push_back(getAffineDimExpr(colDim, context));
    return AffineMap::get(numLoops, 0, exprs, context);
  };
  AffineMap aMap = transA ? operandMap(aType, aBatch, k, m)
                          : operandMap(aType, aBatch, m, k);
  AffineMap bMap = transB ? operandMap(bType, bBatch, n, k)
                          : operandMap(bType, bBatch, k, n);
  SmallVector<AffineExpr> outExprs;
  for (int64_t d = 0; d < batchRank + 2; ++d)
    outExprs.push_back(getAffineDimExpr(d, context));
  AffineMap outMap = AffineMap::get(numLoops, 0, outExprs, context);

  // Result sizes: batch from a non-broadcast operand, M from A, N from B.
  SmallVector<OpFoldResult> aSizes = getSizes(builder, loc, a);
  SmallVector<OpFoldResult> bSizes = getSizes(builder, loc, b);
  SmallVector<OpFoldResult> sizes;
  for (int64_t d = 0; d < batchRank; ++d) {
    if (!ShapedType::isDynamic((*batch)[d])) {
      sizes.push_back(builder.getIndexAttr((*batch)[d]));
      continue;
    }
    int64_t ja = d - (batchRank - aBatch.size());
    int64_t jb = d - (batchRank - bBatch.size());
    sizes.push_back(ja >= 0 && ShapedType::isDynamic(aBatch[ja]) ? aSizes[ja]
                                                                 : bSizes[jb]);
  }
  int64_t aRank = aType.getRank(), bRank = bType.getRank();
  sizes.push_back(aSizes[transA ? aRank - 1 : aRank - 2]);
  sizes.push_back(bSizes[transB ? bRank - 2 : bRank - 1]);
  Value init = createFilled(builder, loc, sizes,
                            cast<TypedAttr>(builder.getZeroAttr(elementType)));
  SmallVector<utils::IteratorType> iterators(numLoops,
                                             utils::IteratorType::parallel);
  iterators.back() = utils::IteratorType::reduction;
  bool isFloat = isa<FloatType>(elementType);
  auto generic = linalg::GenericOp::create(
      builder, loc, TypeRange{init.getType()}, ValueRange{a, b},
      ValueRange{init}, ArrayRef<AffineMap>{aMap, bMap, outMap}, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value product =
            isFloat
                ? arith::MulFOp::create(nb, nl, args[0], args[1]).getResult()
                : arith::MulIOp::create(nb, nl, args[0], args[1]).getResult();
        Value sum =
            isFloat
                ? arith::AddFOp::create(nb, nl, args[2], product).getResult()
                : arith::AddIOp::create(nb, nl, args[2], product).getResult();
        linalg::YieldOp::create(nb, nl, ValueRange{sum});
      });
  return generic.getResult(0);
}

/// Result type of `x : [..., K]` through a linear layer with N outputs.
RankedTensorType linearResultType(RankedTensorType inputType, int64_t n) {
  SmallVector<int64_t> shape(inputType.getShape());
  shape.back() = n;
  return RankedTensorType::get(shape, inputType.getElementType());
}

LogicalResult importMatMul(NodeContext &ctx) {
  RankedTensorType aType = ctx.getInputType(0);
  RankedTensorType bType = ctx.getInputType(1);
  if (ctx.isConstantInput(1) && bType.getRank() == 2 &&
      isa<FloatType>(aType.getElementType()) && aType.getRank() >= 2 &&
      bType.getElementType() == aType.getElementType()) {
    if (!ShapedType::isDynamic(aType.getShape().back()) &&
        aType.getShape().back() != bType.getDimSize(0))
      return ctx.emitError() << "input has K = " << aType.getShape().back()
                             << " but the weight " << bType
                             << " has K = " << bType.getDimSize(0);
    Value result = LinearOp::create(
        ctx.getBuilder(), ctx.getLoc(),
        linearResultType(aType, bType.getDimSize(1)), ctx.getInput(0),
        ctx.getInput(1), /*bias=*/Value(), /*transpose_weight=*/false);
    ctx.setResult(0, result);
    return success();
  }
  // MatMul(x, Transpose(W)) with a constant W (a tied LM head).
  if (Value weight = ctx.getTransposedConstant(1)) {
    auto weightType = cast<RankedTensorType>(weight.getType());
    if (isa<FloatType>(aType.getElementType()) && aType.getRank() >= 2 &&
        weightType.getElementType() == aType.getElementType() &&
        (ShapedType::isDynamic(aType.getShape().back()) ||
         aType.getShape().back() == weightType.getDimSize(1))) {
      Value result = LinearOp::create(
          ctx.getBuilder(), ctx.getLoc(),
          linearResultType(aType, weightType.getDimSize(0)), ctx.getInput(0),
          weight, /*bias=*/Value(), /*transpose_weight=*/true);
      ctx.setResult(0, result);
      return success();
    }
  }
  FailureOr<Value> result =
      buildBatchMatMul(ctx, ctx.getInput(0), ctx.getInput(1), false, false);
  if (failed(result))
    return failure();
  ctx.setResult(0, *result);
  return success();
}

LogicalResult importGemm(NodeContext &ctx) {
  float alpha = ctx.getFloatAttr("alpha", 1.0f);
  float beta = ctx.getFloatAttr("beta", 1.0f);
  bool transA = ctx.getIntAttr("transA", 0) != 0;
  bool transB = ctx.getIntAttr("transB", 0) != 0;
  RankedTensorType aType = ctx.getInputType(0);
  RankedTensorType bType = ctx.getInputType(1);
  if (aType.getRank() != 2 || bType.getRank() != 2)
    return ctx.emitError() << "A and B must be 2-D";
  if (!isa<FloatType>(aType.getElementType()))
    return ctx.emitError() << "integer Gemm is not supported";
  int64_t n = bType.getDimSize(transB ? 0 : 1);
  bool hasC = ctx.hasInput(2);
  bool biasFits =
      !hasC || (ctx.getInputType(2).getRank() == 1 &&
                ctx.getInputType(2).getDimSize(0) == n && beta == 1);
  if (ctx.isConstantInput(1) && alpha == 1 && !transA && biasFits &&
      isa<FloatType>(aType.getElementType()) &&
      bType.getElementType() == aType.getElementType()) {
    Value bias = hasC ? ctx.getInput(2) : Value();
    Value result = LinearOp::create(ctx.getBuilder(), ctx.getLoc(),
                                    linearResultType(aType, n), ctx.getInput(0),
                                    ctx.getInput(1), bias, transB);
    ctx.setResult(0, result);
    return success();
  }
  FailureOr<Value> product =
      buildBatchMatMul(ctx, ctx.getInput(0), ctx.getInput(1), transA, transB);
  if (failed(product))
    return failure();
  Value result = *product;
  Type elementType = aType.getElementType();
  if (alpha != 1 || hasC) {
    SmallVector<Value> inputs = {result};
    if (hasC)
      inputs.push_back(ctx.getInput(2));
    FailureOr<Value> scaled = buildElementwise(
        ctx, inputs, elementType,
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          Value y = args[0];
          if (alpha != 1)
            y = arith::MulFOp::create(
                b, loc, y, scalarConstant(b, loc, elementType, alpha));
          if (hasC) {
            Value c = args[1];
            if (beta != 1)
              c = arith::MulFOp::create(
                  b, loc, c, scalarConstant(b, loc, elementType, beta));
            y = arith::AddFOp::create(b, loc, y, c);
          }
          return y;
        });
    if (failed(scaled))
      return failure();
    result = *scaled;
  }
  ctx.setResult(0, result);
  return success();
}

} // namespace

void onnx_import::registerLinearOps(OpRegistry &r) {
  r["MatMul"] = importMatMul;
  r["Gemm"] = importGemm;
}
