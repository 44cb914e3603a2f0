//===- NormalizationOps.cpp - ONNX LayerNormalization, BatchNormalization -===//

#include "Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx_import;

namespace {

LogicalResult importLayerNormalization(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  Type elementType = type.getElementType();
  if (!isa<FloatType>(elementType))
    return ctx.emitError() << "expects a float input";
  int64_t rank = type.getRank();
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.getIntAttr("axis", -1), rank);
  if (failed(axis))
    return failure();
  double epsilon = ctx.getFloatAttr("epsilon", 1e-5f);
  SmallVector<int64_t> axes;
  for (int64_t d = *axis; d < rank; ++d)
    axes.push_back(d);
  Value x = ctx.getInput(0);
  Value mean = buildMean(ctx, x, axes, /*keepDims=*/true);
  FailureOr<Value> centered = buildElementwise(
      ctx, {x, mean}, elementType,
      [](OpBuilder &b, Location loc, ValueRange args) -> Value {
        return arith::SubFOp::create(b, loc, args[0], args[1]);
      });
  if (failed(centered))
    return failure();
  FailureOr<Value> squared = buildElementwise(
      ctx, {*centered}, elementType,
      [](OpBuilder &b, Location loc, ValueRange args) -> Value {
        return arith::MulFOp::create(b, loc, args[0], args[0]);
      });
  if (failed(squared))
    return failure();
  Value variance = buildMean(ctx, *squared, axes, /*keepDims=*/true);
  // Optional outputs: the mean and 1 / sqrt(variance + epsilon).
  ctx.setResult(1, mean);
  if (ctx.hasOutput(2)) {
    FailureOr<Value> invStdDev = buildElementwise(
        ctx, {variance}, elementType,
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          Value eps = scalarConstant(b, loc, elementType, epsilon);
          return math::RsqrtOp::create(
              b, loc, arith::AddFOp::create(b, loc, args[0], eps));
        });
    if (failed(invStdDev))
      return failure();
    ctx.setResult(2, *invStdDev);
  }
  SmallVector<Value> inputs = {*centered, variance, ctx.getInput(1)};
  bool hasBias = ctx.hasInput(2);
  if (hasBias)
    inputs.push_back(ctx.getInput(2));
  FailureOr<Value> result = buildElementwise(
      ctx, inputs, elementType,
      [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
        Value eps = scalarConstant(b, loc, elementType, epsilon);
        Value inv = math::RsqrtOp::create(
            b, loc, arith::AddFOp::create(b, loc, args[1], eps));
        Value y = arith::MulFOp::create(
            b, loc, arith::MulFOp::create(b, loc, args[0], inv), args[2]);
        if (hasBias)
          y = arith::AddFOp::create(b, loc, y, args[3]);
        return y;
      });
  if (failed(result))
    return failure();
  ctx.setResult(0, *result);
  return success();
}

/// BatchNormalization. With training_mode (opset 14 on) the statistics are
/// the batch's (mean and population variance over every axis but 1, as
/// ONNX's reference computes them) and the optional outputs 1 and 2 are the
/// running mean and variance, `input * momentum + batch * (1 - momentum)`.
LogicalResult importBatchNormalization(NodeContext &ctx) {
  bool training = ctx.getIntAttr("training_mode", 0) != 0;
  if (failed(ctx.requireAtMostOutputs(training ? 3 : 1)))
    return failure();
  RankedTensorType type = ctx.getInputType(0);
  Type elementType = type.getElementType();
  int64_t rank = type.getRank();
  if (rank < 2 || !isa<FloatType>(elementType))
    return ctx.emitError() << "expects a float input of rank >= 2";
  // BatchNormalization-7 has `spatial` (removed in 9): 0 normalizes each
  // element of a sample, with scale, bias, mean and var of shape
  // [C, D1, ..., Dn]; 1 (the default) normalizes per channel.
  bool spatial = ctx.getOpset() >= 9 || ctx.getIntAttr("spatial", 1) != 0;
  int64_t paramRank = spatial ? 1 : rank - 1;
  for (unsigned i = 1; i < 5; ++i)
    if (ctx.getInputType(i).getRank() != paramRank)
      return ctx.emitError()
             << "scale, bias, mean and var must be "
             << (spatial ? "1-D"
                         : "of rank " + std::to_string(paramRank) +
                               " (spatial = 0)");
  for (unsigned i = 1; i < 5; ++i)
    for (int64_t d = 0; d < paramRank; ++d) {
      int64_t expected = type.getDimSize(d + 1);
      int64_t given = ctx.getInputType(i).getDimSize(d);
      if (!ShapedType::isDynamic(expected) && !ShapedType::isDynamic(given) &&
          expected != given)
        return ctx.emitError()
               << "input " << i << " has size " << given << " in dimension "
               << d << ", the input has " << expected;
    }
  double epsilon = ctx.getFloatAttr("epsilon", 1e-5f);
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value x = ctx.getInput(0);
  MLIRContext *context = b.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
  SmallVector<AffineExpr> paramDims;
  for (int64_t d = 1; d <= paramRank; ++d)
    paramDims.push_back(getAffineDimExpr(d, context));
  AffineMap channel = AffineMap::get(rank, 0, paramDims, context);
  SmallVector<Value> inputs = {x};
  SmallVector<AffineMap> maps = {identity};
  for (unsigned i = 1; i < 5; ++i) {
    inputs.push_back(ctx.getInput(i));
    maps.push_back(channel);
  }
  if (training) {
    if (!spatial)
      return ctx.emitError() << "training_mode needs spatial = 1";
    SmallVector<int64_t> axes = {0};
    for (int64_t d = 2; d < rank; ++d)
      axes.push_back(d);
    Value meanKept = buildMean(ctx, x, axes, /*keepDims=*/true);
    FailureOr<Value> squares = buildElementwise(
        ctx, {x, meanKept}, elementType,
        [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          Value d = arith::SubFOp::create(nb, nl, args[0], args[1]);
          return arith::MulFOp::create(nb, nl, d, d);
        });
    if (failed(squares))
      return failure();
    Value mean = buildMean(ctx, x, axes, /*keepDims=*/false);
    Value var = buildMean(ctx, *squares, axes, /*keepDims=*/false);
    double momentum = ctx.getFloatAttr("momentum", 0.9f);
    for (auto [out, batch] : {std::pair<unsigned, Value>{1, mean}, {2, var}}) {
      if (!ctx.hasOutput(out))
        continue;
      FailureOr<Value> running = buildElementwise(
          ctx, {ctx.getInput(2 + out), batch}, elementType,
          [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
            return arith::AddFOp::create(
                nb, nl,
                arith::MulFOp::create(
                    nb, nl, args[0],
                    scalarConstant(nb, nl, elementType, momentum)),
                arith::MulFOp::create(
                    nb, nl, args[1],
                    scalarConstant(nb, nl, elementType, 1.0 - momentum)));
          });
      if (failed(running))
        return failure();
      ctx.setResult(out, *running);
    }
    inputs[3] = mean;
    inputs[4] = var;
  }
  maps.push_back(identity);
  Value init =
      tensor::EmptyOp::create(b, loc, getSizes(b, loc, x), elementType);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        // (x - mean) / sqrt(var + eps) * scale + bias
        Value eps = scalarConstant(nb, nl, elementType, epsilon);
        Value inv = math::RsqrtOp::create(
            nb, nl, arith::AddFOp::create(nb, nl, args[4], eps));
        Value y = arith::MulFOp::create(
            nb, nl,
            arith::MulFOp::create(
                nb, nl, arith::SubFOp::create(nb, nl, args[0], args[3]), inv),
            args[1]);
        y = arith::AddFOp::create(nb, nl, y, args[2]);
        linalg::YieldOp::create(nb, nl, ValueRange{y});
      });
  ctx.setResult(0, generic.getResult(0));
  return success();
}

} // namespace

void onnx_import::registerNormalizationOps(OpRegistry &r) {
  r["LayerNormalization"] = importLayerNormalization;
  r["BatchNormalization"] = importBatchNormalization;
}
