//===- Builders.cpp - IR building blocks for ONNX op handlers -------------===//

#include "Builders.h"

#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx_import;

FailureOr<SmallVector<int64_t>>
onnx_import::broadcastShapes(NodeContext &ctx,
                             ArrayRef<ArrayRef<int64_t>> shapes) {
  size_t rank = 0;
  for (ArrayRef<int64_t> shape : shapes)
    rank = std::max(rank, shape.size());
  SmallVector<int64_t> result(rank, 1);
  for (size_t d = 0; d < rank; ++d) {
    bool sawDynamic = false;
    int64_t staticSize = 1;
    for (ArrayRef<int64_t> shape : shapes) {
      if (d + shape.size() < rank)
        continue;
      int64_t size = shape[d + shape.size() - rank];
      if (ShapedType::isDynamic(size)) {
        sawDynamic = true;
        continue;
      }
      if (size == 1)
        continue;
      if (staticSize != 1 && staticSize != size) {
        InFlightDiagnostic diag = ctx.emitError();
        diag << "cannot broadcast shapes";
        for (ArrayRef<int64_t> s : shapes) {
          diag << " [";
          llvm::interleaveComma(s, diag, [&](int64_t v) {
            if (ShapedType::isDynamic(v))
              diag << "?";
            else
              diag << v;
          });
          diag << "]";
        }
        return failure();
      }
      staticSize = size;
    }
    result[d] =
        staticSize != 1 || !sawDynamic ? staticSize : ShapedType::kDynamic;
  }
  return result;
}

SmallVector<OpFoldResult> onnx_import::getSizes(OpBuilder &b, Location loc,
                                                Value value) {
  return tensor::getMixedSizes(b, loc, value);
}

Value onnx_import::createFilled(OpBuilder &b, Location loc,
                                ArrayRef<OpFoldResult> sizes, TypedAttr fill) {
  Value empty = tensor::EmptyOp::create(b, loc, sizes, fill.getType());
  Value scalar = arith::ConstantOp::create(b, loc, fill);
  return linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
}

FailureOr<Value> onnx_import::buildElementwise(NodeContext &ctx,
                                               ArrayRef<Value> inputs,
                                               Type resultElementType,
                                               BodyFn body) {
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value input : inputs)
    shapes.push_back(cast<RankedTensorType>(input.getType()).getShape());
  FailureOr<SmallVector<int64_t>> outShape = broadcastShapes(ctx, shapes);
  if (failed(outShape))
    return failure();
  int64_t rank = outShape->size();
  MLIRContext *context = b.getContext();

  SmallVector<AffineMap> maps;
  for (Value input : inputs) {
    ArrayRef<int64_t> shape =
        cast<RankedTensorType>(input.getType()).getShape();
    int64_t offset = rank - shape.size();
    SmallVector<AffineExpr> exprs;
    for (auto [j, size] : llvm::enumerate(shape)) {
      int64_t d = j + offset;
      bool broadcast = size == 1 && (*outShape)[d] != 1;
      exprs.push_back(broadcast ? getAffineConstantExpr(0, context)
                                : getAffineDimExpr(d, context));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, context));
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, context));

  // Dynamic result sizes come from an input that is not broadcast there.
  SmallVector<Value> dynamicSizes;
  for (int64_t d = 0; d < rank; ++d) {
    if (!ShapedType::isDynamic((*outShape)[d]))
      continue;
    for (Value input : inputs) {
      ArrayRef<int64_t> shape =
          cast<RankedTensorType>(input.getType()).getShape();
      int64_t j = d - (rank - static_cast<int64_t>(shape.size()));
      if (j >= 0 && ShapedType::isDynamic(shape[j])) {
        dynamicSizes.push_back(tensor::DimOp::create(b, loc, input, j));
        break;
      }
    }
  }
  auto resultType = RankedTensorType::get(*outShape, resultElementType);
  Value init = tensor::EmptyOp::create(b, loc, resultType, dynamicSizes);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps,
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = body(nested, nestedLoc, args.drop_back());
        linalg::YieldOp::create(nested, nestedLoc, ValueRange{result});
      });
  return generic.getResult(0);
}

ReductionLayout onnx_import::getReductionLayout(OpBuilder &b, Location loc,
                                                Value input,
                                                ArrayRef<int64_t> axes,
                                                bool keepDims) {
  int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
  MLIRContext *context = b.getContext();
  llvm::SmallDenseSet<int64_t> reduced(axes.begin(), axes.end());
  ReductionLayout layout;
  SmallVector<AffineExpr> outExprs;
  SmallVector<OpFoldResult> inSizes = getSizes(b, loc, input);
  for (int64_t d = 0; d < rank; ++d) {
    if (reduced.contains(d)) {
      layout.iterators.push_back(utils::IteratorType::reduction);
      if (keepDims) {
        outExprs.push_back(getAffineConstantExpr(0, context));
        layout.outSizes.push_back(b.getIndexAttr(1));
      }
      continue;
    }
    layout.iterators.push_back(utils::IteratorType::parallel);
    outExprs.push_back(getAffineDimExpr(d, context));
    layout.outSizes.push_back(inSizes[d]);
  }
  layout.inMap = AffineMap::getMultiDimIdentityMap(rank, context);
  layout.outMap = AffineMap::get(rank, 0, outExprs, context);
  return layout;
}

Value onnx_import::buildReduction(OpBuilder &b, Location loc, Value input,
                                  ArrayRef<int64_t> axes, bool keepDims,
                                  TypedAttr init, BodyFn combine) {
  ReductionLayout layout = getReductionLayout(b, loc, input, axes, keepDims);
  Value filled = createFilled(b, loc, layout.outSizes, init);
  SmallVector<AffineMap> maps = {layout.inMap, layout.outMap};
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{filled.getType()}, ValueRange{input},
      ValueRange{filled}, maps, layout.iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = combine(nested, nestedLoc, args);
        linalg::YieldOp::create(nested, nestedLoc, ValueRange{result});
      });
  return generic.getResult(0);
}

Value onnx_import::buildMean(NodeContext &ctx, Value input,
                             ArrayRef<int64_t> axes, bool keepDims) {
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  Type type = cast<RankedTensorType>(input.getType()).getElementType();
  Value sum = buildReduction(
      b, loc, input, axes, keepDims, cast<TypedAttr>(b.getFloatAttr(type, 0.0)),
      [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        return arith::AddFOp::create(nb, nl, args[1], args[0]);
      });
  OpFoldResult count = b.getIndexAttr(1);
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, input);
  for (int64_t axis : axes)
    count = mulIndex(b, loc, count, sizes[axis]);
  Value countValue = arith::SIToFPOp::create(
      b, loc, type,
      arith::IndexCastOp::create(
          b, loc, b.getI64Type(),
          getValueOrCreateConstantIndexOp(b, loc, count)));
  // One operand, so broadcasting cannot fail.
  return *buildElementwise(
      ctx, {sum}, type, [&](OpBuilder &nb, Location nl, ValueRange args) {
        return arith::DivFOp::create(nb, nl, args[0], countValue).getResult();
      });
}

Value onnx_import::buildGenerated(
    OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes, Type elementType,
    function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> element) {
  int64_t rank = sizes.size();
  Value init = tensor::EmptyOp::create(b, loc, sizes, elementType);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init},
      ArrayRef<AffineMap>{
          AffineMap::getMultiDimIdentityMap(rank, b.getContext())},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange) {
        SmallVector<Value> indices;
        for (int64_t d = 0; d < rank; ++d)
          indices.push_back(linalg::IndexOp::create(nb, nl, d));
        Value value = element(nb, nl, indices);
        linalg::YieldOp::create(nb, nl, ValueRange{value});
      });
  return generic.getResult(0);
}

Value onnx_import::scalarConstant(OpBuilder &b, Location loc, Type type,
                                  double value) {
  if (isa<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
  return arith::ConstantOp::create(
      b, loc, b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

std::optional<HostTensor>
onnx_import::foldElementwise(ArrayRef<const HostTensor *> inputs,
                             Type resultElementType,
                             function_ref<int64_t(ArrayRef<int64_t>)> intFn,
                             function_ref<double(ArrayRef<double>)> floatFn) {
  size_t rank = 0;
  for (const HostTensor *input : inputs) {
    if (!input)
      return std::nullopt;
    rank = std::max(rank, input->shape.size());
  }
  SmallVector<int64_t> shape(rank, 1);
  for (const HostTensor *input : inputs)
    for (auto [j, size] : llvm::enumerate(input->shape)) {
      int64_t &out = shape[j + rank - input->shape.size()];
      if (size != 1) {
        if (out != 1 && out != size)
          return std::nullopt;
        out = size;
      }
    }
  int64_t count = getNumElements(shape);
  if (count > kMaxHostElements)
    return std::nullopt;
  bool useFloat =
      llvm::any_of(inputs, [](const HostTensor *t) { return t->isFloat(); });
  HostTensor result;
  result.shape = shape;
  result.elementType = resultElementType;
  SmallVector<int64_t> index(rank, 0);
  SmallVector<int64_t> intArgs(inputs.size());
  SmallVector<double> floatArgs(inputs.size());
  for (int64_t linear = 0; linear < count; ++linear) {
    // Row-major index of this element, then each input's element.
    int64_t rest = linear;
    for (int64_t d = rank - 1; d >= 0; --d) {
      index[d] = rest % shape[d];
      rest /= shape[d];
    }
    for (auto [k, input] : llvm::enumerate(inputs)) {
      int64_t offset = 0;
      size_t inRank = input->shape.size();
      for (size_t j = 0; j < inRank; ++j) {
        int64_t size = input->shape[j];
        offset = offset * size + (size == 1 ? 0 : index[j + rank - inRank]);
      }
      intArgs[k] = input->getInt(offset);
      floatArgs[k] = input->getDouble(offset);
    }
    if (useFloat) {
      double v = floatFn(floatArgs);
      if (isa<FloatType>(resultElementType))
        result.floats.push_back(v);
      else
        result.ints.push_back(static_cast<int64_t>(v));
    } else {
      int64_t v = intFn(intArgs);
      if (isa<FloatType>(resultElementType))
        result.floats.push_back(static_cast<double>(v));
      else
        result.ints.push_back(v);
    }
  }
  return result;
}

std::optional<SmallVector<int64_t>>
onnx_import::getConstantInts(const HostTensor *tensor) {
  if (!tensor || tensor->isFloat())
    return std::nullopt;
  return SmallVector<int64_t>(tensor->ints.begin(), tensor->ints.end());
}

HostTensor onnx_import::makeI64Tensor(MLIRContext *ctx, ArrayRef<int64_t> shape,
                                      ArrayRef<int64_t> values) {
  HostTensor tensor;
  tensor.shape.assign(shape.begin(), shape.end());
  tensor.elementType = IntegerType::get(ctx, 64);
  tensor.ints.assign(values.begin(), values.end());
  return tensor;
}

namespace {
OpFoldResult
indexBinary(OpBuilder &b, Location loc, OpFoldResult x, OpFoldResult y,
            function_ref<std::optional<int64_t>(int64_t, int64_t)> fold,
            function_ref<Value(Value, Value)> build) {
  std::optional<int64_t> cx = getConstantIntValue(x),
                         cy = getConstantIntValue(y);
  if (cx && cy)
    if (std::optional<int64_t> v = fold(*cx, *cy))
      return b.getIndexAttr(*v);
  return build(getValueOrCreateConstantIndexOp(b, loc, x),
               getValueOrCreateConstantIndexOp(b, loc, y));
}
} // namespace

OpFoldResult onnx_import::addIndex(OpBuilder &b, Location loc, OpFoldResult x,
                                   OpFoldResult y) {
  if (isConstantIntValue(y, 0))
    return x;
  return indexBinary(
      b, loc, x, y,
      [](int64_t p, int64_t q) -> std::optional<int64_t> {
        int64_t r;
        if (__builtin_add_overflow(p, q, &r))
          return std::nullopt;
        return r;
      },
      [&](Value p, Value q) -> Value {
        return arith::AddIOp::create(b, loc, p, q);
      });
}

OpFoldResult onnx_import::subIndex(OpBuilder &b, Location loc, OpFoldResult x,
                                   OpFoldResult y) {
  if (isConstantIntValue(y, 0))
    return x;
  return indexBinary(
      b, loc, x, y,
      [](int64_t p, int64_t q) -> std::optional<int64_t> {
        int64_t r;
        if (__builtin_sub_overflow(p, q, &r))
          return std::nullopt;
        return r;
      },
      [&](Value p, Value q) -> Value {
        return arith::SubIOp::create(b, loc, p, q);
      });
}

OpFoldResult onnx_import::mulIndex(OpBuilder &b, Location loc, OpFoldResult x,
                                   OpFoldResult y) {
  if (isConstantIntValue(y, 1))
    return x;
  if (isConstantIntValue(x, 1))
    return y;
  return indexBinary(
      b, loc, x, y,
      [](int64_t p, int64_t q) -> std::optional<int64_t> {
        int64_t r;
        if (__builtin_mul_overflow(p, q, &r))
          return std::nullopt;
        return r;
      },
      [&](Value p, Value q) -> Value {
        return arith::MulIOp::create(b, loc, p, q);
      });
}

OpFoldResult onnx_import::divIndex(OpBuilder &b, Location loc, OpFoldResult x,
                                   OpFoldResult y) {
  if (isConstantIntValue(y, 1))
    return x;
  return indexBinary(
      b, loc, x, y,
      [](int64_t p, int64_t q) -> std::optional<int64_t> {
        if (q == 0 || (p == INT64_MIN && q == -1))
          return std::nullopt;
        return p / q;
      },
      [&](Value p, Value q) -> Value {
        return arith::DivSIOp::create(b, loc, p, q);
      });
}

OpFoldResult onnx_import::ceilDivIndex(OpBuilder &b, Location loc,
                                       OpFoldResult x, OpFoldResult y) {
  if (isConstantIntValue(y, 1))
    return x;
  return indexBinary(
      b, loc, x, y,
      [](int64_t p, int64_t q) -> std::optional<int64_t> {
        if (q == 0 || (p == INT64_MIN && q == -1))
          return std::nullopt;
        return p / q + ((p % q != 0) && ((p < 0) == (q < 0)) ? 1 : 0);
      },
      [&](Value p, Value q) -> Value {
        return arith::CeilDivSIOp::create(b, loc, p, q);
      });
}

OpFoldResult onnx_import::minIndex(OpBuilder &b, Location loc, OpFoldResult x,
                                   OpFoldResult y) {
  return indexBinary(
      b, loc, x, y,
      [](int64_t p, int64_t q) -> std::optional<int64_t> {
        return std::min(p, q);
      },
      [&](Value p, Value q) -> Value {
        return arith::MinSIOp::create(b, loc, p, q);
      });
}

OpFoldResult onnx_import::maxIndex(OpBuilder &b, Location loc, OpFoldResult x,
                                   OpFoldResult y) {
  return indexBinary(
      b, loc, x, y,
      [](int64_t p, int64_t q) -> std::optional<int64_t> {
        return std::max(p, q);
      },
      [&](Value p, Value q) -> Value {
        return arith::MaxSIOp::create(b, loc, p, q);
      });
}

SmallVector<int64_t> onnx_import::getStaticShape(ArrayRef<OpFoldResult> sizes) {
  SmallVector<int64_t> shape;
  for (OpFoldResult size : sizes)
    shape.push_back(getConstantIntValue(size).value_or(ShapedType::kDynamic));
  return shape;
}

Value onnx_import::toIndex(OpBuilder &b, Location loc, Value scalar,
                           Value dimSize) {
  Value index =
      scalar.getType().isIndex()
          ? scalar
          : arith::IndexCastOp::create(b, loc, b.getIndexType(), scalar)
                .getResult();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value negative =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, index, zero);
  Value wrapped = arith::AddIOp::create(b, loc, index, dimSize);
  return arith::SelectOp::create(b, loc, negative, wrapped, index);
}

void onnx_import::emitCheck(NodeContext &ctx, Value condition,
                            const Twine &what, ValueRange values) {
  OpBuilder &b = ctx.getBuilder();
  std::string node = "node";
  if (auto name = dyn_cast<NameLoc>(ctx.getLoc()))
    node += " '" + name.getName().str() + "'";
  qopt::CheckOp::create(
      b, ctx.getLoc(), condition,
      b.getStringAttr(node + " (" + ctx.getOpType() + "): " + what), values);
}

void onnx_import::checkIndicesInRange(NodeContext &ctx, Value indices,
                                      OpFoldResult size) {
  OpBuilder &b = ctx.getBuilder();
  Location loc = ctx.getLoc();
  auto type = cast<RankedTensorType>(indices.getType());
  auto intType = dyn_cast<IntegerType>(type.getElementType());
  if (!intType)
    return;
  unsigned width = intType.getWidth();
  Type i64 = b.getI64Type();
  auto extreme = [&](bool max) -> Value {
    Value result = indices;
    if (type.getRank() > 0) {
      // Starts from the other end, so that no indices leave the range empty
      // and the check holds.
      APInt init = max ? APInt::getSignedMinValue(width)
                       : APInt::getSignedMaxValue(width);
      result = buildReduction(
          b, loc, indices, llvm::to_vector(llvm::seq<int64_t>(type.getRank())),
          /*keepDims=*/false, b.getIntegerAttr(intType, init),
          [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
            if (max)
              return arith::MaxSIOp::create(nb, nl, args[1], args[0]);
            return arith::MinSIOp::create(nb, nl, args[1], args[0]);
          });
    }
    Value scalar = tensor::ExtractOp::create(b, loc, result, ValueRange());
    if (width < 64)
      scalar = arith::ExtSIOp::create(b, loc, i64, scalar);
    return scalar;
  };
  Value lowest = extreme(false), highest = extreme(true);
  Value n = arith::IndexCastOp::create(
      b, loc, i64, getValueOrCreateConstantIndexOp(b, loc, size));
  Value zero = arith::ConstantIntOp::create(b, loc, i64, 0);
  Value minusN = arith::SubIOp::create(b, loc, zero, n);
  Value ok = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, lowest, minusN),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, highest, n));
  emitCheck(ctx, ok,
            "indices range from {0} to {1}, outside [-{2}, {2}) of the "
            "dimension they index",
            ValueRange{lowest, highest, n});
}
