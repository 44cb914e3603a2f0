//===- ExpandQuantOps.cpp - qopt ops to linalg on tensors -----------------===//
//
// The reference lowering of every qopt compute op. It favours obviously
// correct linalg over speed: fused kernels for the linear ops belong to the
// code generators, which run before this pass (or with expand-linear=false).
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOpt.h"
#include "qopt/Dialect/QOpt/Transforms/Expansions.h"
#include "qopt/Dialect/QOpt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_EXPANDQUANTOPS
#include "qopt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {

//===----------------------------------------------------------------------===//
// Scalar helpers for generic bodies
//===----------------------------------------------------------------------===//

/// Casts compute in f32 (f64 for f64 tensors) whatever the tensor type, as
/// reference implementations do; f16/bf16 division loses whole steps.
FloatType getComputeType(Type elementType) {
  if (elementType.isF64())
    return Float64Type::get(elementType.getContext());
  return Float32Type::get(elementType.getContext());
}

Value convertFloat(OpBuilder &b, Location loc, Value value, FloatType to) {
  auto from = cast<FloatType>(value.getType());
  if (from == to)
    return value;
  if (from.getWidth() < to.getWidth())
    return arith::ExtFOp::create(b, loc, to, value);
  if (from.getWidth() > to.getWidth())
    return arith::TruncFOp::create(b, loc, to, value);
  // Same width, other format (f16 vs bf16): go through f32.
  Value wide = arith::ExtFOp::create(b, loc, b.getF32Type(), value);
  return arith::TruncFOp::create(b, loc, to, wide);
}

Value extendInt(OpBuilder &b, Location loc, Value value, IntegerType to,
                bool isSigned) {
  if (value.getType() == to)
    return value;
  if (isSigned)
    return arith::ExtSIOp::create(b, loc, to, value);
  return arith::ExtUIOp::create(b, loc, to, value);
}

void yield(OpBuilder &b, Location loc, Value value) {
  linalg::YieldOp::create(b, loc, ValueRange{value});
}

Value floatConstant(OpBuilder &b, Location loc, FloatType type, double v) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, v));
}

Value indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value i32Constant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
}

/// The storage value for float `x` under `scheme`.
Value emitQuantize(OpBuilder &b, Location loc, Value x, Value scale,
                   Value zeroPoint, SchemeAttr scheme) {
  FloatType compute = getComputeType(x.getType());
  Value value = arith::DivFOp::create(b, loc, convertFloat(b, loc, x, compute),
                                      convertFloat(b, loc, scale, compute));
  Value min = floatConstant(b, loc, compute, scheme.getStorageMin());
  Value max = floatConstant(b, loc, compute, scheme.getStorageMax());
  if (scheme.isFloatStorage()) {
    value = arith::MaximumFOp::create(b, loc, value, min);
    value = arith::MinimumFOp::create(b, loc, value, max);
    return arith::TruncFOp::create(b, loc, scheme.getStorage(), value);
  }
  // ONNX QuantizeLinear: round first, then add the zero point, then clamp.
  value = math::RoundEvenOp::create(b, loc, value);
  bool isSigned = scheme.isSignedStorage();
  if (zeroPoint) {
    Value zp =
        isSigned
            ? arith::SIToFPOp::create(b, loc, compute, zeroPoint).getResult()
            : arith::UIToFPOp::create(b, loc, compute, zeroPoint).getResult();
    value = arith::AddFOp::create(b, loc, value, zp);
  }
  value = arith::MaxNumFOp::create(b, loc, value, min);
  value = arith::MinNumFOp::create(b, loc, value, max);
  Type storage = scheme.getStorageElementType();
  if (isSigned)
    return arith::FPToSIOp::create(b, loc, storage, value);
  return arith::FPToUIOp::create(b, loc, storage, value);
}

/// The float value of storage `q` under `scheme`, as `resultType`.
Value emitDequantize(OpBuilder &b, Location loc, Value q, Value scale,
                     Value zeroPoint, SchemeAttr scheme, FloatType resultType) {
  FloatType compute = getComputeType(resultType);
  Value value;
  if (scheme.isFloatStorage()) {
    value = arith::ExtFOp::create(b, loc, compute, q);
  } else {
    bool isSigned = scheme.isSignedStorage();
    IntegerType i32 = b.getI32Type();
    Value wide = extendInt(b, loc, q, i32, isSigned);
    if (zeroPoint)
      wide = arith::SubIOp::create(b, loc, wide,
                                   extendInt(b, loc, zeroPoint, i32, isSigned));
    value = arith::SIToFPOp::create(b, loc, compute, wide);
  }
  value = arith::MulFOp::create(b, loc, value,
                                convertFloat(b, loc, scale, compute));
  return convertFloat(b, loc, value, resultType);
}

//===----------------------------------------------------------------------===//
// Shapes and indexing maps
//===----------------------------------------------------------------------===//

SmallVector<AffineExpr> getDims(unsigned count, MLIRContext *ctx) {
  SmallVector<AffineExpr> dims;
  for (unsigned i = 0; i < count; ++i)
    dims.push_back(getAffineDimExpr(i, ctx));
  return dims;
}

/// Where a scale/zero point lives for element (d0, ..., dr-1).
AffineMap getParamMap(SchemeAttr scheme, unsigned rank, MLIRContext *ctx) {
  SmallVector<AffineExpr> dims = getDims(rank, ctx);
  SmallVector<AffineExpr> results;
  switch (scheme.getGranularity()) {
  case Granularity::PerTensor:
    break;
  case Granularity::PerChannel:
    results.push_back(dims[*scheme.getAxis()]);
    break;
  case Granularity::PerGroup:
    results = dims;
    results[*scheme.getAxis()] =
        dims[*scheme.getAxis()].floorDiv(*scheme.getGroupSize());
    break;
  case Granularity::PerToken:
    results.assign(dims.begin(), dims.end() - 1);
    break;
  }
  return AffineMap::get(rank, 0, results, ctx);
}

SmallVector<utils::IteratorType> parallelIterators(unsigned count) {
  return SmallVector<utils::IteratorType>(count, utils::IteratorType::parallel);
}

/// Sizes of `like` with the innermost replaced by `innermost`.
SmallVector<OpFoldResult> sizesWithInnermost(OpBuilder &b, Location loc,
                                             Value like,
                                             OpFoldResult innermost) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, like);
  sizes.back() = innermost;
  return sizes;
}

//===----------------------------------------------------------------------===//
// Casts
//===----------------------------------------------------------------------===//

/// One elementwise linalg.generic for a quantize or dequantize.
template <typename OpTy> struct ExpandCast : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    constexpr bool isQuantize = std::is_same_v<OpTy, QuantizeOp>;
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    SchemeAttr scheme = op.getScheme();
    auto resultType = cast<RankedTensorType>(op.getType());
    unsigned rank = resultType.getRank();
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
    Value zeroPoint = op.getZeroPoint();
    Value actOrder = op.getActOrder();

    SmallVector<Value> inputs = {op.getInput()};
    SmallVector<AffineMap> maps = {identity};
    if (!actOrder) {
      AffineMap paramMap = getParamMap(scheme, rank, ctx);
      inputs.push_back(op.getScale());
      maps.push_back(paramMap);
      if (zeroPoint) {
        inputs.push_back(zeroPoint);
        maps.push_back(paramMap);
      }
    }
    maps.push_back(identity);
    Value init = tensor::EmptyOp::create(
        rewriter, loc, tensor::getMixedSizes(rewriter, loc, op.getInput()),
        resultType.getElementType());

    auto body = [&](OpBuilder &b, Location loc, ValueRange args) {
      Value scale, zp;
      if (!actOrder) {
        scale = args[1];
        zp = zeroPoint ? args[2] : Value();
      } else {
        // GPTQ act-order: the group is act_order[i] / group_size, a gather.
        int64_t axis = *scheme.getAxis();
        SmallVector<Value> indices;
        for (unsigned d = 0; d < rank; ++d)
          indices.push_back(linalg::IndexOp::create(b, loc, d));
        Value order =
            tensor::ExtractOp::create(b, loc, actOrder, indices[axis]);
        if (!order.getType().isIndex())
          order = arith::IndexCastOp::create(b, loc, b.getIndexType(), order);
        indices[axis] = arith::DivUIOp::create(
            b, loc, order, indexConstant(b, loc, *scheme.getGroupSize()));
        scale = tensor::ExtractOp::create(b, loc, op.getScale(), indices);
        if (zeroPoint)
          zp = tensor::ExtractOp::create(b, loc, zeroPoint, indices);
      }
      Value result;
      if constexpr (isQuantize)
        result = emitQuantize(b, loc, args[0], scale, zp, scheme);
      else
        result = emitDequantize(b, loc, args[0], scale, zp, scheme,
                                cast<FloatType>(resultType.getElementType()));
      yield(b, loc, result);
    };
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps,
        parallelIterators(rank), body);
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Packing
//===----------------------------------------------------------------------===//

/// Builds `resultType` from `input`, which differ only in the innermost
/// dimension (result = input * mul / div), with a linalg.generic whose body
/// computes each element from its indices and the input's innermost size.
/// Pack and unpack both gather bits from neighbouring elements, so the body
/// reads `input` with tensor.extract rather than through an indexing map.
Value buildRepacking(
    PatternRewriter &rewriter, Location loc, Value input,
    RankedTensorType resultType, int64_t mul, int64_t div,
    function_ref<Value(OpBuilder &, Location, ArrayRef<Value>, Value)>
        element) {
  unsigned rank = resultType.getRank();
  Value inputSize = tensor::DimOp::create(rewriter, loc, input, rank - 1);
  OpFoldResult resultSize =
      resultType.isDynamicDim(rank - 1)
          ? OpFoldResult(arith::DivUIOp::create(
                rewriter, loc,
                arith::MulIOp::create(rewriter, loc, inputSize,
                                      indexConstant(rewriter, loc, mul)),
                indexConstant(rewriter, loc, div)))
          : OpFoldResult(rewriter.getIndexAttr(resultType.getShape().back()));
  Value init = tensor::EmptyOp::create(
      rewriter, loc, sizesWithInnermost(rewriter, loc, input, resultSize),
      resultType.getElementType());
  AffineMap identity =
      AffineMap::getMultiDimIdentityMap(rank, rewriter.getContext());
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init},
      ArrayRef<AffineMap>{identity}, parallelIterators(rank),
      [&](OpBuilder &b, Location loc, ValueRange) {
        SmallVector<Value> indices;
        for (unsigned d = 0; d < rank; ++d)
          indices.push_back(linalg::IndexOp::create(b, loc, d));
        yield(b, loc, element(b, loc, indices, inputSize));
      });
  Value result = generic.getResult(0);
  if (result.getType() != resultType)
    result = tensor::CastOp::create(rewriter, loc, resultType, result);
  return result;
}

struct ExpandPack : public OpRewritePattern<PackOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PackOp op,
                                PatternRewriter &rewriter) const override {
    Value input = op.getInput();
    int64_t width = op.getInput().getType().getElementTypeBitWidth();
    // Byte j collects every value overlapping bits [8j, 8j + 8): at most
    // 7 / width + 2 of them, starting with value 8j / width.
    int64_t candidates = 7 / width + 2;
    auto element = [&](OpBuilder &b, Location loc, ArrayRef<Value> indices,
                       Value numValues) -> Value {
      Value byteBit = arith::MulIOp::create(b, loc, indices.back(),
                                            indexConstant(b, loc, 8));
      Value first =
          arith::DivUIOp::create(b, loc, byteBit, indexConstant(b, loc, width));
      Value acc = i32Constant(b, loc, 0);
      Value zeroIndex = indexConstant(b, loc, 0);
      Value zero32 = i32Constant(b, loc, 0);
      Value eight32 = i32Constant(b, loc, 8);
      for (int64_t t = 0; t < candidates; ++t) {
        Value e =
            arith::AddIOp::create(b, loc, first, indexConstant(b, loc, t));
        Value valid = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                            e, numValues);
        SmallVector<Value> at(indices);
        at.back() = arith::SelectOp::create(b, loc, valid, e, zeroIndex);
        Value v = tensor::ExtractOp::create(b, loc, input, at);
        v = arith::ExtUIOp::create(b, loc, b.getI32Type(), v);
        // Shift by (e * width - 8j) may be negative: shift left by 8 more,
        // then back right by 8.
        Value shift = arith::SubIOp::create(
            b, loc,
            arith::AddIOp::create(
                b, loc,
                arith::MulIOp::create(b, loc, e, indexConstant(b, loc, width)),
                indexConstant(b, loc, 8)),
            byteBit);
        shift = arith::IndexCastOp::create(b, loc, b.getI32Type(), shift);
        Value part = arith::ShRUIOp::create(
            b, loc, arith::ShLIOp::create(b, loc, v, shift), eight32);
        part = arith::SelectOp::create(b, loc, valid, part, zero32);
        acc = arith::OrIOp::create(b, loc, acc, part);
      }
      return arith::TruncIOp::create(b, loc, b.getI8Type(), acc);
    };
    rewriter.replaceOp(op, buildRepacking(rewriter, op.getLoc(), input,
                                          op.getType(), width, 8, element));
    return success();
  }
};

struct ExpandUnpack : public OpRewritePattern<UnpackOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(UnpackOp op,
                                PatternRewriter &rewriter) const override {
    Value input = op.getInput();
    Type elementType = op.getType().getElementType();
    int64_t width = op.getType().getElementTypeBitWidth();
    // Value e lives in bits [e*width, (e+1)*width) of the stream and so in
    // at most two neighbouring bytes.
    auto element = [&](OpBuilder &b, Location loc, ArrayRef<Value> indices,
                       Value numBytes) -> Value {
      Value bit = arith::MulIOp::create(b, loc, indices.back(),
                                        indexConstant(b, loc, width));
      Value lo = arith::DivUIOp::create(b, loc, bit, indexConstant(b, loc, 8));
      Value offset =
          arith::RemUIOp::create(b, loc, bit, indexConstant(b, loc, 8));
      Value one = indexConstant(b, loc, 1);
      // The clamp only kicks in for the last byte, whose value never spills.
      Value hi =
          arith::MinUIOp::create(b, loc, arith::AddIOp::create(b, loc, lo, one),
                                 arith::SubIOp::create(b, loc, numBytes, one));
      SmallVector<Value> at(indices);
      at.back() = lo;
      Value low = arith::ExtUIOp::create(
          b, loc, b.getI32Type(), tensor::ExtractOp::create(b, loc, input, at));
      at.back() = hi;
      Value high = arith::ExtUIOp::create(
          b, loc, b.getI32Type(), tensor::ExtractOp::create(b, loc, input, at));
      Value word = arith::OrIOp::create(
          b, loc, low,
          arith::ShLIOp::create(b, loc, high, i32Constant(b, loc, 8)));
      Value shifted = arith::ShRUIOp::create(
          b, loc, word,
          arith::IndexCastOp::create(b, loc, b.getI32Type(), offset));
      return arith::TruncIOp::create(b, loc, elementType, shifted);
    };
    rewriter.replaceOp(op, buildRepacking(rewriter, op.getLoc(), input,
                                          op.getType(), 8, width, element));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Smooth
//===----------------------------------------------------------------------===//

struct ExpandSmooth : public OpRewritePattern<SmoothOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SmoothOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    unsigned rank = op.getType().getRank();
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap channel =
        AffineMap::get(rank, 0, {getAffineDimExpr(rank - 1, ctx)}, ctx);
    Value init = tensor::EmptyOp::create(
        rewriter, loc, tensor::getMixedSizes(rewriter, loc, op.getInput()),
        op.getType().getElementType());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{op.getType()},
        ValueRange{op.getInput(), op.getScale()}, ValueRange{init},
        ArrayRef<AffineMap>{identity, channel, identity},
        parallelIterators(rank),
        [](OpBuilder &b, Location loc, ValueRange args) {
          yield(b, loc, arith::DivFOp::create(b, loc, args[0], args[1]));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Permute
//===----------------------------------------------------------------------===//

/// `y[..., j] = x[..., p[j]]`: the permutation becomes an i64 constant read
/// along the innermost loop, and each element is a `tensor.extract` of the
/// input at that index (the form of the importer's Gather, which the code
/// generators vectorize as a gather).
struct ExpandPermute : public OpRewritePattern<PermuteOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PermuteOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto type = cast<RankedTensorType>(op.getType());
    unsigned rank = type.getRank();
    ArrayRef<int64_t> permutation = op.getPermutation();
    auto indexType = RankedTensorType::get(
        {static_cast<int64_t>(permutation.size())}, rewriter.getI64Type());
    Value indices = arith::ConstantOp::create(
        rewriter, loc, DenseIntElementsAttr::get(indexType, permutation));
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap channel =
        AffineMap::get(rank, 0, {getAffineDimExpr(rank - 1, ctx)}, ctx);
    Value input = op.getInput();
    Value init = tensor::EmptyOp::create(
        rewriter, loc, tensor::getMixedSizes(rewriter, loc, input),
        type.getElementType());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{indices}, ValueRange{init},
        ArrayRef<AffineMap>{channel, identity}, parallelIterators(rank),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          SmallVector<Value> at;
          for (unsigned d = 0; d + 1 < rank; ++d)
            at.push_back(linalg::IndexOp::create(b, loc, d));
          at.push_back(
              arith::IndexCastOp::create(b, loc, b.getIndexType(), args[0]));
          yield(b, loc, tensor::ExtractOp::create(b, loc, input, at));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Linear ops
//===----------------------------------------------------------------------===//

/// `out[b..., n] = sum_k body(in[b..., k], w[n, k], extras...)` over inputs
/// `x` (rank r) and `weight` ([N, K]), starting from zero of `accType`.
/// `extraInputs` come with their own maps over the (b..., n, k) space.
Value buildContraction(
    OpBuilder &b, Location loc, Value x, Value weight, Type accType,
    ArrayRef<Value> extraInputs, ArrayRef<AffineMap> extraMaps,
    function_ref<Value(OpBuilder &, Location, ValueRange, Value)> body,
    bool weightIsKN = false) {
  MLIRContext *ctx = b.getContext();
  auto xType = cast<RankedTensorType>(x.getType());
  unsigned rank = xType.getRank();
  unsigned numLoops = rank + 1; // batch dims, n, k
  SmallVector<AffineExpr> dims = getDims(numLoops, ctx);
  AffineExpr n = dims[rank - 1], k = dims[rank];
  SmallVector<AffineExpr> xExprs(dims.begin(), dims.begin() + rank - 1);
  xExprs.push_back(k);
  SmallVector<AffineExpr> outExprs(dims.begin(), dims.begin() + rank);

  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, x);
  sizes.back() = tensor::getMixedSize(b, loc, weight, weightIsKN ? 1 : 0);
  Value empty = tensor::EmptyOp::create(b, loc, sizes, accType);
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(accType));
  Value init = linalg::FillOp::create(b, loc, zero, empty).getResult(0);

  SmallVector<Value> inputs = {x, weight};
  inputs.append(extraInputs.begin(), extraInputs.end());
  SmallVector<AffineMap> maps = {
      AffineMap::get(numLoops, 0, xExprs, ctx),
      weightIsKN ? AffineMap::get(numLoops, 0, {k, n}, ctx)
                 : AffineMap::get(numLoops, 0, {n, k}, ctx)};
  maps.append(extraMaps.begin(), extraMaps.end());
  maps.push_back(AffineMap::get(numLoops, 0, outExprs, ctx));
  SmallVector<utils::IteratorType> iterators = parallelIterators(numLoops);
  iterators.back() = utils::IteratorType::reduction;
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      iterators, [&](OpBuilder &b, Location loc, ValueRange args) {
        yield(b, loc, body(b, loc, args.drop_back(), args.back()));
      });
  return generic.getResult(0);
}

/// Unpacks a packed weight to its logical `[N, K]` storage tensor.
Value unpackWeight(OpBuilder &b, Location loc, Value weight,
                   RankedTensorType logicalType) {
  if (weight.getType() == logicalType)
    return weight;
  return UnpackOp::create(b, loc, logicalType, weight);
}

/// `y = x * W + bias`, broadcasting bias along the output channels.
Value addBias(OpBuilder &b, Location loc, Value y, Value bias) {
  MLIRContext *ctx = b.getContext();
  unsigned rank = cast<RankedTensorType>(y.getType()).getRank();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap channel =
      AffineMap::get(rank, 0, {getAffineDimExpr(rank - 1, ctx)}, ctx);
  return linalg::GenericOp::create(
             b, loc, TypeRange{y.getType()}, ValueRange{bias}, ValueRange{y},
             ArrayRef<AffineMap>{channel, identity}, parallelIterators(rank),
             [](OpBuilder &b, Location loc, ValueRange args) {
               yield(b, loc, arith::AddFOp::create(b, loc, args[1], args[0]));
             })
      .getResult(0);
}

Value floatMulAdd(OpBuilder &b, Location loc, ValueRange args, Value acc) {
  Value product = arith::MulFOp::create(b, loc, args[0], args[1]);
  return arith::AddFOp::create(b, loc, acc, product);
}

struct ExpandLinear : public OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value result =
        buildContraction(rewriter, loc, op.getInput(), op.getWeight(),
                         op.getType().getElementType(), {}, {}, floatMulAdd,
                         !op.getTransposeWeight());
    if (Value bias = op.getBias())
      result = addBias(rewriter, loc, result, bias);
    if (result.getType() != op.getType())
      result = tensor::CastOp::create(rewriter, loc, op.getType(), result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ExpandWeightOnlyLinear : public OpRewritePattern<WeightOnlyLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(WeightOnlyLinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType logical = op.getLogicalWeightType();
    Type elementType = op.getType().getElementType();
    Value storage = unpackWeight(rewriter, loc, op.getWeight(), logical);
    Value weight = DequantizeOp::create(
        rewriter, loc, RankedTensorType::get(logical.getShape(), elementType),
        storage, op.getScale(), op.getZeroPoint(), op.getActOrder(),
        op.getScheme());
    Value result = buildContraction(rewriter, loc, op.getInput(), weight,
                                    elementType, {}, {}, floatMulAdd);
    if (Value bias = op.getBias())
      result = addBias(rewriter, loc, result, bias);
    if (result.getType() != op.getType())
      result = tensor::CastOp::create(rewriter, loc, op.getType(), result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ExpandQuantizedLinear : public OpRewritePattern<QuantizedLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizedLinearOp op,
                                PatternRewriter &rewriter) const override {
    expandQuantizedLinear(rewriter, op);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Dynamic quantization
//===----------------------------------------------------------------------===//

struct ExpandDynamicQuantize : public OpRewritePattern<DynamicQuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DynamicQuantizeOp op,
                                PatternRewriter &rewriter) const override {
    expandDynamicQuantize(rewriter, op);
    return success();
  }
};

} // namespace

QuantizedLinearExpansion qopt::expandQuantizedLinear(RewriterBase &rewriter,
                                                     QuantizedLinearOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  SchemeAttr inputScheme = op.getInputScheme();
  SchemeAttr weightScheme = op.getWeightScheme();
  bool isFloat = inputScheme.isFloatStorage();
  unsigned rank = op.getType().getRank();
  Value weight =
      unpackWeight(rewriter, loc, op.getWeight(), op.getLogicalWeightType());

  // Parameter maps over the contraction space (b..., n, k) and over the
  // output space (b..., n).
  auto inputParamMap = [&](unsigned numLoops) {
    SmallVector<AffineExpr> dims = getDims(numLoops, ctx);
    SmallVector<AffineExpr> exprs;
    if (inputScheme.getGranularity() == Granularity::PerToken)
      exprs.assign(dims.begin(), dims.begin() + rank - 1);
    return AffineMap::get(numLoops, 0, exprs, ctx);
  };
  auto weightParamMap = [&](unsigned numLoops) {
    SmallVector<AffineExpr> exprs;
    if (weightScheme.getGranularity() == Granularity::PerChannel)
      exprs.push_back(getAffineDimExpr(rank - 1, ctx));
    return AffineMap::get(numLoops, 0, exprs, ctx);
  };

  SmallVector<Value> extras;
  SmallVector<AffineMap> extraMaps;
  Value inputZp = op.getInputZeroPoint(), weightZp = op.getWeightZeroPoint();
  if (inputZp) {
    extras.push_back(inputZp);
    extraMaps.push_back(inputParamMap(rank + 1));
  }
  if (weightZp) {
    extras.push_back(weightZp);
    extraMaps.push_back(weightParamMap(rank + 1));
  }
  Type accType =
      isFloat ? Type(rewriter.getF32Type()) : Type(rewriter.getI32Type());
  // Integer products are exact in i32; fp8 products are exact in f32.
  Value acc = buildContraction(
      rewriter, loc, op.getInput(), weight, accType, extras, extraMaps,
      [&](OpBuilder &b, Location loc, ValueRange args, Value acc) -> Value {
        if (isFloat) {
          Value x = arith::ExtFOp::create(b, loc, b.getF32Type(), args[0]);
          Value w = arith::ExtFOp::create(b, loc, b.getF32Type(), args[1]);
          return arith::AddFOp::create(b, loc, acc,
                                       arith::MulFOp::create(b, loc, x, w));
        }
        IntegerType i32 = b.getI32Type();
        Value x =
            extendInt(b, loc, args[0], i32, inputScheme.isSignedStorage());
        Value w =
            extendInt(b, loc, args[1], i32, weightScheme.isSignedStorage());
        unsigned next = 2;
        if (inputZp)
          x = arith::SubIOp::create(b, loc, x,
                                    extendInt(b, loc, args[next++], i32,
                                              inputScheme.isSignedStorage()));
        if (weightZp)
          w = arith::SubIOp::create(b, loc, w,
                                    extendInt(b, loc, args[next++], i32,
                                              weightScheme.isSignedStorage()));
        return arith::AddIOp::create(b, loc, acc,
                                     arith::MulIOp::create(b, loc, x, w));
      });
  QuantizedLinearExpansion expansion;
  expansion.product = acc.getDefiningOp<linalg::GenericOp>();

  // One rescale per output element: acc * x_scale * w_scale (+ bias).
  auto resultElementType = cast<FloatType>(op.getType().getElementType());
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
  SmallVector<Value> inputs = {acc, op.getInputScale(), op.getWeightScale()};
  SmallVector<AffineMap> maps = {identity, inputParamMap(rank),
                                 weightParamMap(rank)};
  Value bias = op.getBias();
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(
        AffineMap::get(rank, 0, {getAffineDimExpr(rank - 1, ctx)}, ctx));
  }
  maps.push_back(identity);
  Value init = tensor::EmptyOp::create(
      rewriter, loc, tensor::getMixedSizes(rewriter, loc, acc),
      resultElementType);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      parallelIterators(rank),
      [&](OpBuilder &b, Location loc, ValueRange args) {
        FloatType f32 = b.getF32Type();
        Value value =
            isFloat ? args[0]
                    : arith::SIToFPOp::create(b, loc, f32, args[0]).getResult();
        value = arith::MulFOp::create(b, loc, value,
                                      convertFloat(b, loc, args[1], f32));
        value = arith::MulFOp::create(b, loc, value,
                                      convertFloat(b, loc, args[2], f32));
        if (bias)
          value = arith::AddFOp::create(b, loc, value,
                                        convertFloat(b, loc, args[3], f32));
        yield(b, loc, convertFloat(b, loc, value, resultElementType));
      });
  expansion.rescale = generic;
  Value result = generic.getResult(0);
  if (result.getType() != op.getType())
    result = tensor::CastOp::create(rewriter, loc, op.getType(), result);
  rewriter.replaceOp(op, result);
  return expansion;
}

DynamicQuantizeExpansion qopt::expandDynamicQuantize(RewriterBase &rewriter,
                                                     DynamicQuantizeOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  Value x = op.getInput();
  auto inputType = cast<RankedTensorType>(x.getType());
  unsigned rank = inputType.getRank();
  bool perToken = op.getScheme().getGranularity() == Granularity::PerToken;
  FloatType f32 = rewriter.getF32Type();
  auto scaleType = cast<RankedTensorType>(op.getScale().getType());
  double qmax = static_cast<double>(op.getQMax());

  // Groups: the leading dimensions (per token) or nothing (per tensor).
  SmallVector<AffineExpr> dims = getDims(rank, ctx);
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap groupMap =
      AffineMap::get(rank, 0,
                     perToken ? ArrayRef<AffineExpr>(dims).drop_back()
                              : ArrayRef<AffineExpr>(),
                     ctx);
  SmallVector<OpFoldResult> groupSizes;
  if (perToken) {
    groupSizes = tensor::getMixedSizes(rewriter, loc, x);
    groupSizes.pop_back();
  }
  unsigned groupRank = groupSizes.size();

  DynamicQuantizeExpansion expansion;
  // amax = max |x|, from 0: maximumf propagates NaN, |inf| stays inf.
  Value zero = floatConstant(rewriter, loc, f32, 0.0);
  Value amaxInit =
      linalg::FillOp::create(
          rewriter, loc, zero,
          tensor::EmptyOp::create(rewriter, loc, groupSizes, f32).getResult())
          .getResult(0);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  for (unsigned d = 0; d < groupRank; ++d)
    iterators[d] = utils::IteratorType::parallel;
  expansion.absMax = linalg::GenericOp::create(
      rewriter, loc, TypeRange{amaxInit.getType()}, ValueRange{x},
      ValueRange{amaxInit}, ArrayRef<AffineMap>{identity, groupMap}, iterators,
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value v =
            math::AbsFOp::create(b, loc, convertFloat(b, loc, args[0], f32));
        yield(b, loc, arith::MaximumFOp::create(b, loc, args[1], v));
      });
  Value amax = expansion.absMax.getResult(0);

  // scale = amax / qmax and inverse = qmax / amax, or (NaN, 0) for a
  // non-finite amax and (1, 0) below 2^-119.
  AffineMap groupIdentity = AffineMap::getMultiDimIdentityMap(groupRank, ctx);
  Value scaleInit = tensor::EmptyOp::create(rewriter, loc, groupSizes, f32);
  Value inverseInit = tensor::EmptyOp::create(rewriter, loc, groupSizes, f32);
  expansion.scales = linalg::GenericOp::create(
      rewriter, loc, TypeRange{scaleInit.getType(), inverseInit.getType()},
      ValueRange{amax}, ValueRange{scaleInit, inverseInit},
      ArrayRef<AffineMap>{groupIdentity, groupIdentity, groupIdentity},
      parallelIterators(groupRank),
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value a = args[0];
        Value q = floatConstant(b, loc, f32, qmax);
        Value nonFinite = arith::CmpFOp::create(
            b, loc, arith::CmpFPredicate::UGE, a,
            floatConstant(b, loc, f32, std::numeric_limits<float>::infinity()));
        Value tiny =
            arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a,
                                  floatConstant(b, loc, f32, 0x1p-119));
        Value zeros = arith::OrIOp::create(b, loc, nonFinite, tiny);
        Value scale = arith::SelectOp::create(
            b, loc, nonFinite,
            floatConstant(b, loc, f32, std::numeric_limits<float>::quiet_NaN()),
            arith::SelectOp::create(b, loc, tiny,
                                    floatConstant(b, loc, f32, 1.0),
                                    arith::DivFOp::create(b, loc, a, q)));
        Value inverse = arith::SelectOp::create(
            b, loc, zeros, floatConstant(b, loc, f32, 0.0),
            arith::DivFOp::create(b, loc, q, a));
        linalg::YieldOp::create(b, loc, ValueRange{scale, inverse});
      });
  Value scale = expansion.scales.getResult(0);
  Value inverse = expansion.scales.getResult(1);

  // q = clamp(round_half_even(x * inverse), -qmax, qmax), or 0 where the
  // group quantizes to zeros (inverse = 0; x * 0 would be NaN for inf);
  // float8: truncf(clamp(x * inverse, -qmax, qmax)), nearest even.
  Type storage = op.getResult().getType().getElementType();
  bool isFloatStorage = op.getScheme().isFloatStorage();
  Value valuesInit = tensor::EmptyOp::create(
      rewriter, loc, tensor::getMixedSizes(rewriter, loc, x), storage);
  expansion.values = linalg::GenericOp::create(
      rewriter, loc, TypeRange{valuesInit.getType()}, ValueRange{x, inverse},
      ValueRange{valuesInit}, ArrayRef<AffineMap>{identity, groupMap, identity},
      parallelIterators(rank),
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value v = arith::MulFOp::create(
            b, loc, convertFloat(b, loc, args[0], f32), args[1]);
        // Integers round here; float8 rounds in the final truncation.
        if (!isFloatStorage)
          v = math::RoundEvenOp::create(b, loc, v);
        v = arith::MaximumFOp::create(b, loc, v,
                                      floatConstant(b, loc, f32, -qmax));
        v = arith::MinimumFOp::create(b, loc, v,
                                      floatConstant(b, loc, f32, qmax));
        Value zeros =
            arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, args[1],
                                  floatConstant(b, loc, f32, 0.0));
        v = arith::SelectOp::create(b, loc, zeros,
                                    floatConstant(b, loc, f32, 0.0), v);
        if (isFloatStorage)
          yield(b, loc, arith::TruncFOp::create(b, loc, storage, v));
        else
          yield(b, loc, arith::FPToSIOp::create(b, loc, storage, v));
      });
  Value values = expansion.values.getResult(0);

  if (values.getType() != op.getResult().getType())
    values =
        tensor::CastOp::create(rewriter, loc, op.getResult().getType(), values);
  if (scale.getType() != scaleType)
    scale = tensor::CastOp::create(rewriter, loc, scaleType, scale);
  rewriter.replaceOp(op, ValueRange{values, scale});
  return expansion;
}

namespace {

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct ExpandQuantOpsPass
    : public qopt::impl::ExpandQuantOpsBase<ExpandQuantOpsPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateExpandQuantOpsPatterns(patterns, expandLinear);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns)))) {
      getOperation()->emitError("qopt-expand-quant-ops did not converge");
      return signalPassFailure();
    }
    // Every pattern handles every verified op, so a survivor is a bug; say
    // which op rather than leaving it for a backend to trip over.
    WalkResult result = getOperation()->walk([&](Operation *op) {
      if (!isa<QuantizeOp, DequantizeOp, DynamicQuantizeOp, PackOp, UnpackOp,
               SmoothOp, PermuteOp>(op) &&
          !(expandLinear &&
            isa<LinearOp, WeightOnlyLinearOp, QuantizedLinearOp>(op)))
        return WalkResult::advance();
      op->emitError("qopt-expand-quant-ops could not expand this op");
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

void qopt::populateExpandQuantOpsPatterns(RewritePatternSet &patterns,
                                          bool expandLinear) {
  patterns.add<ExpandCast<QuantizeOp>, ExpandCast<DequantizeOp>,
               ExpandDynamicQuantize, ExpandPack, ExpandUnpack, ExpandSmooth,
               ExpandPermute>(patterns.getContext());
  if (expandLinear)
    patterns.add<ExpandLinear, ExpandWeightOnlyLinear, ExpandQuantizedLinear>(
        patterns.getContext());
}
