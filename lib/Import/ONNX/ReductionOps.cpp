//===- ReductionOps.cpp - ONNX reductions and softmax ---------------------===//

#include "Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx_import;

namespace {

enum class Reduction { Sum, Mean, Max, Min, Prod };

/// Axes of a Reduce* node: attribute before opset 18 (13 for ReduceSum),
/// input since; none means all, unless noop_with_empty_axes.
FailureOr<SmallVector<int64_t>> getReduceAxes(NodeContext &ctx, int64_t rank,
                                              bool &noop) {
  noop = false;
  SmallVector<int64_t> axes;
  if (std::optional<SmallVector<int64_t>> attr = ctx.getIntsAttr("axes")) {
    axes = *attr;
  } else if (ctx.hasInput(1)) {
    std::optional<SmallVector<int64_t>> values =
        getConstantInts(ctx.getConstantInput(1));
    if (!values)
      return ctx.emitError() << "axes must be a constant";
    axes = *values;
  }
  if (axes.empty()) {
    if (ctx.getIntAttr("noop_with_empty_axes", 0)) {
      noop = true;
      return axes;
    }
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  for (int64_t &axis : axes) {
    FailureOr<int64_t> normalized = ctx.normalizeAxis(axis, rank);
    if (failed(normalized))
      return failure();
    axis = *normalized;
  }
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

TypedAttr reductionInit(OpBuilder &b, Type type, Reduction kind,
                        bool isUnsigned) {
  if (auto floatType = dyn_cast<FloatType>(type)) {
    if (kind == Reduction::Max)
      return b.getFloatAttr(type, -std::numeric_limits<double>::infinity());
    if (kind == Reduction::Min)
      return b.getFloatAttr(type, std::numeric_limits<double>::infinity());
    return b.getFloatAttr(type, kind == Reduction::Prod ? 1.0 : 0.0);
  }
  unsigned width = type.getIntOrFloatBitWidth();
  // Booleans are unsigned (see combine).
  isUnsigned |= type.isInteger(1);
  if (kind == Reduction::Max)
    return b.getIntegerAttr(type, isUnsigned ? APInt::getMinValue(width)
                                             : APInt::getSignedMinValue(width));
  if (kind == Reduction::Min)
    return b.getIntegerAttr(type, isUnsigned ? APInt::getMaxValue(width)
                                             : APInt::getSignedMaxValue(width));
  return b.getIntegerAttr(type, kind == Reduction::Prod ? 1 : 0);
}

Value combine(OpBuilder &b, Location loc, Reduction kind, Value x, Value acc,
              bool isUnsigned) {
  bool isFloat = isa<FloatType>(x.getType());
  // Booleans (ReduceMax/ReduceMin-20) are unsigned: true is 1, so max is
  // "any" and min "all".
  isUnsigned |= x.getType().isInteger(1);
  switch (kind) {
  case Reduction::Sum:
  case Reduction::Mean:
    return isFloat ? arith::AddFOp::create(b, loc, acc, x).getResult()
                   : arith::AddIOp::create(b, loc, acc, x).getResult();
  case Reduction::Prod:
    return isFloat ? arith::MulFOp::create(b, loc, acc, x).getResult()
                   : arith::MulIOp::create(b, loc, acc, x).getResult();
  case Reduction::Max:
    if (isFloat)
      return arith::MaximumFOp::create(b, loc, acc, x);
    return isUnsigned ? arith::MaxUIOp::create(b, loc, acc, x).getResult()
                      : arith::MaxSIOp::create(b, loc, acc, x).getResult();
  case Reduction::Min:
    if (isFloat)
      return arith::MinimumFOp::create(b, loc, acc, x);
    return isUnsigned ? arith::MinUIOp::create(b, loc, acc, x).getResult()
                      : arith::MinSIOp::create(b, loc, acc, x).getResult();
  }
  llvm_unreachable("unknown reduction");
}

/// Reduces `input` over `axes` (Mean through buildMean).
Value reduce(NodeContext &ctx, Value input, ArrayRef<int64_t> axes,
             bool keepDims, Reduction kind, bool isUnsigned) {
  if (kind == Reduction::Mean)
    return buildMean(ctx, input, axes, keepDims);
  OpBuilder &b = ctx.getBuilder();
  Type type = cast<RankedTensorType>(input.getType()).getElementType();
  return buildReduction(b, ctx.getLoc(), input, axes, keepDims,
                        reductionInit(b, type, kind, isUnsigned),
                        [&](OpBuilder &nb, Location nl, ValueRange args) {
                          return combine(nb, nl, kind, args[0], args[1],
                                         isUnsigned);
                        });
}

/// Elementwise steps around a reduction (x^2 before ReduceSumSquare, log
/// after ReduceLogSum, ...).
using ScalarStep = Value (*)(OpBuilder &, Location, Value);

OpHandler reduceOp(Reduction kind, ScalarStep pre = nullptr,
                   ScalarStep post = nullptr) {
  return [kind, pre, post](NodeContext &ctx) -> LogicalResult {
    RankedTensorType type = ctx.getInputType(0);
    if ((kind == Reduction::Mean || pre || post) &&
        !isa<FloatType>(type.getElementType()))
      return ctx.emitError()
             << ctx.getOpType() << " of integers is not supported";
    bool noop;
    FailureOr<SmallVector<int64_t>> axes =
        getReduceAxes(ctx, type.getRank(), noop);
    if (failed(axes))
      return failure();
    if (noop) {
      ctx.forwardInput(0, 0);
      return success();
    }
    bool keepDims = ctx.getIntAttr("keepdims", 1) != 0;
    bool isUnsigned = ctx.isUnsignedInput(0);
    Type elementType = type.getElementType();
    auto apply = [&](Value v, ScalarStep step) -> FailureOr<Value> {
      return buildElementwise(
          ctx, {v}, elementType,
          [step](OpBuilder &b, Location loc, ValueRange args) -> Value {
            return step(b, loc, args[0]);
          });
    };
    Value input = ctx.getInput(0);
    if (pre) {
      FailureOr<Value> stepped = apply(input, pre);
      if (failed(stepped))
        return failure();
      input = *stepped;
    }
    Value result = reduce(ctx, input, *axes, keepDims, kind, isUnsigned);
    if (post) {
      FailureOr<Value> stepped = apply(result, post);
      if (failed(stepped))
        return failure();
      result = *stepped;
    }
    ctx.setResult(0, result, isUnsigned);
    return success();
  };
}

Value square(OpBuilder &b, Location loc, Value x) {
  return arith::MulFOp::create(b, loc, x, x);
}
Value absolute(OpBuilder &b, Location loc, Value x) {
  return math::AbsFOp::create(b, loc, x);
}
Value squareRoot(OpBuilder &b, Location loc, Value x) {
  return math::SqrtOp::create(b, loc, x);
}
Value logarithm(OpBuilder &b, Location loc, Value x) {
  return math::LogOp::create(b, loc, x);
}

/// ReduceLogSumExp as m + log(sum(e^(x - m))), m the maximum over the
/// axes: e^x alone overflows to +inf for x > 88 in f32 where the result is
/// finite. Rows whose maximum is not finite (all -inf, a +inf, a NaN) are
/// not shifted, so they give -inf, +inf and NaN as log(sum(e^x)) does.
LogicalResult importReduceLogSumExp(NodeContext &ctx) {
  RankedTensorType type = ctx.getInputType(0);
  Type elementType = type.getElementType();
  if (!isa<FloatType>(elementType))
    return ctx.emitError() << "ReduceLogSumExp of integers is not supported";
  bool noop;
  FailureOr<SmallVector<int64_t>> axes =
      getReduceAxes(ctx, type.getRank(), noop);
  if (failed(axes))
    return failure();
  if (noop) {
    ctx.forwardInput(0, 0);
    return success();
  }
  bool keepDims = ctx.getIntAttr("keepdims", 1) != 0;
  Value x = ctx.getInput(0);
  auto finiteShift = [](OpBuilder &b, Location loc, Value m) -> Value {
    Value inf = arith::ConstantOp::create(
        b, loc,
        b.getFloatAttr(m.getType(), std::numeric_limits<double>::infinity()));
    Value isFinite =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                              math::AbsFOp::create(b, loc, m), inf);
    Value zero =
        arith::ConstantOp::create(b, loc, b.getFloatAttr(m.getType(), 0.0));
    return arith::SelectOp::create(b, loc, isFinite, m, zero);
  };
  Value maxKept = reduce(ctx, x, *axes, true, Reduction::Max, false);
  FailureOr<Value> exps = buildElementwise(
      ctx, {x, maxKept}, elementType,
      [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
        Value shifted = arith::SubFOp::create(b, loc, args[0],
                                              finiteShift(b, loc, args[1]));
        return math::ExpOp::create(b, loc, shifted);
      });
  if (failed(exps))
    return failure();
  Value sum = reduce(ctx, *exps, *axes, keepDims, Reduction::Sum, false);
  Value max =
      keepDims ? maxKept : reduce(ctx, x, *axes, false, Reduction::Max, false);
  FailureOr<Value> result = buildElementwise(
      ctx, {sum, max}, elementType,
      [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
        return arith::AddFOp::create(b, loc,
                                     math::LogOp::create(b, loc, args[0]),
                                     finiteShift(b, loc, args[1]));
      });
  if (failed(result))
    return failure();
  ctx.setResult(0, *result);
  return success();
}

/// The axes Softmax, LogSoftmax and Hardmax normalize over. From opset 13:
/// `axis` alone (default -1). Before: the input is coerced to 2-D at `axis`
/// (default 1), [d0 * ... * d(axis-1), d(axis) * ... * d(n-1)], and the op
/// runs along the second dimension, so every axis from `axis` on.
FailureOr<SmallVector<int64_t>> getSoftmaxAxes(NodeContext &ctx) {
  int64_t rank = ctx.getInputType(0).getRank();
  bool coerced = ctx.getOpset() < 13;
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.getIntAttr("axis", coerced ? 1 : -1), rank);
  if (failed(axis))
    return failure();
  if (!coerced || rank == 0)
    return SmallVector<int64_t>{*axis};
  return llvm::to_vector(llvm::seq<int64_t>(*axis, rank));
}

/// Softmax and LogSoftmax (see getSoftmaxAxes for the axes of each opset).
OpHandler softmax(bool isLog) {
  return [isLog](NodeContext &ctx) -> LogicalResult {
    RankedTensorType type = ctx.getInputType(0);
    Type elementType = type.getElementType();
    if (!isa<FloatType>(elementType))
      return ctx.emitError() << "expects a float input";
    FailureOr<SmallVector<int64_t>> axes = getSoftmaxAxes(ctx);
    if (failed(axes))
      return failure();
    Value x = ctx.getInput(0);
    Value max = reduce(ctx, x, *axes, true, Reduction::Max, false);
    FailureOr<Value> shifted = buildElementwise(
        ctx, {x, max}, elementType,
        [](OpBuilder &b, Location loc, ValueRange args) -> Value {
          return arith::SubFOp::create(b, loc, args[0], args[1]);
        });
    if (failed(shifted))
      return failure();
    FailureOr<Value> exps = buildElementwise(
        ctx, {*shifted}, elementType,
        [](OpBuilder &b, Location loc, ValueRange args) -> Value {
          return math::ExpOp::create(b, loc, args[0]);
        });
    if (failed(exps))
      return failure();
    Value sum = reduce(ctx, *exps, *axes, true, Reduction::Sum, false);
    FailureOr<Value> result = buildElementwise(
        ctx, {isLog ? *shifted : *exps, sum}, elementType,
        [isLog](OpBuilder &b, Location loc, ValueRange args) -> Value {
          if (isLog)
            return arith::SubFOp::create(b, loc, args[0],
                                         math::LogOp::create(b, loc, args[1]));
          return arith::DivFOp::create(b, loc, args[0], args[1]);
        });
    if (failed(result))
      return failure();
    ctx.setResult(0, *result);
    return success();
  };
}

/// The normalized axis of an op that selects elements along one axis of a
/// float or integer input of rank 1 or more (ArgMax, ArgMin, TopK).
FailureOr<int64_t> getSelectionAxis(NodeContext &ctx, int64_t axisAttr) {
  RankedTensorType type = ctx.getInputType(0);
  if (type.getRank() == 0)
    return ctx.emitError() << "expects an input of rank 1 or more";
  Type elementType = type.getElementType();
  if (!isa<FloatType, IntegerType>(elementType))
    return ctx.emitError() << "unsupported element type " << elementType;
  return ctx.normalizeAxis(axisAttr, type.getRank());
}

/// ArgMax / ArgMin: the int64 index of the first (or, with
/// select_last_index, the last) extreme element along `axis`. One reduction
/// carries the best value and its index; a strict comparison keeps the
/// first of equal elements, a non-strict one the last.
Value buildArgExtremeOf(NodeContext &ctx, Value input, int64_t axis,
                        bool keepDims, bool isMax, bool last, bool isUnsigned);

FailureOr<Value> buildArgExtreme(NodeContext &ctx, int64_t axisAttr,
                                 bool keepDims, bool isMax, bool last) {
  RankedTensorType type = ctx.getInputType(0);
  FailureOr<int64_t> axis = getSelectionAxis(ctx, axisAttr);
  if (failed(axis))
    return failure();
  if (ShapedType::isStatic(type.getDimSize(*axis)) &&
      type.getDimSize(*axis) == 0)
    return ctx.emitError() << "cannot reduce an empty axis";
  return buildArgExtremeOf(ctx, ctx.getInput(0), *axis, keepDims, isMax, last,
                           ctx.isUnsignedInput(0));
}

/// The body of buildArgExtreme on any `input`, `axis` normalized.
Value buildArgExtremeOf(NodeContext &ctx, Value input, int64_t axis,
                        bool keepDims, bool isMax, bool last, bool isUnsigned) {
  auto type = cast<RankedTensorType>(input.getType());
  Type elementType = type.getElementType();
  bool isFloat = isa<FloatType>(elementType);

  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  // The worst value of the type, so that any element replaces it.
  TypedAttr worst;
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    worst = b.getFloatAttr(floatType, isMax ? -INFINITY : INFINITY);
  } else {
    unsigned width = elementType.getIntOrFloatBitWidth();
    APInt bound = isUnsigned ? (isMax ? APInt::getMinValue(width)
                                      : APInt::getMaxValue(width))
                             : (isMax ? APInt::getSignedMinValue(width)
                                      : APInt::getSignedMaxValue(width));
    worst = b.getIntegerAttr(elementType, bound);
  }
  ReductionLayout layout = getReductionLayout(b, loc, input, {axis}, keepDims);
  Value bestInit = createFilled(b, loc, layout.outSizes, worst);
  Value indexInit =
      createFilled(b, loc, layout.outSizes, b.getI64IntegerAttr(0));
  SmallVector<AffineMap> maps = {layout.inMap, layout.outMap, layout.outMap};
  int64_t reducedDim = axis;
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{bestInit.getType(), indexInit.getType()},
      ValueRange{input}, ValueRange{bestInit, indexInit}, maps,
      layout.iterators, [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value x = args[0], best = args[1], bestIndex = args[2];
        Value better;
        if (isFloat) {
          // NaN counts as the extreme, as in numpy: the first NaN wins.
          auto predicate = isMax ? (last ? arith::CmpFPredicate::UGE
                                         : arith::CmpFPredicate::UGT)
                                 : (last ? arith::CmpFPredicate::ULE
                                         : arith::CmpFPredicate::ULT);
          better = arith::CmpFOp::create(nb, nl, predicate, x, best);
          // Once a NaN is the best, nothing replaces it.
          Value bestIsNaN = arith::CmpFOp::create(
              nb, nl, arith::CmpFPredicate::UNO, best, best);
          Value notNaN = arith::XOrIOp::create(
              nb, nl, bestIsNaN,
              arith::ConstantOp::create(nb, nl, nb.getBoolAttr(true)));
          better = arith::AndIOp::create(nb, nl, better, notNaN);
        } else {
          arith::CmpIPredicate predicate;
          if (isUnsigned)
            predicate = isMax ? (last ? arith::CmpIPredicate::uge
                                      : arith::CmpIPredicate::ugt)
                              : (last ? arith::CmpIPredicate::ule
                                      : arith::CmpIPredicate::ult);
          else
            predicate = isMax ? (last ? arith::CmpIPredicate::sge
                                      : arith::CmpIPredicate::sgt)
                              : (last ? arith::CmpIPredicate::sle
                                      : arith::CmpIPredicate::slt);
          better = arith::CmpIOp::create(nb, nl, predicate, x, best);
        }
        Value index = arith::IndexCastOp::create(
            nb, nl, nb.getI64Type(),
            linalg::IndexOp::create(nb, nl, reducedDim));
        linalg::YieldOp::create(
            nb, nl,
            ValueRange{
                arith::SelectOp::create(nb, nl, better, x, best),
                arith::SelectOp::create(nb, nl, better, index, bestIndex)});
      });
  return generic.getResult(1);
}

OpHandler argExtreme(bool isMax) {
  return [isMax](NodeContext &ctx) -> LogicalResult {
    FailureOr<Value> index = buildArgExtreme(
        ctx, ctx.getIntAttr("axis", 0), ctx.getIntAttr("keepdims", 1) != 0,
        isMax, ctx.getIntAttr("select_last_index", 0) != 0);
    if (failed(index))
      return failure();
    ctx.setResult(0, *index);
    return success();
  };
}

/// TopK: the k largest (or smallest) elements along `axis`, sorted, with
/// their int64 indices; equal elements go in index order. Round r is one
/// reduction that picks the best element sorting after the pick of round
/// r - 1, so the cost is k passes over the axis: meant for the small k of
/// sampling, hence the limit.
LogicalResult importTopK(NodeContext &ctx) {
  constexpr int64_t kMaxK = 256;
  RankedTensorType type = ctx.getInputType(0);
  FailureOr<int64_t> axis = getSelectionAxis(ctx, ctx.getIntAttr("axis", -1));
  if (failed(axis))
    return failure();
  int64_t k;
  if (ctx.getOpset() < 10) {
    // TopK-1: k is an attribute.
    const onnx::AttributeProto *kAttr = ctx.getAttr("k");
    if (!kAttr)
      return ctx.emitError() << "the k attribute is required before opset 10";
    k = kAttr->i();
  } else {
    const HostTensor *kTensor = ctx.getConstantInput(1);
    if (!kTensor || kTensor->getNumElements() != 1)
      return ctx.emitError() << "k must be a constant with one element";
    k = kTensor->getInt(0);
  }
  int64_t extent = type.getDimSize(*axis);
  if (k < 1 || k > kMaxK)
    return ctx.emitError() << "k = " << k << " is outside [1, " << kMaxK << "]";
  if (ShapedType::isStatic(extent) && k > extent)
    return ctx.emitError() << "k = " << k << " exceeds the axis size "
                           << extent;
  bool largest = ctx.getIntAttr("largest", 1) != 0;
  Type elementType = type.getElementType();
  bool isFloat = isa<FloatType>(elementType);
  bool isUnsigned = ctx.isUnsignedInput(0);

  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value input = ctx.getInput(0);
  ReductionLayout layout = getReductionLayout(b, loc, input, {*axis}, true);
  int64_t axisDim = *axis;
  // x sorts before y: larger (or smaller) first.
  auto before = [&](OpBuilder &nb, Location nl, Value x, Value y) -> Value {
    if (isFloat)
      return arith::CmpFOp::create(nb, nl,
                                   largest ? arith::CmpFPredicate::OGT
                                           : arith::CmpFPredicate::OLT,
                                   x, y);
    arith::CmpIPredicate predicate =
        largest ? (isUnsigned ? arith::CmpIPredicate::ugt
                              : arith::CmpIPredicate::sgt)
                : (isUnsigned ? arith::CmpIPredicate::ult
                              : arith::CmpIPredicate::slt);
    return arith::CmpIOp::create(nb, nl, predicate, x, y);
  };
  auto equal = [&](OpBuilder &nb, Location nl, Value x, Value y) -> Value {
    if (isFloat)
      return arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, x, y);
    return arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, x, y);
  };
  SmallVector<Value> values, indices;
  for (int64_t round = 0; round < k; ++round) {
    Value zeroValue = createFilled(
        b, loc, layout.outSizes,
        cast<TypedAttr>(isFloat ? Attribute(b.getFloatAttr(elementType, 0))
                                : Attribute(b.getIntegerAttr(elementType, 0))));
    // Index -1: nothing picked yet this round.
    Value noIndex =
        createFilled(b, loc, layout.outSizes, b.getI64IntegerAttr(-1));
    SmallVector<Value> ins = {input};
    SmallVector<AffineMap> maps = {layout.inMap};
    if (round > 0) {
      ins.append({values.back(), indices.back()});
      maps.append({layout.outMap, layout.outMap});
    }
    maps.append({layout.outMap, layout.outMap});
    bool first = round == 0;
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{zeroValue.getType(), noIndex.getType()}, ins,
        ValueRange{zeroValue, noIndex}, maps, layout.iterators,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value x = args[0];
          Value best = args[first ? 1 : 3], bestIndex = args[first ? 2 : 4];
          Value i = arith::IndexCastOp::create(
              nb, nl, nb.getI64Type(),
              linalg::IndexOp::create(nb, nl, axisDim));
          Value none = arith::CmpIOp::create(
              nb, nl, arith::CmpIPredicate::slt, bestIndex,
              arith::ConstantIntOp::create(nb, nl, 0, 64));
          // Strictly better keeps the lower index among equal elements.
          Value take =
              arith::OrIOp::create(nb, nl, none, before(nb, nl, x, best));
          if (!first) {
            Value previous = args[1], previousIndex = args[2];
            Value after = arith::OrIOp::create(
                nb, nl, before(nb, nl, previous, x),
                arith::AndIOp::create(
                    nb, nl, equal(nb, nl, x, previous),
                    arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sgt, i,
                                          previousIndex)));
            take = arith::AndIOp::create(nb, nl, take, after);
          }
          linalg::YieldOp::create(
              nb, nl,
              ValueRange{arith::SelectOp::create(nb, nl, take, x, best),
                         arith::SelectOp::create(nb, nl, take, i, bestIndex)});
        });
    values.push_back(generic.getResult(0));
    indices.push_back(generic.getResult(1));
  }
  auto concat = [&](ArrayRef<Value> parts) -> Value {
    if (parts.size() == 1)
      return parts.front();
    return tensor::ConcatOp::create(b, loc, axisDim, parts);
  };
  ctx.setResult(0, concat(values), isUnsigned);
  if (ctx.hasOutput(1))
    ctx.setResult(1, concat(indices));
  return success();
}

/// Hardmax: 1 at the first maximum along `axis`, 0 elsewhere. Before opset
/// 13 the maximum is over every axis from `axis` on (getSoftmaxAxes): those
/// are collapsed into one, and the result expanded back.
LogicalResult importHardmax(NodeContext &ctx) {
  FailureOr<SmallVector<int64_t>> axes = getSoftmaxAxes(ctx);
  if (failed(axes))
    return failure();
  RankedTensorType inputType = ctx.getInputType(0);
  Type elementType = inputType.getElementType();
  if (inputType.getRank() == 0 || !isa<FloatType, IntegerType>(elementType))
    return ctx.emitError() << "expects an input of rank 1 or more";
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Value input = ctx.getInput(0);
  SmallVector<OpFoldResult> inputSizes = getSizes(b, loc, input);
  SmallVector<ReassociationIndices> groups;
  int64_t axis = axes->front();
  for (int64_t d = 0; d < axis; ++d)
    groups.push_back({d});
  groups.push_back(ReassociationIndices(axes->begin(), axes->end()));
  if (axes->size() > 1)
    input = tensor::CollapseShapeOp::create(b, loc, input, groups);
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getDimSize(axis) == 0)
    return ctx.emitError() << "cannot reduce an empty axis";
  int64_t rank = type.getRank();
  Value index =
      buildArgExtremeOf(ctx, input, axis, /*keepDims=*/true, /*isMax=*/true,
                        /*last=*/false, ctx.isUnsignedInput(0));
  ReductionLayout layout = getReductionLayout(b, loc, input, {axis}, true);
  Value init = tensor::EmptyOp::create(b, loc, getSizes(b, loc, input),
                                       type.getElementType());
  SmallVector<AffineMap> maps = {layout.outMap, layout.inMap};
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{index}, ValueRange{init},
      maps,
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value position = arith::IndexCastOp::create(
            nb, nl, nb.getI64Type(), linalg::IndexOp::create(nb, nl, axis));
        Value hot = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq,
                                          args[0], position);
        Type elementType = args[1].getType();
        linalg::YieldOp::create(
            nb, nl,
            ValueRange{arith::SelectOp::create(
                nb, nl, hot, scalarConstant(nb, nl, elementType, 1),
                scalarConstant(nb, nl, elementType, 0))});
      });
  Value result = generic.getResult(0);
  if (axes->size() > 1)
    result = tensor::ExpandShapeOp::create(b, loc, inputType, result, groups,
                                           inputSizes);
  ctx.setResult(0, result, ctx.isUnsignedInput(0));
  return success();
}

} // namespace

void onnx_import::registerReductionOps(OpRegistry &r) {
  r["ReduceSum"] = reduceOp(Reduction::Sum);
  r["ReduceMean"] = reduceOp(Reduction::Mean);
  r["ReduceMax"] = reduceOp(Reduction::Max);
  r["ReduceMin"] = reduceOp(Reduction::Min);
  r["ReduceProd"] = reduceOp(Reduction::Prod);
  r["ReduceSumSquare"] = reduceOp(Reduction::Sum, square);
  r["ReduceL1"] = reduceOp(Reduction::Sum, absolute);
  r["ReduceL2"] = reduceOp(Reduction::Sum, square, squareRoot);
  r["ReduceLogSum"] = reduceOp(Reduction::Sum, nullptr, logarithm);
  r["ReduceLogSumExp"] = importReduceLogSumExp;
  r["ArgMax"] = argExtreme(true);
  r["ArgMin"] = argExtreme(false);
  r["Hardmax"] = importHardmax;
  r["TopK"] = importTopK;
  r["Softmax"] = softmax(false);
  r["LogSoftmax"] = softmax(true);
}
