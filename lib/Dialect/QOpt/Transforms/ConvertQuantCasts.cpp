//===- ConvertQuantCasts.cpp - quant.qcast/dcast to qopt casts ------------===//

#include "qopt/Dialect/QOpt/IR/QOpt.h"
#include "qopt/Dialect/QOpt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_CONVERTQUANTCASTS
#include "qopt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// The qopt form of a `!quant.uniform` element type: a scheme plus constant
/// scale and (for a non-zero zero point) zero-point tensors.
struct QOptParams {
  SchemeAttr scheme;
  DenseElementsAttr scale;
  DenseElementsAttr zeroPoint; // null when symmetric
};

/// Storage ranges qopt expresses: full, or narrow for signed storage.
std::optional<bool> getNarrowRange(quant::QuantizedType type) {
  unsigned width = type.getStorageTypeIntegralWidth();
  int64_t min = type.getStorageTypeMin(), max = type.getStorageTypeMax();
  bool isSigned = type.isSigned();
  int64_t fullMin =
      quant::QuantizedType::getDefaultMinimumForInteger(isSigned, width);
  int64_t fullMax =
      quant::QuantizedType::getDefaultMaximumForInteger(isSigned, width);
  if (min == fullMin && max == fullMax)
    return false;
  if (isSigned && min == fullMin + 1 && max == fullMax)
    return true;
  return std::nullopt;
}

FailureOr<QOptParams> getParams(RankedTensorType tensorType,
                                quant::QuantizedType type) {
  MLIRContext *ctx = type.getContext();
  unsigned width = type.getStorageTypeIntegralWidth();
  if (width != 2 && width != 3 && width != 4 && width != 8)
    return failure();
  std::optional<bool> narrow = getNarrowRange(type);
  if (!narrow)
    return failure();
  Type storage = IntegerType::get(ctx, width,
                                  type.isSigned() ? IntegerType::Signless
                                                  : IntegerType::Unsigned);
  Type storageElement = IntegerType::get(ctx, width);
  Type scaleElement = type.getExpressedType().isF64()
                          ? Type(Float64Type::get(ctx))
                          : Type(Float32Type::get(ctx));

  SmallVector<double> scales;
  SmallVector<int64_t> zeroPoints;
  Granularity granularity;
  std::optional<int64_t> axis;
  if (auto uniform = dyn_cast<quant::UniformQuantizedType>(type)) {
    granularity = Granularity::PerTensor;
    scales.push_back(uniform.getScale());
    zeroPoints.push_back(uniform.getZeroPoint());
  } else if (auto perAxis =
                 dyn_cast<quant::UniformQuantizedPerAxisType>(type)) {
    granularity = Granularity::PerChannel;
    axis = perAxis.getQuantizedDimension();
    if (*axis >= tensorType.getRank())
      return failure();
    scales.assign(perAxis.getScales().begin(), perAxis.getScales().end());
    zeroPoints.assign(perAxis.getZeroPoints().begin(),
                      perAxis.getZeroPoints().end());
  } else {
    return failure();
  }

  bool symmetric = llvm::all_of(zeroPoints, [](int64_t z) { return z == 0; });
  SchemeAttr scheme =
      SchemeAttr::get(ctx, storage, granularity, axis,
                      /*groupSize=*/std::nullopt, symmetric, *narrow);
  SmallVector<int64_t> paramShape;
  if (granularity == Granularity::PerChannel)
    paramShape.push_back(static_cast<int64_t>(scales.size()));
  SmallVector<Attribute> scaleAttrs, zpAttrs;
  for (double scale : scales)
    scaleAttrs.push_back(FloatAttr::get(scaleElement, scale));
  for (int64_t zp : zeroPoints)
    zpAttrs.push_back(IntegerAttr::get(storageElement, zp));
  QOptParams params;
  params.scheme = scheme;
  params.scale = DenseElementsAttr::get(
      RankedTensorType::get(paramShape, scaleElement), scaleAttrs);
  if (!symmetric)
    params.zeroPoint = DenseElementsAttr::get(
        RankedTensorType::get(paramShape, storageElement), zpAttrs);
  return params;
}

/// What both casts need: the qopt parameters as constants and the tensor
/// type holding the stored values.
struct MaterializedParams {
  SchemeAttr scheme;
  Value scale, zeroPoint;
  RankedTensorType storageType;
};

/// Matches a ranked tensor of a convertible quantized element type and
/// materializes its parameters at `loc`.
FailureOr<MaterializedParams> materializeParams(PatternRewriter &rewriter,
                                                Location loc, Type type) {
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!tensorType)
    return failure();
  auto quantType = dyn_cast<quant::QuantizedType>(tensorType.getElementType());
  if (!quantType)
    return failure();
  FailureOr<QOptParams> params = getParams(tensorType, quantType);
  if (failed(params))
    return failure();
  MaterializedParams result;
  result.scheme = params->scheme;
  result.scale = arith::ConstantOp::create(rewriter, loc, params->scale);
  if (params->zeroPoint)
    result.zeroPoint =
        arith::ConstantOp::create(rewriter, loc, params->zeroPoint);
  result.storageType = RankedTensorType::get(
      tensorType.getShape(), params->scheme.getStorageElementType());
  return result;
}

struct ConvertQCast : public OpRewritePattern<quant::QuantizeCastOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(quant::QuantizeCastOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<MaterializedParams> params =
        materializeParams(rewriter, op.getLoc(), op.getType());
    if (failed(params))
      return rewriter.notifyMatchFailure(op, "not a convertible quant type");
    Value q =
        QuantizeOp::create(rewriter, op.getLoc(), params->storageType,
                           op.getInput(), params->scale, params->zeroPoint,
                           /*act_order=*/Value(), params->scheme);
    rewriter.replaceOpWithNewOp<quant::StorageCastOp>(op, op.getType(), q);
    return success();
  }
};

struct ConvertDCast : public OpRewritePattern<quant::DequantizeCastOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(quant::DequantizeCastOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<MaterializedParams> params =
        materializeParams(rewriter, op.getLoc(), op.getInput().getType());
    if (failed(params))
      return rewriter.notifyMatchFailure(op, "not a convertible quant type");
    Value storage = quant::StorageCastOp::create(
        rewriter, op.getLoc(), params->storageType, op.getInput());
    rewriter.replaceOpWithNewOp<DequantizeOp>(
        op, op.getType(), storage, params->scale, params->zeroPoint,
        /*act_order=*/Value(), params->scheme);
    return success();
  }
};

struct ConvertQuantCastsPass
    : public qopt::impl::ConvertQuantCastsBase<ConvertQuantCastsPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ConvertQCast, ConvertDCast>(&getContext());
    // Folding is off so that the dcast(qcast(x)) folder cannot fire first.
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace
