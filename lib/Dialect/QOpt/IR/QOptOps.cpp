//===- QOptOps.cpp - qopt operations --------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/SmallBitVector.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qopt;

#define GET_OP_CLASSES
#include "qopt/Dialect/QOpt/IR/QOptOps.cpp.inc"

static bool isDynamic(int64_t size) { return ShapedType::isDynamic(size); }

/// Two sizes agree unless both are static and differ.
static bool sizesAgree(int64_t a, int64_t b) {
  return isDynamic(a) || isDynamic(b) || a == b;
}

//===----------------------------------------------------------------------===//
// Quantization parameters
//===----------------------------------------------------------------------===//

LogicalResult
qopt::verifyQuantParams(function_ref<InFlightDiagnostic()> emitError,
                        ShapedType valueType, SchemeAttr scheme, Type scaleType,
                        Type zeroPointType, Value actOrder) {
  int64_t rank = valueType.getRank();
  ArrayRef<int64_t> shape = valueType.getShape();
  Granularity granularity = scheme.getGranularity();
  StringRef granularityName = stringifyGranularity(granularity);

  std::optional<int64_t> axis = scheme.getAxis();
  if (axis && *axis >= rank)
    return emitError() << "scheme axis " << *axis
                       << " is out of range for a tensor of rank " << rank;

  // The shape scales and zero points must have under this granularity.
  SmallVector<int64_t> expected;
  switch (granularity) {
  case Granularity::PerTensor:
    break;
  case Granularity::PerChannel:
    expected.push_back(shape[*axis]);
    break;
  case Granularity::PerGroup: {
    int64_t groupSize = *scheme.getGroupSize();
    expected.assign(shape.begin(), shape.end());
    if (!isDynamic(shape[*axis])) {
      if (shape[*axis] % groupSize != 0)
        return emitError() << "dimension " << *axis << " of size "
                           << shape[*axis]
                           << " is not a multiple of group_size " << groupSize;
      expected[*axis] = shape[*axis] / groupSize;
    }
    break;
  }
  case Granularity::PerToken:
    if (rank < 1)
      return emitError() << "per_token granularity requires a tensor of rank "
                            ">= 1";
    expected.assign(shape.begin(), shape.end() - 1);
    break;
  }

  auto checkShape = [&](Type type, StringRef what) -> LogicalResult {
    auto tensorType = cast<RankedTensorType>(type);
    if (tensorType.getRank() != static_cast<int64_t>(expected.size()))
      return emitError() << what << " must have rank " << expected.size()
                         << " for " << granularityName << " granularity, got "
                         << type;
    for (auto [i, size] : llvm::enumerate(tensorType.getShape()))
      if (!sizesAgree(size, expected[i]))
        return emitError() << what << " dimension " << i << " is " << size
                           << ", expected " << expected[i] << " for "
                           << granularityName << " granularity";
    return success();
  };

  if (failed(checkShape(scaleType, "scale")))
    return failure();

  if (scheme.getSymmetric()) {
    if (zeroPointType)
      return emitError() << "a symmetric scheme takes no zero_point";
  } else {
    if (!zeroPointType)
      return emitError() << "an asymmetric scheme requires a zero_point";
    Type zpElementType = cast<ShapedType>(zeroPointType).getElementType();
    if (zpElementType != scheme.getStorageElementType())
      return emitError() << "zero_point element type " << zpElementType
                         << " does not match the storage element type "
                         << scheme.getStorageElementType();
    if (failed(checkShape(zeroPointType, "zero_point")))
      return failure();
  }

  if (!actOrder)
    return success();
  if (granularity != Granularity::PerGroup)
    return emitError() << "act_order requires per_group granularity, got "
                       << granularityName;
  auto actOrderType = cast<RankedTensorType>(actOrder.getType());
  if (actOrderType.getRank() != 1 ||
      !sizesAgree(actOrderType.getDimSize(0), shape[*axis]))
    return emitError() << "act_order must be a 1-D tensor with one entry per "
                          "element of dimension "
                       << *axis << ", got " << actOrderType;
  DenseIntElementsAttr constant;
  if (matchPattern(actOrder, m_Constant(&constant))) {
    int64_t size = constant.getNumElements();
    llvm::SmallBitVector seen(size);
    for (const APInt &value : constant.getValues<APInt>()) {
      int64_t index = value.getSExtValue();
      if (index < 0 || index >= size || seen.test(index))
        return emitError() << "act_order is not a permutation of [0, " << size
                           << ")";
      seen.set(index);
    }
  }
  return success();
}

/// A constant scale must be finite and non-zero: anything else turns every
/// value it scales into NaN or infinity. Non-constant scales are checked by
/// whoever computes them (calibration refuses non-finite statistics).
static LogicalResult verifyConstantScale(Operation *op, Value scale,
                                         StringRef what) {
  Attribute attr;
  if (!scale || !matchPattern(scale, m_Constant(&attr)))
    return success();
  auto check = [&](double value) -> LogicalResult {
    if (std::isfinite(value) && value != 0.0)
      return success();
    return op->emitOpError(what) << " holds " << value
                                 << "; constant scales must be finite and "
                                    "non-zero";
  };
  if (auto dense = dyn_cast<DenseFPElementsAttr>(attr)) {
    for (APFloat value : dense.getValues<APFloat>())
      if (failed(check(value.convertToDouble())))
        return failure();
  } else if (auto blob = dyn_cast<DenseF32ResourceElementsAttr>(attr)) {
    if (std::optional<ArrayRef<float>> values = blob.tryGetAsArrayRef())
      for (float value : *values)
        if (failed(check(value)))
          return failure();
  }
  return success();
}

/// The casts keep the shape and change only the element type.
static LogicalResult verifyCast(Operation *op, ShapedType floatType,
                                ShapedType storageType, SchemeAttr scheme,
                                Value scale, Value zeroPoint, Value actOrder) {
  if (failed(verifyCompatibleShape(floatType, storageType)))
    return op->emitOpError("float and quantized tensors must have the same "
                           "shape, got ")
           << floatType << " and " << storageType;
  if (storageType.getElementType() != scheme.getStorageElementType())
    return op->emitOpError("quantized element type ")
           << storageType.getElementType()
           << " does not match the scheme's storage element type "
           << scheme.getStorageElementType();
  if (failed(verifyConstantScale(op, scale, "scale")))
    return failure();
  return verifyQuantParams([&] { return op->emitOpError(); }, floatType, scheme,
                           scale.getType(),
                           zeroPoint ? zeroPoint.getType() : Type(), actOrder);
}

//===----------------------------------------------------------------------===//
// QuantizeOp / DequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  return verifyCast(*this, getInput().getType(), getType(), getScheme(),
                    getScale(), getZeroPoint(), getActOrder());
}

LogicalResult DequantizeOp::verify() {
  return verifyCast(*this, getType(), getInput().getType(), getScheme(),
                    getScale(), getZeroPoint(), getActOrder());
}

int64_t DynamicQuantizeOp::getQMax() {
  return static_cast<int64_t>(getScheme().getStorageMax());
}

LogicalResult DynamicQuantizeOp::verify() {
  RankedTensorType inputType = getInput().getType();
  RankedTensorType resultType = getResult().getType();
  RankedTensorType scaleType = getScale().getType();
  SchemeAttr scheme = getScheme();
  Type inputElement = inputType.getElementType();
  if (!inputElement.isF32() && !inputElement.isF16() && !inputElement.isBF16())
    return emitOpError("input must hold f32, f16 or bf16 values, got ")
           << inputElement;
  if (!scheme.isFloatStorage() &&
      (!scheme.isSignedStorage() || scheme.getStorageWidth() > 8))
    return emitOpError("storage must be a signed integer of at most 8 bits "
                       "or a float8 type, got ")
           << scheme.getStorage();
  if (!scheme.getSymmetric() ||
      (!scheme.isFloatStorage() && !scheme.getNarrowRange()))
    return emitOpError("the scheme must be symmetric with narrow_range: "
                       "scales come from max |x|, which maps to +-qmax");
  Granularity granularity = scheme.getGranularity();
  if (granularity != Granularity::PerToken &&
      granularity != Granularity::PerTensor)
    return emitOpError("granularity must be per_token or per_tensor, got ")
           << stringifyGranularity(granularity);
  if (failed(verifyCompatibleShape(inputType, resultType)))
    return emitOpError("input and result must have the same shape, got ")
           << inputType << " and " << resultType;
  if (resultType.getElementType() != scheme.getStorageElementType())
    return emitOpError("result element type ")
           << resultType.getElementType()
           << " does not match the scheme's storage element type "
           << scheme.getStorageElementType();
  if (!scaleType.getElementType().isF32())
    return emitOpError("scales must be f32, got ")
           << scaleType.getElementType();
  return verifyQuantParams([&] { return emitOpError(); }, inputType, scheme,
                           scaleType, Type(), Value());
}

/// quantize(dequantize(q)) with the same parameters gives back q exactly as
/// long as the float type in between resolves every storage step: the
/// relative rounding error of (q - z) * s / s stays below half a step.
static bool roundTripsExactly(FloatType floatType, SchemeAttr scheme) {
  unsigned precision =
      llvm::APFloat::semanticsPrecision(floatType.getFloatSemantics());
  unsigned needed = scheme.getStorageWidth() + 2;
  if (auto storageFloat = dyn_cast<FloatType>(scheme.getStorage()))
    needed =
        llvm::APFloat::semanticsPrecision(storageFloat.getFloatSemantics()) + 2;
  return precision >= needed;
}

OpFoldResult QuantizeOp::fold(FoldAdaptor) {
  auto dequantize = getInput().getDefiningOp<DequantizeOp>();
  if (!dequantize || dequantize.getInput().getType() != getType() ||
      dequantize.getScheme() != getScheme() ||
      dequantize.getScale() != getScale() ||
      dequantize.getZeroPoint() != getZeroPoint() ||
      dequantize.getActOrder() != getActOrder())
    return {};
  if (!roundTripsExactly(cast<FloatType>(dequantize.getType().getElementType()),
                         getScheme()))
    return {};
  return dequantize.getInput();
}

//===----------------------------------------------------------------------===//
// PackOp / UnpackOp
//===----------------------------------------------------------------------===//

static LogicalResult verifyPacking(Operation *op, RankedTensorType unpacked,
                                   RankedTensorType packed) {
  unsigned width = unpacked.getElementTypeBitWidth();
  if (width < 1 || width > 7)
    return op->emitOpError("packs values of 1 to 7 bits, got ")
           << unpacked.getElementType();
  if (unpacked.getRank() < 1 || unpacked.getRank() != packed.getRank())
    return op->emitOpError("packed and unpacked tensors must have the same "
                           "rank >= 1, got ")
           << unpacked << " and " << packed;
  for (int64_t i = 0, e = unpacked.getRank() - 1; i < e; ++i)
    if (!sizesAgree(unpacked.getDimSize(i), packed.getDimSize(i)))
      return op->emitOpError("dimension ")
             << i << " differs between " << unpacked << " and " << packed;
  int64_t values = unpacked.getShape().back();
  int64_t bytes = packed.getShape().back();
  if (!isDynamic(values) && (values * width) % 8 != 0)
    return op->emitOpError("innermost dimension of ")
           << values << " x i" << width << " does not fill whole bytes";
  if (!isDynamic(bytes) && (bytes * 8) % width != 0)
    return op->emitOpError("innermost dimension of ")
           << bytes << " bytes does not hold a whole number of i" << width
           << " values";
  if (!isDynamic(values) && !isDynamic(bytes) && values * width != bytes * 8)
    return op->emitOpError("expected ")
           << values * width / 8 << " bytes for " << values << " x i" << width
           << ", got " << bytes;
  return success();
}

LogicalResult PackOp::verify() {
  return verifyPacking(*this, getInput().getType(), getType());
}

LogicalResult UnpackOp::verify() {
  return verifyPacking(*this, getType(), getInput().getType());
}

OpFoldResult PackOp::fold(FoldAdaptor) {
  if (auto unpack = getInput().getDefiningOp<UnpackOp>())
    if (unpack.getInput().getType() == getType())
      return unpack.getInput();
  return {};
}

OpFoldResult UnpackOp::fold(FoldAdaptor) {
  if (auto pack = getInput().getDefiningOp<PackOp>())
    if (pack.getInput().getType() == getType())
      return pack.getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// Linear ops
//===----------------------------------------------------------------------===//

/// Works out the logical `[N, K] x storage` weight from its stored form and
/// the K of the input (possibly dynamic).
static FailureOr<RankedTensorType>
inferLogicalWeight(function_ref<InFlightDiagnostic()> emitError,
                   RankedTensorType weightType, SchemeAttr scheme,
                   int64_t inputK) {
  if (weightType.getRank() != 2)
    return emitError() << "weight must be 2-D [N, K], got " << weightType;
  unsigned width = scheme.getStorageWidth();
  int64_t rows = weightType.getDimSize(0);
  int64_t stored = weightType.getDimSize(1);
  int64_t k = inputK;
  if (width < 8) {
    if (!weightType.getElementType().isInteger(8))
      return emitError() << "weights of " << width
                         << " bits must be stored packed in i8 (see "
                            "qopt.pack), got "
                         << weightType;
    if (!isDynamic(stored)) {
      if ((stored * 8) % width != 0)
        return emitError() << "packed weight row of " << stored
                           << " bytes does not hold a whole number of " << width
                           << "-bit values";
      int64_t fromWeight = stored * 8 / width;
      if (!isDynamic(k) && k != fromWeight)
        return emitError() << "packed weight holds K = " << fromWeight
                           << " values per row but the input has K = " << k;
      k = fromWeight;
    } else if (!isDynamic(k) && (k * width) % 8 != 0) {
      return emitError() << "K = " << k << " values of " << width
                         << " bits do not fill whole bytes";
    }
  } else {
    if (weightType.getElementType() != scheme.getStorageElementType())
      return emitError() << "weight element type "
                         << weightType.getElementType()
                         << " does not match the storage element type "
                         << scheme.getStorageElementType();
    if (!sizesAgree(stored, k))
      return emitError() << "weight has K = " << stored
                         << " but the input has K = " << k;
    if (isDynamic(k))
      k = stored;
  }
  return RankedTensorType::get({rows, k}, scheme.getStorageElementType());
}

/// `[..., K] x [N, K] -> [..., N]` and an optional `[N]` bias.
static LogicalResult verifyLinearShapes(Operation *op, ShapedType inputType,
                                        ShapedType resultType, int64_t n,
                                        Value bias) {
  if (inputType.getRank() < 1 || resultType.getRank() != inputType.getRank())
    return op->emitOpError("input and result must have the same rank >= 1, "
                           "got ")
           << inputType << " and " << resultType;
  for (int64_t i = 0, e = inputType.getRank() - 1; i < e; ++i)
    if (!sizesAgree(inputType.getDimSize(i), resultType.getDimSize(i)))
      return op->emitOpError("result dimension ")
             << i << " does not match the input's";
  if (!sizesAgree(resultType.getShape().back(), n))
    return op->emitOpError("result has ")
           << resultType.getShape().back() << " output channels, weight has "
           << n;
  if (bias) {
    auto biasType = cast<ShapedType>(bias.getType());
    if (biasType.getRank() != 1 || !sizesAgree(biasType.getDimSize(0), n) ||
        biasType.getElementType() != resultType.getElementType())
      return op->emitOpError("bias must be 1-D with one ")
             << resultType.getElementType() << " per output channel, got "
             << biasType;
  }
  return success();
}

/// Weights are `[N, K]`: per-channel scales run along N, groups along K.
static LogicalResult verifyWeightScheme(Operation *op, SchemeAttr scheme,
                                        bool allowGroups) {
  switch (scheme.getGranularity()) {
  case Granularity::PerTensor:
    return success();
  case Granularity::PerChannel:
    if (*scheme.getAxis() != 0)
      return op->emitOpError("per_channel weight scales run along the output "
                             "channels (axis 0), got axis ")
             << *scheme.getAxis();
    return success();
  case Granularity::PerGroup:
    if (!allowGroups)
      return op->emitOpError("per_group weight scales do not factor out of an "
                             "integer dot product; use "
                             "qopt.weight_only_linear");
    if (*scheme.getAxis() != 1)
      return op->emitOpError("per_group weight groups run along the input "
                             "channels (axis 1), got axis ")
             << *scheme.getAxis();
    return success();
  case Granularity::PerToken:
    return op->emitOpError("per_token is not a weight granularity");
  }
  llvm_unreachable("unknown granularity");
}

int64_t LinearOp::getNumOutputChannels() {
  return getWeight().getType().getDimSize(getTransposeWeight() ? 0 : 1);
}

int64_t LinearOp::getNumInputChannels() {
  return getWeight().getType().getDimSize(getTransposeWeight() ? 1 : 0);
}

LogicalResult LinearOp::verify() {
  RankedTensorType inputType = getInput().getType();
  RankedTensorType weightType = getWeight().getType();
  if (inputType.getRank() < 1)
    return emitOpError("input must have rank >= 1");
  if (weightType.getRank() != 2)
    return emitOpError("weight must be 2-D, got ") << weightType;
  if (weightType.getElementType() != inputType.getElementType() ||
      getType().getElementType() != inputType.getElementType())
    return emitOpError("input, weight and result must have one element type");
  if (!sizesAgree(inputType.getShape().back(), getNumInputChannels()))
    return emitOpError("input has K = ")
           << inputType.getShape().back()
           << " but the weight has K = " << getNumInputChannels();
  return verifyLinearShapes(*this, inputType, getType(), getNumOutputChannels(),
                            getBias());
}

RankedTensorType WeightOnlyLinearOp::getLogicalWeightType() {
  auto result =
      inferLogicalWeight([&] { return emitOpError(); }, getWeight().getType(),
                         getScheme(), getInput().getType().getShape().back());
  assert(succeeded(result) && "verified op");
  return *result;
}

LogicalResult WeightOnlyLinearOp::verify() {
  RankedTensorType inputType = getInput().getType();
  if (inputType.getRank() < 1)
    return emitOpError("input must have rank >= 1");
  if (getType().getElementType() != inputType.getElementType())
    return emitOpError("result element type must match the input's");
  if (failed(verifyWeightScheme(*this, getScheme(), /*allowGroups=*/true)))
    return failure();
  auto emitError = [&] { return emitOpError(); };
  FailureOr<RankedTensorType> weight =
      inferLogicalWeight(emitError, getWeight().getType(), getScheme(),
                         inputType.getShape().back());
  if (failed(weight))
    return failure();
  if (failed(verifyLinearShapes(*this, inputType, getType(),
                                weight->getDimSize(0), getBias())))
    return failure();
  if (failed(verifyConstantScale(*this, getScale(), "scale")))
    return failure();
  return verifyQuantParams(
      emitError, *weight, getScheme(), getScale().getType(),
      getZeroPoint() ? getZeroPoint().getType() : Type(), getActOrder());
}

RankedTensorType QuantizedLinearOp::getLogicalWeightType() {
  auto result = inferLogicalWeight([&] { return emitOpError(); },
                                   getWeight().getType(), getWeightScheme(),
                                   getInput().getType().getShape().back());
  assert(succeeded(result) && "verified op");
  return *result;
}

LogicalResult QuantizedLinearOp::verify() {
  RankedTensorType inputType = getInput().getType();
  SchemeAttr inputScheme = getInputScheme();
  SchemeAttr weightScheme = getWeightScheme();
  if (inputType.getRank() < 1)
    return emitOpError("input must have rank >= 1");
  Granularity inputGranularity = inputScheme.getGranularity();
  if (inputGranularity != Granularity::PerTensor &&
      inputGranularity != Granularity::PerToken)
    return emitOpError("input scales must be per_tensor or per_token, got ")
           << stringifyGranularity(inputGranularity);
  if (inputType.getElementType() != inputScheme.getStorageElementType())
    return emitOpError("input element type ")
           << inputType.getElementType()
           << " does not match the input scheme's storage element type "
           << inputScheme.getStorageElementType();
  if (inputScheme.isFloatStorage() != weightScheme.isFloatStorage())
    return emitOpError("input and weight must both be integer or both be "
                       "fp8");
  if (failed(verifyWeightScheme(*this, weightScheme, /*allowGroups=*/false)))
    return failure();
  auto emitError = [&] { return emitOpError(); };
  FailureOr<RankedTensorType> weight =
      inferLogicalWeight(emitError, getWeight().getType(), weightScheme,
                         inputType.getShape().back());
  if (failed(weight))
    return failure();
  if (failed(verifyLinearShapes(*this, inputType, getType(),
                                weight->getDimSize(0), getBias())))
    return failure();
  if (failed(verifyConstantScale(*this, getInputScale(), "input scale")) ||
      failed(verifyConstantScale(*this, getWeightScale(), "weight scale")))
    return failure();
  auto emitInputError = [&] { return emitOpError() << "input parameters: "; };
  if (failed(verifyQuantParams(
          emitInputError, inputType, inputScheme, getInputScale().getType(),
          getInputZeroPoint() ? getInputZeroPoint().getType() : Type(),
          Value())))
    return failure();
  auto emitWeightError = [&] { return emitOpError() << "weight parameters: "; };
  return verifyQuantParams(
      emitWeightError, *weight, weightScheme, getWeightScale().getType(),
      getWeightZeroPoint() ? getWeightZeroPoint().getType() : Type(), Value());
}

//===----------------------------------------------------------------------===//
// SmoothOp
//===----------------------------------------------------------------------===//

LogicalResult SmoothOp::verify() {
  RankedTensorType inputType = getInput().getType();
  RankedTensorType scaleType = getScale().getType();
  if (inputType.getRank() < 1)
    return emitOpError("input must have rank >= 1");
  if (scaleType.getRank() != 1 ||
      !sizesAgree(scaleType.getDimSize(0), inputType.getShape().back()))
    return emitOpError("scale must be 1-D with one entry per channel of the "
                       "innermost dimension, got ")
           << scaleType;
  if (scaleType.getElementType() != inputType.getElementType())
    return emitOpError("scale element type must match the input's");
  return verifyConstantScale(*this, getScale(), "scale");
}

OpFoldResult SmoothOp::fold(FoldAdaptor adaptor) {
  auto scale = dyn_cast_if_present<DenseFPElementsAttr>(adaptor.getScale());
  if (scale && scale.isSplat() &&
      scale.getSplatValue<APFloat>().isExactlyValue(1.0))
    return getInput();
  return {};
}

namespace {
/// smooth(smooth(x, a), b) = smooth(x, a * b) when both scales are constants,
/// as happens when SmoothQuant and AWQ-style rescaling meet on one value.
struct ComposeConstantSmooth : public OpRewritePattern<SmoothOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SmoothOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<SmoothOp>();
    if (!inner)
      return failure();
    DenseFPElementsAttr outerScale, innerScale;
    if (!matchPattern(op.getScale(), m_Constant(&outerScale)) ||
        !matchPattern(inner.getScale(), m_Constant(&innerScale)) ||
        outerScale.getType() != innerScale.getType())
      return failure();
    SmallVector<APFloat> product;
    product.reserve(outerScale.getNumElements());
    for (auto [a, b] : llvm::zip_equal(innerScale.getValues<APFloat>(),
                                       outerScale.getValues<APFloat>())) {
      APFloat value = a;
      value.multiply(b, APFloat::rmNearestTiesToEven);
      product.push_back(value);
    }
    auto attr = DenseFPElementsAttr::get(outerScale.getType(), product);
    Value scale = arith::ConstantOp::create(rewriter, op.getLoc(), attr);
    rewriter.replaceOpWithNewOp<SmoothOp>(op, op.getType(), inner.getInput(),
                                          scale);
    return success();
  }
};
} // namespace

void SmoothOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                           MLIRContext *context) {
  results.add<ComposeConstantSmooth>(context);
}

//===----------------------------------------------------------------------===//
// PermuteOp
//===----------------------------------------------------------------------===//

LogicalResult PermuteOp::verify() {
  auto type = cast<RankedTensorType>(getInput().getType());
  if (type.getRank() < 1)
    return emitOpError("input must have rank >= 1");
  int64_t size = type.getShape().back();
  if (isDynamic(size))
    return emitOpError("the innermost dimension must be static");
  ArrayRef<int64_t> permutation = getPermutation();
  if (static_cast<int64_t>(permutation.size()) != size)
    return emitOpError("permutation has ")
           << permutation.size() << " entries but the innermost dimension is "
           << size;
  SmallVector<int64_t> position(size, -1);
  for (auto [j, index] : llvm::enumerate(permutation)) {
    if (index < 0 || index >= size)
      return emitOpError("permutation entry ")
             << j << " is " << index << ", out of range [0, " << size << ")";
    if (position[index] >= 0)
      return emitOpError("permutation repeats index ")
             << index << " (entries " << position[index] << " and " << j << ")";
    position[index] = j;
  }
  return success();
}

OpFoldResult PermuteOp::fold(FoldAdaptor) {
  for (auto [j, index] : llvm::enumerate(getPermutation()))
    if (index != static_cast<int64_t>(j))
      return {};
  return getInput();
}

namespace {
/// permute(permute(x, p), q) = permute(x, r) with r[j] = p[q[j]]: the
/// outer op's channel j is the inner op's channel q[j], which is x's
/// channel p[q[j]].
struct ComposePermutes : public OpRewritePattern<PermuteOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PermuteOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<PermuteOp>();
    if (!inner)
      return failure();
    ArrayRef<int64_t> p = inner.getPermutation(), q = op.getPermutation();
    SmallVector<int64_t> composed;
    composed.reserve(q.size());
    for (int64_t index : q)
      composed.push_back(p[index]);
    rewriter.replaceOpWithNewOp<PermuteOp>(op, op.getType(), inner.getInput(),
                                           composed);
    return success();
  }
};
} // namespace

void PermuteOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<ComposePermutes>(context);
}

//===----------------------------------------------------------------------===//
// ObserveOp
//===----------------------------------------------------------------------===//

static std::string formatShape(ArrayRef<int64_t> shape) {
  std::string result;
  llvm::raw_string_ostream os(result);
  llvm::interleaveComma(shape, os, [&](int64_t size) {
    if (isDynamic(size))
      os << "?";
    else
      os << size;
  });
  return result;
}

//===----------------------------------------------------------------------===//
// ObserveOp verifier
//===----------------------------------------------------------------------===//

LogicalResult ObserveOp::verify() {
  RankedTensorType inputType = getInput().getType();
  ObserverAttr observer = getObserver();
  std::optional<int64_t> axis = observer.getAxis();
  if (axis && *axis >= inputType.getRank())
    return emitOpError("observer axis ")
           << *axis << " is out of range for a tensor of rank "
           << inputType.getRank();
  if (getName().empty())
    return emitOpError("name must not be empty");
  StatsAttr stats = getStatsAttr();
  if (!stats)
    return success();

  ObserverKind kind = observer.getKind();
  StringRef kindName = stringifyObserverKind(kind);
  // Per-channel statistics have one entry per channel, others are scalars.
  SmallVector<int64_t> pointShape;
  if (axis)
    pointShape.push_back(inputType.getDimSize(*axis));
  auto require = [&](ElementsAttr value, StringRef field,
                     ArrayRef<int64_t> shape) -> LogicalResult {
    if (!value)
      return emitOpError("stats of a ")
             << kindName << " observer must have '" << field << "'";
    ArrayRef<int64_t> actual = value.getShapedType().getShape();
    if (actual.size() != shape.size() ||
        !llvm::all_of(llvm::zip_equal(actual, shape), [](auto pair) {
          return sizesAgree(std::get<0>(pair), std::get<1>(pair));
        }))
      return emitOpError("stats '")
             << field << "' of a " << kindName << " observer has type "
             << value.getShapedType() << ", expected shape ["
             << formatShape(shape) << "]";
    return success();
  };

  switch (kind) {
  case ObserverKind::MinMax:
  case ObserverKind::Percentile:
  case ObserverKind::MSE:
    if (failed(require(stats.getMin(), "min", pointShape)) ||
        failed(require(stats.getMax(), "max", pointShape)))
      return failure();
    return success();
  case ObserverKind::Histogram:
    if (failed(
            require(stats.getHistogram(), "histogram", {observer.getBins()})) ||
        failed(require(stats.getMin(), "min", {})) ||
        failed(require(stats.getMax(), "max", {})))
      return failure();
    return success();
  case ObserverKind::AbsMax:
    return require(stats.getAbsmax(), "absmax", pointShape);
  case ObserverKind::Hessian: {
    if (inputType.getRank() < 1)
      return emitOpError("a hessian observer needs an input of rank >= 1");
    int64_t k = inputType.getShape().back();
    return require(stats.getHessian(), "hessian", {k, k});
  }
  }
  llvm_unreachable("unknown observer kind");
}

//===----------------------------------------------------------------------===//
// CheckOp
//===----------------------------------------------------------------------===//

LogicalResult CheckOp::verify() {
  StringRef message = getMessage();
  llvm::SmallBitVector used(getValues().size());
  for (size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '}')
      return emitOpError("message has an unmatched '}' at offset ") << i;
    if (message[i] != '{')
      continue;
    size_t close = message.find('}', i);
    unsigned index;
    if (close == StringRef::npos ||
        message.slice(i + 1, close).getAsInteger(10, index))
      return emitOpError("message placeholder at offset ")
             << i << " is not of the form {N}";
    if (index >= getValues().size())
      return emitOpError("message refers to value ")
             << index << " but the check has " << getValues().size()
             << " values";
    used.set(index);
    i = close;
  }
  for (Value value : getValues())
    if (!value.getType().isIndex() &&
        value.getType().getIntOrFloatBitWidth() > 64)
      return emitOpError("values must be index or at most 64-bit integers");
  if (!used.all())
    return emitOpError("value ")
           << used.find_first_unset() << " is not used in the message";
  return success();
}

LogicalResult CheckOp::canonicalize(CheckOp op, PatternRewriter &rewriter) {
  if (!matchPattern(op.getCondition(), m_One()))
    return failure();
  rewriter.eraseOp(op);
  return success();
}
