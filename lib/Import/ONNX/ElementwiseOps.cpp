//===- ElementwiseOps.cpp - ONNX elementwise ops --------------------------===//
//
// Unary, binary (numpy broadcasting), comparison, logical, Where and Cast.
// Each becomes one linalg.generic; on small constants (shape arithmetic) the
// op is evaluated at import time instead.
//
//===----------------------------------------------------------------------===//

#include "Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx_import;

namespace {

using ScalarFn = std::function<Value(OpBuilder &, Location, ValueRange)>;
using IntFold = std::function<int64_t(ArrayRef<int64_t>)>;
using FloatFold = std::function<double(ArrayRef<double>)>;

/// Shape tensors computed from dynamic dimensions are evaluated element by
/// element on index values; `IntFold` gives the semantics, this builds the
/// run-time part.
using IndexFn = std::function<Value(OpBuilder &, Location, ArrayRef<Value>)>;

/// Applies an op to the elements of shape-tracked inputs (sizes equal or 1).
bool tryShapeElementwise(NodeContext &ctx, ArrayRef<unsigned> inputs,
                         Type resultType, const IntFold &intFold,
                         const IndexFn &indexFn) {
  if (!intFold || !indexFn || !isa<IntegerType>(resultType))
    return false;
  SmallVector<SmallVector<OpFoldResult>> operands;
  bool anyDynamic = false;
  size_t size = 1, rank = 0;
  for (unsigned i : inputs) {
    std::optional<SmallVector<OpFoldResult>> elements = ctx.getShapeElements(i);
    if (!elements || isa<FloatType>(ctx.getInputType(i).getElementType()))
      return false;
    anyDynamic |= llvm::any_of(
        *elements, [](OpFoldResult e) { return !getConstantIntValue(e); });
    rank = std::max<size_t>(rank, ctx.getInputType(i).getRank());
    if (elements->size() != 1) {
      if (size != 1 && size != elements->size())
        return false;
      size = elements->size();
    }
    operands.push_back(std::move(*elements));
  }
  if (!anyDynamic)
    return false;
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  SmallVector<OpFoldResult> results;
  for (size_t k = 0; k < size; ++k) {
    SmallVector<int64_t> known;
    SmallVector<OpFoldResult> args;
    for (auto &operand : operands) {
      OpFoldResult arg = operand[operand.size() == 1 ? 0 : k];
      args.push_back(arg);
      if (std::optional<int64_t> v = getConstantIntValue(arg))
        known.push_back(*v);
    }
    if (known.size() == args.size()) {
      results.push_back(b.getIndexAttr(intFold(known)));
      continue;
    }
    SmallVector<Value> values;
    for (OpFoldResult arg : args)
      values.push_back(getValueOrCreateConstantIndexOp(b, loc, arg));
    results.push_back(indexFn(b, loc, values));
  }
  SmallVector<int64_t> shape;
  if (rank == 1)
    shape.push_back(size);
  ctx.setShapeResult(0, results, RankedTensorType::get(shape, resultType));
  return true;
}

Value boolToIndex(OpBuilder &b, Location loc, Value flag) {
  return arith::SelectOp::create(b, loc, flag,
                                 arith::ConstantIndexOp::create(b, loc, 1),
                                 arith::ConstantIndexOp::create(b, loc, 0));
}

Value indexToBool(OpBuilder &b, Location loc, Value value) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, value,
                               arith::ConstantIndexOp::create(b, loc, 0));
}

/// Operands of these ops must share one element type.
LogicalResult checkSameElementTypes(NodeContext &ctx, unsigned first,
                                    unsigned count) {
  Type type = ctx.getInputType(first).getElementType();
  for (unsigned i = first + 1; i < first + count; ++i)
    if (ctx.getInputType(i).getElementType() != type)
      return ctx.emitError() << "input " << i << " has element type "
                             << ctx.getInputType(i).getElementType()
                             << ", input " << first << " has " << type;
  return success();
}

/// All inputs of a variadic op (Max, Min, Sum, Mean), all of one element
/// type. The importer has checked that there is at least one and that none
/// is omitted.
FailureOr<SmallVector<unsigned>> getVariadicInputs(NodeContext &ctx) {
  unsigned n = ctx.getNumInputs();
  if (failed(checkSameElementTypes(ctx, 0, n)))
    return failure();
  return llvm::to_vector(llvm::seq<unsigned>(0, n));
}

/// Shared driver: fold on constants, else one elementwise generic.
LogicalResult importElementwise(NodeContext &ctx, ArrayRef<unsigned> inputs,
                                Type resultType, bool resultUnsigned,
                                const ScalarFn &build, const IntFold &intFold,
                                const FloatFold &floatFold,
                                const IndexFn &indexFn = nullptr) {
  if (tryShapeElementwise(ctx, inputs, resultType, intFold, indexFn))
    return success();
  if (intFold || floatFold) {
    SmallVector<const HostTensor *> constants;
    for (unsigned i : inputs)
      constants.push_back(ctx.getConstantInput(i));
    bool canFold = llvm::all_of(
        constants, [](const HostTensor *t) { return t != nullptr; });
    bool anyFloat = canFold && llvm::any_of(constants, [](const HostTensor *t) {
                      return t->isFloat();
                    });
    if (canFold && ((anyFloat && floatFold) || (!anyFloat && intFold))) {
      auto noInt = [](ArrayRef<int64_t>) -> int64_t { return 0; };
      auto noFloat = [](ArrayRef<double>) -> double { return 0; };
      std::optional<HostTensor> folded = foldElementwise(
          constants, resultType,
          intFold ? function_ref<int64_t(ArrayRef<int64_t>)>(intFold)
                  : function_ref<int64_t(ArrayRef<int64_t>)>(noInt),
          floatFold ? function_ref<double(ArrayRef<double>)>(floatFold)
                    : function_ref<double(ArrayRef<double>)>(noFloat));
      if (folded) {
        ctx.setConstantResult(0, std::move(*folded));
        return success();
      }
    }
  }
  SmallVector<Value> values;
  for (unsigned i : inputs)
    values.push_back(ctx.getInput(i));
  FailureOr<Value> result =
      buildElementwise(ctx, values, resultType,
                       [&](OpBuilder &b, Location loc, ValueRange args) {
                         return build(b, loc, args);
                       });
  if (failed(result))
    return failure();
  ctx.setResult(0, *result, resultUnsigned);
  return success();
}

/// Binary arithmetic on operands of one type.
OpHandler binaryArith(
    std::function<Value(OpBuilder &, Location, Value, Value, bool)> build,
    IntFold intFold, FloatFold floatFold) {
  return [=](NodeContext &ctx) -> LogicalResult {
    if (failed(checkSameElementTypes(ctx, 0, 2)))
      return failure();
    bool isUnsigned = ctx.isUnsignedInput(0);
    return importElementwise(
        ctx, {0, 1}, ctx.getInputType(0).getElementType(), isUnsigned,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return build(b, loc, args[0], args[1], isUnsigned);
        },
        intFold, floatFold,
        [&](OpBuilder &b, Location loc, ArrayRef<Value> args) {
          return build(b, loc, args[0], args[1], isUnsigned);
        });
  };
}

template <typename FloatOp, typename SignedOp, typename UnsignedOp>
Value arithOp(OpBuilder &b, Location loc, Value lhs, Value rhs,
              bool isUnsigned) {
  if (isa<FloatType>(lhs.getType()))
    return FloatOp::create(b, loc, lhs, rhs);
  if (isUnsigned)
    return UnsignedOp::create(b, loc, lhs, rhs);
  return SignedOp::create(b, loc, lhs, rhs);
}

/// Comparisons produce i1.
OpHandler comparison(arith::CmpFPredicate floatPredicate,
                     arith::CmpIPredicate signedPredicate,
                     arith::CmpIPredicate unsignedPredicate, IntFold intFold,
                     FloatFold floatFold) {
  return [=](NodeContext &ctx) -> LogicalResult {
    if (failed(checkSameElementTypes(ctx, 0, 2)))
      return failure();
    bool isUnsigned = ctx.isUnsignedInput(0);
    return importElementwise(
        ctx, {0, 1}, IntegerType::get(ctx.getContext(), 1), false,
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          if (isa<FloatType>(args[0].getType()))
            return arith::CmpFOp::create(b, loc, floatPredicate, args[0],
                                         args[1]);
          return arith::CmpIOp::create(
              b, loc, isUnsigned ? unsignedPredicate : signedPredicate, args[0],
              args[1]);
        },
        intFold, floatFold,
        [&](OpBuilder &b, Location loc, ArrayRef<Value> args) {
          return boolToIndex(
              b, loc,
              arith::CmpIOp::create(b, loc, signedPredicate, args[0], args[1]));
        });
  };
}

/// Unary float op (math dialect or composed).
OpHandler unaryFloat(std::function<Value(OpBuilder &, Location, Value)> build,
                     FloatFold floatFold = nullptr) {
  return [=](NodeContext &ctx) -> LogicalResult {
    Type type = ctx.getInputType(0).getElementType();
    if (!isa<FloatType>(type))
      return ctx.emitError() << "expects a float input, got " << type;
    return importElementwise(
        ctx, {0}, type, false,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return build(b, loc, args[0]);
        },
        nullptr, floatFold);
  };
}

Value constantLike(OpBuilder &b, Location loc, Value like, double value) {
  return scalarConstant(b, loc, like.getType(), value);
}

/// max(x, lo) then min(., hi), NaN-propagating for floats.
Value clamp(OpBuilder &b, Location loc, Value x, Value lo, Value hi) {
  if (isa<FloatType>(x.getType())) {
    if (lo)
      x = arith::MaximumFOp::create(b, loc, x, lo);
    if (hi)
      x = arith::MinimumFOp::create(b, loc, x, hi);
    return x;
  }
  if (lo)
    x = arith::MaxSIOp::create(b, loc, x, lo);
  if (hi)
    x = arith::MinSIOp::create(b, loc, x, hi);
  return x;
}

/// Cast of input 0 to `toType` (unsigned when `toUnsigned`).
LogicalResult importCastTo(NodeContext &ctx, Type toType, bool toUnsigned) {
  bool fromUnsigned = ctx.isUnsignedInput(0);
  Type fromType = ctx.getInputType(0).getElementType();
  const HostTensor *constant = ctx.getConstantInput(0);
  bool toFloat = isa<FloatType>(toType);
  // Shapes cast between integer types keep their tracked elements.
  if (!constant && isa<IntegerType>(toType) && !toType.isInteger(1) &&
      isa<IntegerType>(fromType)) {
    if (std::optional<SmallVector<OpFoldResult>> elements =
            ctx.getShapeElements(0)) {
      ctx.setShapeResult(
          0, *elements,
          RankedTensorType::get(ctx.getInputType(0).getShape(), toType));
      return success();
    }
  }
  if (constant && !isa<Float8E4M3FNType, Float8E4M3FNUZType, Float8E5M2Type,
                       Float8E5M2FNUZType>(toType)) {
    HostTensor result;
    result.shape = constant->shape;
    result.elementType = toType;
    for (int64_t i = 0, e = constant->getNumElements(); i < e; ++i) {
      if (toFloat) {
        result.floats.push_back(constant->getDouble(i));
      } else if (toType.isInteger(1)) {
        result.ints.push_back(constant->getDouble(i) != 0);
      } else {
        // Float to integer truncates toward zero, then wraps to the width.
        int64_t v = constant->isFloat()
                        ? static_cast<int64_t>(std::trunc(constant->floats[i]))
                        : constant->ints[i];
        unsigned width = toType.getIntOrFloatBitWidth();
        APInt bits(64, static_cast<uint64_t>(v), /*isSigned=*/true);
        bits = bits.trunc(width);
        result.ints.push_back(toUnsigned ? bits.getZExtValue()
                                         : bits.getSExtValue());
      }
    }
    ctx.setConstantResult(0, std::move(result));
    return success();
  }
  Value input = ctx.getInput(0);
  if (fromType == toType) {
    ctx.setResult(0, input, toUnsigned);
    return success();
  }
  // Cast-19 and CastLike-19: saturate (the default) clamps values beyond
  // the largest finite float8 value, infinities included, to it; NaN stays
  // NaN. Without it they overflow as arith.truncf does (to infinity in
  // f8E5M2, NaN in the others). Rounding comes first in ONNX, but clamping
  // first is the same: whatever exceeds the largest value rounds to it or
  // beyond.
  bool saturate = isa<Float8E4M3FNType, Float8E4M3FNUZType, Float8E5M2Type,
                      Float8E5M2FNUZType>(toType) &&
                  ctx.getIntAttr("saturate", 1) != 0;
  FailureOr<Value> result = buildElementwise(
      ctx, {input}, toType, [&](OpBuilder &b, Location loc, ValueRange args) {
        if (!saturate)
          return convertScalar(b, loc, args[0], toType, fromUnsigned,
                               toUnsigned);
        FloatType f32 = b.getF32Type();
        Value x = convertScalar(b, loc, args[0], f32, fromUnsigned, false);
        double max =
            APFloat::getLargest(cast<FloatType>(toType).getFloatSemantics())
                .convertToDouble();
        Value hi = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(max));
        Value lo = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(-max));
        x = arith::MinimumFOp::create(b, loc, x, hi);
        x = arith::MaximumFOp::create(b, loc, x, lo);
        return arith::TruncFOp::create(b, loc, toType, x).getResult();
      });
  if (failed(result))
    return failure();
  ctx.setResult(0, *result, toUnsigned);
  return success();
}

LogicalResult importCast(NodeContext &ctx) {
  bool toUnsigned;
  int64_t to = ctx.getIntAttr("to", 0);
  Type toType = convertONNXElementType(ctx.getContext(), to, toUnsigned);
  if (!toType)
    return ctx.emitError() << "cannot cast to " << getONNXTypeName(to);
  return importCastTo(ctx, toType, toUnsigned);
}

/// CastLike: Cast to the element type of input 1, whose values are unused.
LogicalResult importCastLike(NodeContext &ctx) {
  return importCastTo(ctx, ctx.getInputType(1).getElementType(),
                      ctx.isUnsignedInput(1));
}

} // namespace

/// numpy's legacy `np.random.seed(seed); np.random.uniform(0, 1, n)`:
/// MT19937 seeded by init_genrand, each double made of two 32-bit draws
/// (27 + 26 bits). ONNX's reference Dropout draws its mask this way, so a
/// training-mode Dropout with the same seed drops the same elements.
static std::vector<double> numpyUniform(uint32_t seed, int64_t count) {
  constexpr int kN = 624, kM = 397;
  std::vector<uint32_t> mt(kN);
  mt[0] = seed;
  for (int i = 1; i < kN; ++i)
    mt[i] = 1812433253u * (mt[i - 1] ^ (mt[i - 1] >> 30)) + i;
  int pos = kN;
  auto next = [&]() -> uint32_t {
    if (pos == kN) {
      // In place: past kN - kM the twist reads words it already renewed,
      // as the reference implementation does.
      for (int k = 0; k < kN; ++k) {
        uint32_t y = (mt[k] & 0x80000000u) | (mt[(k + 1) % kN] & 0x7fffffffu);
        mt[k] = mt[(k + kM) % kN] ^ (y >> 1) ^ ((y & 1) ? 0x9908b0dfu : 0u);
      }
      pos = 0;
    }
    uint32_t y = mt[pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
  };
  std::vector<double> values(count);
  for (double &v : values) {
    uint32_t a = next() >> 5, b = next() >> 6;
    v = (a * 67108864.0 + b) / 9007199254740992.0;
  }
  return values;
}

/// Dropout. In inference (training_mode absent or false) it is the identity
/// with an all-true mask. In training mode the mask is drawn at compile time
/// from the op's `seed` (0 when absent) with numpy's generator, as ONNX's
/// reference does: element i is kept when u[i] >= ratio and scaled by
/// 1 / (1 - ratio). The mask is the same on every run of the artifact.
static LogicalResult importDropout(NodeContext &ctx) {
  if (failed(ctx.requireAtMostOutputs(2)))
    return failure();
  bool training = false;
  if (ctx.hasInput(2)) {
    const HostTensor *mode = ctx.getConstantInput(2);
    if (!mode || mode->getNumElements() != 1)
      return ctx.emitError() << "training_mode must be a constant scalar";
    training = mode->getInt(0) != 0;
  }
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  if (!training) {
    // In inference every element is kept: the mask is all true (before
    // opset 10, all ones of the input's type).
    if (ctx.hasOutput(1)) {
      Type xType = ctx.getInputType(0).getElementType();
      TypedAttr one =
          ctx.getOpset() < 10
              ? (isa<FloatType>(xType) ? TypedAttr(b.getFloatAttr(xType, 1.0))
                                       : TypedAttr(b.getIntegerAttr(xType, 1)))
              : TypedAttr(b.getBoolAttr(true));
      ctx.setResult(
          1, createFilled(b, loc, getSizes(b, loc, ctx.getInput(0)), one));
    }
    ctx.forwardInput(0, 0);
    return success();
  }

  RankedTensorType xType = ctx.getInputType(0);
  auto elementType = dyn_cast<FloatType>(xType.getElementType());
  if (!elementType)
    return ctx.emitError() << "training-mode Dropout needs a float input";
  if (!xType.hasStaticShape())
    return ctx.emitError() << "training-mode Dropout needs a static input "
                              "shape (its mask is drawn at compile time)";
  constexpr int64_t kMaxMaskElements = int64_t(1) << 24;
  if (xType.getNumElements() > kMaxMaskElements)
    return ctx.emitError() << "training-mode Dropout input has "
                           << xType.getNumElements()
                           << " elements; masks drawn at compile time are "
                              "limited to "
                           << kMaxMaskElements;
  int64_t seed = ctx.getIntAttr("seed", 0);
  if (seed < 0 || seed > int64_t(UINT32_MAX))
    return ctx.emitError() << "seed " << seed
                           << " is outside [0, 2^32 - 1], numpy's seed range";
  bool hasRatio = ctx.hasInput(1);
  if (hasRatio) {
    RankedTensorType ratioType = ctx.getInputType(1);
    if (ratioType.getRank() != 0 || !isa<FloatType>(ratioType.getElementType()))
      return ctx.emitError() << "ratio must be a float scalar";
    if (const HostTensor *ratio = ctx.getConstantInput(1)) {
      double r = ratio->getDouble(0);
      if (!(r >= 0 && r < 1))
        return ctx.emitError() << "ratio " << r << " is outside [0, 1)";
    }
  }

  std::vector<double> draws = numpyUniform(seed, xType.getNumElements());
  auto drawsType = RankedTensorType::get(xType.getShape(), b.getF64Type());
  Value uniform = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(drawsType, ArrayRef<double>(draws)));
  // A missing ratio is 0.5 (an f32 scalar, like the usual input).
  Value ratio = hasRatio ? ctx.getInput(1)
                         : arith::ConstantOp::create(
                               b, loc,
                               DenseElementsAttr::get(
                                   RankedTensorType::get({}, b.getF32Type()),
                                   b.getF32FloatAttr(0.5)));
  FailureOr<Value> mask = buildElementwise(
      ctx, {uniform, ratio}, b.getI1Type(),
      [](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
        Value r =
            convertScalar(nb, nloc, args[1], nb.getF64Type(), false, false);
        return arith::CmpFOp::create(nb, nloc, arith::CmpFPredicate::OGE,
                                     args[0], r);
      });
  if (failed(mask))
    return failure();
  FailureOr<Value> y = buildElementwise(
      ctx, {ctx.getInput(0), *mask, ratio}, elementType,
      [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
        // The scale in the ratio's precision, as the reference computes it.
        Value r = args[2];
        Value one = scalarConstant(nb, nloc, r.getType(), 1.0);
        Value scale = arith::DivFOp::create(
            nb, nloc, one, arith::SubFOp::create(nb, nloc, one, r));
        scale = convertScalar(nb, nloc, scale, elementType, false, false);
        Value scaled = arith::MulFOp::create(nb, nloc, args[0], scale);
        Value zero = scalarConstant(nb, nloc, elementType, 0.0);
        return arith::SelectOp::create(nb, nloc, args[1], scaled, zero);
      });
  if (failed(y))
    return failure();
  if (ctx.hasOutput(1))
    ctx.setResult(1, *mask);
  ctx.setResult(0, *y);
  return success();
}

void onnx_import::registerElementwiseOps(OpRegistry &r) {
  using P = arith::CmpFPredicate;
  using I = arith::CmpIPredicate;
  r["Add"] = binaryArith(
      arithOp<arith::AddFOp, arith::AddIOp, arith::AddIOp>,
      [](ArrayRef<int64_t> a) { return a[0] + a[1]; },
      [](ArrayRef<double> a) { return a[0] + a[1]; });
  r["Sub"] = binaryArith(
      arithOp<arith::SubFOp, arith::SubIOp, arith::SubIOp>,
      [](ArrayRef<int64_t> a) { return a[0] - a[1]; },
      [](ArrayRef<double> a) { return a[0] - a[1]; });
  r["Mul"] = binaryArith(
      arithOp<arith::MulFOp, arith::MulIOp, arith::MulIOp>,
      [](ArrayRef<int64_t> a) { return a[0] * a[1]; },
      [](ArrayRef<double> a) { return a[0] * a[1]; });
  r["Div"] = binaryArith(
      arithOp<arith::DivFOp, arith::DivSIOp, arith::DivUIOp>,
      [](ArrayRef<int64_t> a) { return a[1] == 0 ? 0 : a[0] / a[1]; },
      [](ArrayRef<double> a) { return a[0] / a[1]; });
  auto minMax = [](bool isMax) -> OpHandler {
    return [isMax](NodeContext &ctx) -> LogicalResult {
      FailureOr<SmallVector<unsigned>> inputs = getVariadicInputs(ctx);
      if (failed(inputs))
        return failure();
      bool isUnsigned = ctx.isUnsignedInput(0);
      return importElementwise(
          ctx, *inputs, ctx.getInputType(0).getElementType(), isUnsigned,
          [&](OpBuilder &b, Location loc, ValueRange args) {
            Value acc = args[0];
            for (Value v : args.drop_front()) {
              if (isa<FloatType>(acc.getType()))
                acc =
                    isMax
                        ? arith::MaximumFOp::create(b, loc, acc, v).getResult()
                        : arith::MinimumFOp::create(b, loc, acc, v).getResult();
              else if (isUnsigned)
                acc = isMax
                          ? arith::MaxUIOp::create(b, loc, acc, v).getResult()
                          : arith::MinUIOp::create(b, loc, acc, v).getResult();
              else
                acc = isMax
                          ? arith::MaxSIOp::create(b, loc, acc, v).getResult()
                          : arith::MinSIOp::create(b, loc, acc, v).getResult();
            }
            return acc;
          },
          [isMax](ArrayRef<int64_t> a) {
            return isMax ? *llvm::max_element(a) : *llvm::min_element(a);
          },
          [isMax](ArrayRef<double> a) {
            return isMax ? *llvm::max_element(a) : *llvm::min_element(a);
          },
          [isMax](OpBuilder &b, Location loc, ArrayRef<Value> args) {
            Value acc = args[0];
            for (Value v : args.drop_front())
              acc = isMax ? arith::MaxSIOp::create(b, loc, acc, v).getResult()
                          : arith::MinSIOp::create(b, loc, acc, v).getResult();
            return acc;
          });
    };
  };
  r["Max"] = minMax(true);
  r["Min"] = minMax(false);
  // Sum and Mean of any number of broadcast inputs.
  auto sumMean = [](bool isMean) -> OpHandler {
    return [isMean](NodeContext &ctx) -> LogicalResult {
      FailureOr<SmallVector<unsigned>> inputs = getVariadicInputs(ctx);
      if (failed(inputs))
        return failure();
      Type type = ctx.getInputType(0).getElementType();
      if (!isa<FloatType>(type))
        return ctx.emitError() << "expects float inputs, got " << type;
      unsigned n = inputs->size();
      return importElementwise(
          ctx, *inputs, type, false,
          [&](OpBuilder &b, Location loc, ValueRange args) {
            Value acc = args[0];
            for (Value v : args.drop_front())
              acc = arith::AddFOp::create(b, loc, acc, v);
            if (isMean)
              acc = arith::DivFOp::create(b, loc, acc,
                                          constantLike(b, loc, acc, n));
            return acc;
          },
          nullptr, nullptr);
    };
  };
  r["Sum"] = sumMean(false);
  r["Mean"] = sumMean(true);
  // Mod: with fmod=0 the result takes the divisor's sign (Python's %),
  // integers only; with fmod=1 the dividend's (C's fmod).
  r["Mod"] = [](NodeContext &ctx) -> LogicalResult {
    if (failed(checkSameElementTypes(ctx, 0, 2)))
      return failure();
    Type type = ctx.getInputType(0).getElementType();
    bool fmod = ctx.getIntAttr("fmod", 0) != 0;
    bool isFloat = isa<FloatType>(type);
    if (isFloat && !fmod)
      return ctx.emitError() << "fmod must be 1 for float inputs";
    bool isUnsigned = ctx.isUnsignedInput(0);
    return importElementwise(
        ctx, {0, 1}, type, isUnsigned,
        [=](OpBuilder &b, Location loc, ValueRange args) -> Value {
          Value x = args[0], y = args[1];
          if (isFloat)
            return arith::RemFOp::create(b, loc, x, y);
          if (isUnsigned)
            return arith::RemUIOp::create(b, loc, x, y);
          Value rem = arith::RemSIOp::create(b, loc, x, y);
          if (fmod)
            return rem;
          // A nonzero remainder whose sign differs from the divisor's moves
          // by one divisor.
          Value zero = constantLike(b, loc, x, 0);
          Value nonzero = arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::ne, rem, zero);
          Value signsDiffer = arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::slt,
              arith::XOrIOp::create(b, loc, rem, y), zero);
          Value adjust = arith::AndIOp::create(b, loc, nonzero, signsDiffer);
          return arith::SelectOp::create(
              b, loc, adjust, arith::AddIOp::create(b, loc, rem, y), rem);
        },
        nullptr, nullptr);
  };
  r["Pow"] = [](NodeContext &ctx) -> LogicalResult {
    Type baseType = ctx.getInputType(0).getElementType();
    Type expType = ctx.getInputType(1).getElementType();
    bool expUnsigned = ctx.isUnsignedInput(1);
    return importElementwise(
        ctx, {0, 1}, baseType, ctx.isUnsignedInput(0),
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          Value base = args[0], exp = args[1];
          if (isa<FloatType>(baseType)) {
            // x^2 is common (variance in norms): keep it a multiply.
            exp = convertScalar(b, loc, exp, baseType, expUnsigned, false);
            return math::PowFOp::create(b, loc, base, exp);
          }
          exp = convertScalar(b, loc, exp, baseType, expUnsigned, false);
          return math::IPowIOp::create(b, loc, base, exp);
        },
        nullptr, [](ArrayRef<double> a) { return std::pow(a[0], a[1]); });
    (void)expType;
  };
  r["Equal"] = comparison(
      P::OEQ, I::eq, I::eq,
      [](ArrayRef<int64_t> a) -> int64_t { return a[0] == a[1]; },
      [](ArrayRef<double> a) -> double { return a[0] == a[1]; });
  r["Less"] = comparison(
      P::OLT, I::slt, I::ult,
      [](ArrayRef<int64_t> a) -> int64_t { return a[0] < a[1]; },
      [](ArrayRef<double> a) -> double { return a[0] < a[1]; });
  r["LessOrEqual"] = comparison(
      P::OLE, I::sle, I::ule,
      [](ArrayRef<int64_t> a) -> int64_t { return a[0] <= a[1]; },
      [](ArrayRef<double> a) -> double { return a[0] <= a[1]; });
  r["Greater"] = comparison(
      P::OGT, I::sgt, I::ugt,
      [](ArrayRef<int64_t> a) -> int64_t { return a[0] > a[1]; },
      [](ArrayRef<double> a) -> double { return a[0] > a[1]; });
  r["GreaterOrEqual"] = comparison(
      P::OGE, I::sge, I::uge,
      [](ArrayRef<int64_t> a) -> int64_t { return a[0] >= a[1]; },
      [](ArrayRef<double> a) -> double { return a[0] >= a[1]; });
  auto logical = [](auto build, IntFold fold) -> OpHandler {
    return [=](NodeContext &ctx) -> LogicalResult {
      for (unsigned i = 0; i < 2; ++i)
        if (!ctx.getInputType(i).getElementType().isInteger(1))
          return ctx.emitError() << "expects bool inputs";
      return importElementwise(
          ctx, {0, 1}, IntegerType::get(ctx.getContext(), 1), false,
          [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
            return build(b, loc, args[0], args[1]);
          },
          fold, nullptr);
    };
  };
  r["And"] = logical(
      [](OpBuilder &b, Location loc, Value x, Value y) -> Value {
        return arith::AndIOp::create(b, loc, x, y);
      },
      [](ArrayRef<int64_t> a) -> int64_t { return a[0] && a[1]; });
  r["Or"] = logical(
      [](OpBuilder &b, Location loc, Value x, Value y) -> Value {
        return arith::OrIOp::create(b, loc, x, y);
      },
      [](ArrayRef<int64_t> a) -> int64_t { return a[0] || a[1]; });
  r["Xor"] = logical(
      [](OpBuilder &b, Location loc, Value x, Value y) -> Value {
        return arith::XOrIOp::create(b, loc, x, y);
      },
      [](ArrayRef<int64_t> a) -> int64_t {
        return (a[0] != 0) != (a[1] != 0);
      });
  r["Not"] = [](NodeContext &ctx) -> LogicalResult {
    if (!ctx.getInputType(0).getElementType().isInteger(1))
      return ctx.emitError() << "expects a bool input";
    return importElementwise(
        ctx, {0}, IntegerType::get(ctx.getContext(), 1), false,
        [](OpBuilder &b, Location loc, ValueRange args) -> Value {
          Value one = arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
          return arith::XOrIOp::create(b, loc, args[0], one);
        },
        [](ArrayRef<int64_t> a) -> int64_t { return !a[0]; }, nullptr);
  };
  r["Where"] = [](NodeContext &ctx) -> LogicalResult {
    if (!ctx.getInputType(0).getElementType().isInteger(1))
      return ctx.emitError() << "condition must be bool";
    if (failed(checkSameElementTypes(ctx, 1, 2)))
      return failure();
    return importElementwise(
        ctx, {0, 1, 2}, ctx.getInputType(1).getElementType(),
        ctx.isUnsignedInput(1),
        [](OpBuilder &b, Location loc, ValueRange args) -> Value {
          return arith::SelectOp::create(b, loc, args[0], args[1], args[2]);
        },
        [](ArrayRef<int64_t> a) { return a[0] ? a[1] : a[2]; },
        [](ArrayRef<double> a) { return a[0] != 0 ? a[1] : a[2]; },
        [](OpBuilder &b, Location loc, ArrayRef<Value> args) -> Value {
          return arith::SelectOp::create(b, loc, indexToBool(b, loc, args[0]),
                                         args[1], args[2]);
        });
  };
  r["Neg"] = [](NodeContext &ctx) -> LogicalResult {
    return importElementwise(
        ctx, {0}, ctx.getInputType(0).getElementType(), false,
        [](OpBuilder &b, Location loc, ValueRange args) -> Value {
          if (isa<FloatType>(args[0].getType()))
            return arith::NegFOp::create(b, loc, args[0]);
          Value zero = constantLike(b, loc, args[0], 0);
          return arith::SubIOp::create(b, loc, zero, args[0]);
        },
        [](ArrayRef<int64_t> a) { return -a[0]; },
        [](ArrayRef<double> a) { return -a[0]; });
  };
  r["Abs"] = [](NodeContext &ctx) -> LogicalResult {
    return importElementwise(
        ctx, {0}, ctx.getInputType(0).getElementType(), ctx.isUnsignedInput(0),
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          if (isa<FloatType>(args[0].getType()))
            return math::AbsFOp::create(b, loc, args[0]);
          if (ctx.isUnsignedInput(0))
            return args[0];
          return math::AbsIOp::create(b, loc, args[0]);
        },
        [](ArrayRef<int64_t> a) { return a[0] < 0 ? -a[0] : a[0]; },
        [](ArrayRef<double> a) { return std::fabs(a[0]); });
  };
  r["Relu"] = [](NodeContext &ctx) -> LogicalResult {
    return importElementwise(
        ctx, {0}, ctx.getInputType(0).getElementType(), ctx.isUnsignedInput(0),
        [](OpBuilder &b, Location loc, ValueRange args) -> Value {
          return clamp(b, loc, args[0], constantLike(b, loc, args[0], 0), {});
        },
        nullptr, nullptr);
  };
  r["Sqrt"] = unaryFloat(
      [](OpBuilder &b, Location loc, Value x) -> Value {
        return math::SqrtOp::create(b, loc, x);
      },
      [](ArrayRef<double> a) { return std::sqrt(a[0]); });
  r["Reciprocal"] =
      unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
        return arith::DivFOp::create(b, loc, constantLike(b, loc, x, 1), x);
      });
  r["Exp"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::ExpOp::create(b, loc, x);
  });
  r["Log"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::LogOp::create(b, loc, x);
  });
  r["Tanh"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::TanhOp::create(b, loc, x);
  });
  r["Erf"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::ErfOp::create(b, loc, x);
  });
  r["Cos"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::CosOp::create(b, loc, x);
  });
  r["Sin"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::SinOp::create(b, loc, x);
  });
  r["Floor"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::FloorOp::create(b, loc, x);
  });
  r["Ceil"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::CeilOp::create(b, loc, x);
  });
  r["Tan"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::TanOp::create(b, loc, x);
  });
  r["Asin"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::AsinOp::create(b, loc, x);
  });
  r["Acos"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::AcosOp::create(b, loc, x);
  });
  r["Atan"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::AtanOp::create(b, loc, x);
  });
  r["Sinh"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::SinhOp::create(b, loc, x);
  });
  r["Cosh"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::CoshOp::create(b, loc, x);
  });
  r["Asinh"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::AsinhOp::create(b, loc, x);
  });
  r["Acosh"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::AcoshOp::create(b, loc, x);
  });
  r["Atanh"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::AtanhOp::create(b, loc, x);
  });
  // Round half to even, as numpy and ONNX do.
  r["Round"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    return math::RoundEvenOp::create(b, loc, x);
  });
  // max(x, 0) + log(1 + e^-|x|): the same function as log(1 + e^x), but
  // e^x overflows to +inf for x > 88 in f32 where the result is just x.
  r["Softplus"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    Value negAbs =
        arith::NegFOp::create(b, loc, math::AbsFOp::create(b, loc, x));
    Value tail =
        math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, negAbs));
    Value positive =
        arith::MaximumFOp::create(b, loc, x, constantLike(b, loc, x, 0));
    return arith::AddFOp::create(b, loc, positive, tail);
  });
  r["Softsign"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    Value denominator = arith::AddFOp::create(
        b, loc, constantLike(b, loc, x, 1), math::AbsFOp::create(b, loc, x));
    return arith::DivFOp::create(b, loc, x, denominator);
  });
  // alpha (e^x - 1) below zero, x above.
  auto expLinear = [](OpBuilder &b, Location loc, Value x, double alpha,
                      double gamma) -> Value {
    Value zero = constantLike(b, loc, x, 0);
    Value negative =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, x, zero);
    Value below = arith::MulFOp::create(b, loc, constantLike(b, loc, x, alpha),
                                        math::ExpM1Op::create(b, loc, x));
    Value y = arith::SelectOp::create(b, loc, negative, below, x);
    if (gamma == 1)
      return y;
    return arith::MulFOp::create(b, loc, constantLike(b, loc, x, gamma), y);
  };
  r["Elu"] = [=](NodeContext &ctx) -> LogicalResult {
    double alpha = ctx.getFloatAttr("alpha", 1.0f);
    return unaryFloat([=](OpBuilder &b, Location loc, Value x) {
      return expLinear(b, loc, x, alpha, 1);
    })(ctx);
  };
  r["Selu"] = [=](NodeContext &ctx) -> LogicalResult {
    double alpha = ctx.getFloatAttr("alpha", 1.67326319217681884765625f);
    double gamma = ctx.getFloatAttr("gamma", 1.05070102214813232421875f);
    return unaryFloat([=](OpBuilder &b, Location loc, Value x) {
      return expLinear(b, loc, x, alpha, gamma);
    })(ctx);
  };
  // max(0, x) + min(0, alpha (e^(x / alpha) - 1)).
  r["Celu"] = [](NodeContext &ctx) -> LogicalResult {
    double alpha = ctx.getFloatAttr("alpha", 1.0f);
    return unaryFloat([=](OpBuilder &b, Location loc, Value x) -> Value {
      Value zero = constantLike(b, loc, x, 0);
      Value a = constantLike(b, loc, x, alpha);
      Value e = arith::MulFOp::create(
          b, loc, a,
          math::ExpM1Op::create(b, loc, arith::DivFOp::create(b, loc, x, a)));
      return arith::AddFOp::create(b, loc,
                                   arith::MaximumFOp::create(b, loc, zero, x),
                                   arith::MinimumFOp::create(b, loc, zero, e));
    })(ctx);
  };
  r["ThresholdedRelu"] = [](NodeContext &ctx) -> LogicalResult {
    double alpha = ctx.getFloatAttr("alpha", 1.0f);
    return unaryFloat([=](OpBuilder &b, Location loc, Value x) -> Value {
      Value above = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x,
                                          constantLike(b, loc, x, alpha));
      return arith::SelectOp::create(b, loc, above, x,
                                     constantLike(b, loc, x, 0));
    })(ctx);
  };
  r["Shrink"] = [](NodeContext &ctx) -> LogicalResult {
    double bias = ctx.getFloatAttr("bias", 0.0f);
    double lambd = ctx.getFloatAttr("lambd", 0.5f);
    return unaryFloat([=](OpBuilder &b, Location loc, Value x) -> Value {
      Value below = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x,
                                          constantLike(b, loc, x, -lambd));
      Value above = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x,
                                          constantLike(b, loc, x, lambd));
      Value zero = constantLike(b, loc, x, 0);
      Value plus =
          arith::AddFOp::create(b, loc, x, constantLike(b, loc, x, bias));
      Value minus =
          arith::SubFOp::create(b, loc, x, constantLike(b, loc, x, bias));
      return arith::SelectOp::create(
          b, loc, below, plus,
          arith::SelectOp::create(b, loc, above, minus, zero));
    })(ctx);
  };
  r["Sign"] = [](NodeContext &ctx) -> LogicalResult {
    bool isUnsigned = ctx.isUnsignedInput(0);
    return importElementwise(
        ctx, {0}, ctx.getInputType(0).getElementType(), isUnsigned,
        [=](OpBuilder &b, Location loc, ValueRange args) -> Value {
          Value x = args[0];
          Value zero = constantLike(b, loc, x, 0);
          Value one = constantLike(b, loc, x, 1);
          if (isa<FloatType>(x.getType())) {
            // copysign(1, x) for nonzero x; zero and NaN pass through.
            Value nonzero = arith::CmpFOp::create(
                b, loc, arith::CmpFPredicate::ONE, x, zero);
            return arith::SelectOp::create(
                b, loc, nonzero, math::CopySignOp::create(b, loc, one, x), x);
          }
          Value positive =
              arith::CmpIOp::create(b, loc,
                                    isUnsigned ? arith::CmpIPredicate::ugt
                                               : arith::CmpIPredicate::sgt,
                                    x, zero);
          Value result = arith::SelectOp::create(b, loc, positive, one, zero);
          if (isUnsigned)
            return result;
          Value negative =
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, zero);
          return arith::SelectOp::create(b, loc, negative,
                                         constantLike(b, loc, x, -1), result);
        },
        nullptr, nullptr);
  };
  r["IsInf"] = [](NodeContext &ctx) -> LogicalResult {
    if (!isa<FloatType>(ctx.getInputType(0).getElementType()))
      return ctx.emitError() << "expects a float input";
    bool negative = ctx.getIntAttr("detect_negative", 1) != 0;
    bool positive = ctx.getIntAttr("detect_positive", 1) != 0;
    return importElementwise(
        ctx, {0}, IntegerType::get(ctx.getContext(), 1), false,
        [=](OpBuilder &b, Location loc, ValueRange args) -> Value {
          Value x = args[0];
          Value inf = constantLike(b, loc, x, INFINITY);
          Value result =
              arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
          if (positive)
            result = arith::OrIOp::create(
                b, loc, result,
                arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x,
                                      inf));
          if (negative)
            result = arith::OrIOp::create(
                b, loc, result,
                arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x,
                                      arith::NegFOp::create(b, loc, inf)));
          return result;
        },
        nullptr, nullptr);
  };
  r["Sigmoid"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    Value one = constantLike(b, loc, x, 1);
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
    return arith::DivFOp::create(b, loc, one,
                                 arith::AddFOp::create(b, loc, one, e));
  });
  r["IsNaN"] = [](NodeContext &ctx) -> LogicalResult {
    return importElementwise(
        ctx, {0}, IntegerType::get(ctx.getContext(), 1), false,
        [](OpBuilder &b, Location loc, ValueRange args) -> Value {
          return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO,
                                       args[0], args[0]);
        },
        nullptr, nullptr);
  };
  r["Gelu"] = [](NodeContext &ctx) -> LogicalResult {
    std::string approximate = ctx.getStringAttr("approximate").value_or("none");
    if (approximate != "none" && approximate != "tanh")
      return ctx.emitError()
             << "unsupported approximate='" << approximate << "'";
    bool useTanh = approximate == "tanh";
    return unaryFloat([useTanh](OpBuilder &b, Location loc, Value x) -> Value {
      Value half = constantLike(b, loc, x, 0.5);
      Value one = constantLike(b, loc, x, 1);
      Value inner;
      if (useTanh) {
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        Value x3 = arith::MulFOp::create(b, loc, x,
                                         arith::MulFOp::create(b, loc, x, x));
        Value poly = arith::AddFOp::create(
            b, loc, x,
            arith::MulFOp::create(b, loc, constantLike(b, loc, x, 0.044715),
                                  x3));
        inner = math::TanhOp::create(
            b, loc,
            arith::MulFOp::create(
                b, loc, constantLike(b, loc, x, std::sqrt(2.0 / M_PI)), poly));
      } else {
        // 0.5 x (1 + erf(x / sqrt(2)))
        inner = math::ErfOp::create(
            b, loc,
            arith::MulFOp::create(b, loc, x,
                                  constantLike(b, loc, x, M_SQRT1_2)));
      }
      return arith::MulFOp::create(b, loc,
                                   arith::MulFOp::create(b, loc, half, x),
                                   arith::AddFOp::create(b, loc, one, inner));
    })(ctx);
  };
  r["LeakyRelu"] = [](NodeContext &ctx) -> LogicalResult {
    double alpha = ctx.getFloatAttr("alpha", 0.01f);
    return unaryFloat([alpha](OpBuilder &b, Location loc, Value x) -> Value {
      Value zero = constantLike(b, loc, x, 0);
      Value negative =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, zero);
      Value scaled =
          arith::MulFOp::create(b, loc, x, constantLike(b, loc, x, alpha));
      return arith::SelectOp::create(b, loc, negative, scaled, x);
    })(ctx);
  };
  r["HardSigmoid"] = [](NodeContext &ctx) -> LogicalResult {
    double alpha = ctx.getFloatAttr("alpha", 0.2f);
    double beta = ctx.getFloatAttr("beta", 0.5f);
    return unaryFloat([=](OpBuilder &b, Location loc, Value x) -> Value {
      Value y = arith::AddFOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, x, constantLike(b, loc, x, alpha)),
          constantLike(b, loc, x, beta));
      return clamp(b, loc, y, constantLike(b, loc, x, 0),
                   constantLike(b, loc, x, 1));
    })(ctx);
  };
  r["HardSwish"] = unaryFloat([](OpBuilder &b, Location loc, Value x) -> Value {
    Value y = arith::AddFOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, x, constantLike(b, loc, x, 1.0 / 6)),
        constantLike(b, loc, x, 0.5));
    y = clamp(b, loc, y, constantLike(b, loc, x, 0),
              constantLike(b, loc, x, 1));
    return arith::MulFOp::create(b, loc, x, y);
  });
  r["Clip"] = [](NodeContext &ctx) -> LogicalResult {
    if (ctx.getOpset() < 11) {
      // Clip-6: float attributes, whose defaults are the float range.
      Type elementType = ctx.getInputType(0).getElementType();
      if (!isa<FloatType>(elementType))
        return ctx.emitError() << "expects a float input, got " << elementType;
      const onnx::AttributeProto *minAttr = ctx.getAttr("min");
      const onnx::AttributeProto *maxAttr = ctx.getAttr("max");
      double lo = minAttr ? minAttr->f() : 0, hi = maxAttr ? maxAttr->f() : 0;
      return importElementwise(
          ctx, {0}, elementType, false,
          [=](OpBuilder &b, Location loc, ValueRange args) -> Value {
            Value x = args[0];
            return clamp(b, loc, x,
                         minAttr ? constantLike(b, loc, x, lo) : Value(),
                         maxAttr ? constantLike(b, loc, x, hi) : Value());
          },
          nullptr, nullptr);
    }
    // Opset >= 11: min and max are optional scalar inputs.
    SmallVector<unsigned> inputs = {0};
    bool hasMin = ctx.hasInput(1), hasMax = ctx.hasInput(2);
    if (hasMin)
      inputs.push_back(1);
    if (hasMax)
      inputs.push_back(2);
    for (unsigned i : ArrayRef<unsigned>(inputs).drop_front())
      if (ctx.getInputType(i).getRank() != 0)
        return ctx.emitError() << "min and max must be scalars";
    if (failed(checkSameElementTypes(ctx, 0, 1)))
      return failure();
    return importElementwise(
        ctx, inputs, ctx.getInputType(0).getElementType(),
        ctx.isUnsignedInput(0),
        [=](OpBuilder &b, Location loc, ValueRange args) -> Value {
          Value lo = hasMin ? args[1] : Value();
          Value hi = hasMax ? args[hasMin ? 2 : 1] : Value();
          return clamp(b, loc, args[0], lo, hi);
        },
        nullptr, nullptr);
  };
  r["Cast"] = importCast;
  r["CastLike"] = importCastLike;
  auto identity = [](NodeContext &ctx) -> LogicalResult {
    ctx.forwardInput(0, 0);
    return success();
  };
  r["Identity"] = identity;
  r["Dropout"] = importDropout;
}
