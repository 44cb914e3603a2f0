//===- QuantizationOps.cpp - ONNX QuantizeLinear / DequantizeLinear -------===//
//
// QDQ models (quantized by ONNX Runtime's tools, say) come in as qopt casts,
// so a model quantized elsewhere compiles and evaluates like our own.
//
//===----------------------------------------------------------------------===//

#include "Builders.h"

#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx_import;

namespace {

/// The qopt scheme for a QDQ node's parameters, plus the scale and zero
/// point values to pass (null zero point: symmetric).
struct QDQParams {
  SchemeAttr scheme;
  Value scale, zeroPoint;
};

FailureOr<QDQParams> getQDQParams(NodeContext &ctx, RankedTensorType floatType,
                                  Type storageElement, bool storageUnsigned) {
  MLIRContext *context = ctx.getContext();
  unsigned width = storageElement.getIntOrFloatBitWidth();
  Type storage;
  if (isa<FloatType>(storageElement)) {
    storage = storageElement;
  } else {
    if (width != 8 && width != 4)
      return ctx.emitError() << (storageUnsigned ? "UINT" : "INT") << width
                             << " storage is not supported (8 and 4 bit are)";
    storage = IntegerType::get(context, width,
                               storageUnsigned ? IntegerType::Unsigned
                                               : IntegerType::Signless);
  }
  RankedTensorType scaleType = ctx.getInputType(1);
  int64_t rank = floatType.getRank();
  int64_t blockSize = ctx.getIntAttr("block_size", 0);
  Granularity granularity = Granularity::PerTensor;
  std::optional<int64_t> axis, groupSize;
  Value scale = ctx.getInput(1);
  if (blockSize > 0) {
    FailureOr<int64_t> a = ctx.normalizeAxis(ctx.getIntAttr("axis", 1), rank);
    if (failed(a))
      return failure();
    granularity = Granularity::PerGroup;
    axis = *a;
    groupSize = blockSize;
  } else if (scaleType.getRank() == 1) {
    FailureOr<int64_t> a = ctx.normalizeAxis(ctx.getIntAttr("axis", 1), rank);
    if (failed(a))
      return failure();
    granularity = Granularity::PerChannel;
    axis = *a;
  } else if (scaleType.getRank() != 0) {
    return ctx.emitError() << "scale must be a scalar, 1-D (per axis) or "
                              "blocked";
  }
  Value zeroPoint;
  bool symmetric = true;
  if (ctx.hasInput(2)) {
    const HostTensor *zp = ctx.getConstantInput(2);
    bool allZero = zp &&
                   llvm::all_of(zp->ints, [](int64_t v) { return v == 0; }) &&
                   llvm::all_of(zp->floats, [](double v) { return v == 0; });
    // Float8 constants have no host copy; their attribute tells.
    DenseElementsAttr dense;
    if (!zp && isa<FloatType>(storageElement) &&
        matchPattern(ctx.getInput(2), m_Constant(&dense)))
      allZero = llvm::all_of(dense.getValues<APFloat>(),
                             [](const APFloat &v) { return v.isZero(); });
    if (!allZero) {
      if (isa<FloatType>(storageElement))
        return ctx.emitError() << "fp8 zero points must be zero";
      symmetric = false;
      zeroPoint = ctx.getInput(2);
    }
  }
  auto scheme = SchemeAttr::getChecked([&] { return ctx.emitError(); }, context,
                                       storage, granularity, axis, groupSize,
                                       symmetric, /*narrowRange=*/false);
  if (!scheme)
    return failure();
  return QDQParams{scheme, scale, zeroPoint};
}

LogicalResult importQuantizeLinear(NodeContext &ctx) {
  RankedTensorType floatType = ctx.getInputType(0);
  Type storageElement;
  bool storageUnsigned = true;
  if (ctx.hasInput(2)) {
    storageElement = ctx.getInputType(2).getElementType();
    storageUnsigned = ctx.isUnsignedInput(2);
  } else if (int64_t dtype = ctx.getIntAttr("output_dtype", 0)) {
    storageElement =
        convertONNXElementType(ctx.getContext(), dtype, storageUnsigned);
    if (!storageElement)
      return ctx.emitError()
             << "unsupported output_dtype " << getONNXTypeName(dtype);
  } else {
    storageElement = IntegerType::get(ctx.getContext(), 8);
  }
  // qopt.quantize always clamps to the storage range.
  if (isa<FloatType>(storageElement) && ctx.getIntAttr("saturate", 1) == 0)
    return ctx.emitError() << "saturate=0 (overflow to infinity or NaN) is "
                              "not supported; float8 quantization saturates";
  FailureOr<QDQParams> params =
      getQDQParams(ctx, floatType, storageElement, storageUnsigned);
  if (failed(params))
    return failure();
  auto resultType = RankedTensorType::get(
      floatType.getShape(), params->scheme.getStorageElementType());
  auto op = QuantizeOp::create(
      ctx.getBuilder(), ctx.getLoc(), resultType, ctx.getInput(0),
      params->scale, params->zeroPoint, /*act_order=*/Value(), params->scheme);
  if (failed(op.verify()))
    return failure();
  ctx.setResult(0, op, storageUnsigned);
  return success();
}

LogicalResult importDequantizeLinear(NodeContext &ctx) {
  RankedTensorType storageType = ctx.getInputType(0);
  Type resultElement = ctx.getInputType(1).getElementType();
  if (!isa<FloatType>(resultElement))
    return ctx.emitError() << "scale must be a float";
  FailureOr<QDQParams> params = getQDQParams(
      ctx, storageType, storageType.getElementType(), ctx.isUnsignedInput(0));
  if (failed(params))
    return failure();
  auto resultType =
      RankedTensorType::get(storageType.getShape(), resultElement);
  auto op = DequantizeOp::create(
      ctx.getBuilder(), ctx.getLoc(), resultType, ctx.getInput(0),
      params->scale, params->zeroPoint, /*act_order=*/Value(), params->scheme);
  if (failed(op.verify()))
    return failure();
  ctx.setResult(0, op);
  return success();
}

} // namespace

void onnx_import::registerQuantizationOps(OpRegistry &r) {
  r["QuantizeLinear"] = importQuantizeLinear;
  r["DequantizeLinear"] = importDequantizeLinear;
}
