//===- WeightQuantization.cpp - shared weight-only quantization -----------===//
//
// The arithmetic mirrors qopt-expand-quant-ops (f32, round half to even, zero
// point added after rounding, then the clamp), so a weight quantized here
// dequantizes to exactly what dequantize(quantize(w)) computes at run time.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/QOpt/Utils/WeightQuantization.h"
#include "qopt/Dialect/QOpt/Utils/LinearLayers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Parallel.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::qopt;

//===----------------------------------------------------------------------===//
// Settings
//===----------------------------------------------------------------------===//

bool qopt::isSupportedBits(int64_t bits) {
  return bits == 2 || bits == 3 || bits == 4 || bits == 8;
}

std::optional<Granularity> qopt::parseGranularity(StringRef text) {
  return llvm::StringSwitch<std::optional<Granularity>>(text)
      .Case("per-channel", Granularity::PerChannel)
      .Case("per_channel", Granularity::PerChannel)
      .Case("per-group", Granularity::PerGroup)
      .Case("per_group", Granularity::PerGroup)
      .Case("per-tensor", Granularity::PerTensor)
      .Case("per_tensor", Granularity::PerTensor)
      .Default(std::nullopt);
}

std::optional<LayerSpec> qopt::parseLayerSpec(StringRef text,
                                              const LayerSpec &defaults,
                                              std::string &error) {
  LayerSpec spec = defaults;
  if (text == "fp" || text == "fp32") {
    spec.fullPrecision = true;
    return spec;
  }
  SmallVector<StringRef> parts;
  text.split(parts, '-');
  StringRef head = parts.front();
  if (!head.consume_front("int") || head.getAsInteger(10, spec.bits)) {
    error = "expected 'fp' or 'int<bits>'";
    return std::nullopt;
  }
  if (!isSupportedBits(spec.bits)) {
    error = "bits must be 8, 4, 3 or 2, got " + std::to_string(spec.bits);
    return std::nullopt;
  }
  bool sawGranularity = false, sawSymmetry = false, sawClip = false;
  for (StringRef part : llvm::drop_begin(parts)) {
    if (part == "clip" || part == "noclip") {
      if (sawClip) {
        error = "clip search given twice";
        return std::nullopt;
      }
      sawClip = true;
      spec.clipSearch = part == "clip";
      continue;
    }
    if (part == "sym" || part == "asym") {
      if (sawSymmetry) {
        error = "symmetry given twice";
        return std::nullopt;
      }
      sawSymmetry = true;
      spec.symmetric = part == "sym";
      continue;
    }
    LayerSpec parsed = spec;
    if (part == "pc") {
      parsed.granularity = Granularity::PerChannel;
    } else if (part == "pt") {
      parsed.granularity = Granularity::PerTensor;
    } else if (part.starts_with("g") &&
               !part.drop_front().getAsInteger(10, parsed.groupSize) &&
               parsed.groupSize > 0) {
      parsed.granularity = Granularity::PerGroup;
    } else {
      error = "unknown part '" + part.str() +
              "'; expected g<group size>, pc, pt, sym, asym, clip or noclip";
      return std::nullopt;
    }
    if (sawGranularity) {
      error = "granularity given twice";
      return std::nullopt;
    }
    sawGranularity = true;
    spec = parsed;
  }
  return spec;
}

bool WeightQuantizerSettings::parse(
    int64_t bitsValue, bool symmetricValue, StringRef granularityText,
    int64_t groupSizeValue, bool clipSearchValue, bool quantizeHeadValue,
    ArrayRef<std::string> overrideEntries, int64_t resourceThresholdValue,
    std::string &error) {
  llvm::raw_string_ostream os(error);
  if (!isSupportedBits(bitsValue)) {
    os << "bits must be 8, 4, 3 or 2, got " << bitsValue;
    return false;
  }
  std::optional<Granularity> granularityValue =
      parseGranularity(granularityText);
  if (!granularityValue) {
    os << "unknown granularity '" << granularityText
       << "'; expected per-channel, per-group or per-tensor";
    return false;
  }
  if (groupSizeValue <= 0) {
    os << "group-size must be positive, got " << groupSizeValue;
    return false;
  }
  defaults = LayerSpec();
  defaults.bits = bitsValue;
  defaults.granularity = *granularityValue;
  defaults.groupSize = groupSizeValue;
  defaults.symmetric = symmetricValue;
  defaults.clipSearch = clipSearchValue;
  quantizeHead = quantizeHeadValue;
  resourceThreshold = resourceThresholdValue;

  overrides.clear();
  for (const std::string &entry : overrideEntries) {
    StringRef text(entry);
    size_t eq = text.rfind('=');
    if (eq == StringRef::npos || eq == 0) {
      os << "override '" << entry << "' is not GLOB=SPEC";
      return false;
    }
    std::string specError;
    std::optional<LayerSpec> spec =
        parseLayerSpec(text.drop_front(eq + 1), defaults, specError);
    if (!spec) {
      os << "override '" << entry << "': " << specError;
      return false;
    }
    llvm::Expected<llvm::GlobPattern> glob =
        llvm::GlobPattern::create(text.take_front(eq));
    if (!glob) {
      os << "override '" << entry
         << "': bad pattern: " << llvm::toString(glob.takeError());
      return false;
    }
    overrides.push_back({std::move(*glob), *spec});
  }
  return true;
}

std::optional<LayerSpec>
WeightQuantizerSettings::select(Operation *op, std::string *why) const {
  auto skip = [&](StringRef reason) -> std::optional<LayerSpec> {
    if (why)
      *why = reason.str();
    return std::nullopt;
  };
  if (op->hasAttr(QOptDialect::kKeepFullPrecisionAttrName))
    return skip("keep_full_precision");
  StringRef name = getLayerName(op->getLoc());
  for (const LayerOverride &entry : overrides)
    if (entry.glob.match(name)) {
      if (entry.spec.fullPrecision)
        return skip("override");
      return entry.spec;
    }
  auto linear = dyn_cast<LinearOp>(op);
  if (!quantizeHead && linear && isOutputHead(linear))
    return skip("head");
  return defaults;
}

//===----------------------------------------------------------------------===//
// The grid
//===----------------------------------------------------------------------===//

QuantGrid QuantGrid::get(int64_t bits, bool symmetric) {
  if (symmetric) {
    // Narrow range: [-qmax, qmax], symmetric around 0.
    float qmax = static_cast<float>((int64_t(1) << (bits - 1)) - 1);
    return {-qmax, qmax};
  }
  return {0.0f, static_cast<float>((int64_t(1) << bits) - 1)};
}

GridParams qopt::computeGridParams(float lo, float hi, const QuantGrid &grid,
                                   bool symmetric) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  GridParams params;
  float scale =
      symmetric ? std::max(-lo, hi) / grid.qmax : (hi - lo) / grid.qmax;
  // All zeros (or a range so small that the scale underflows): any scale
  // quantizes the block to exactly 0.
  if (!(scale > 0.0f) || !std::isfinite(scale))
    scale = 1.0f;
  params.scale = scale;
  if (!symmetric) {
    float z = std::nearbyint(-lo / scale);
    params.zeroPoint = std::min(std::max(z, grid.qmin), grid.qmax);
  }
  return params;
}

GridParams qopt::searchGridParams(ArrayRef<float> values, const QuantGrid &grid,
                                  bool symmetric) {
  float lo = 0.0f, hi = 0.0f;
  for (float v : values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  GridParams best = computeGridParams(lo, hi, grid, symmetric);
  double bestError = std::numeric_limits<double>::infinity();
  int steps = static_cast<int>(kClipSearchMaxShrink * kClipSearchSteps);
  for (int i = 0; i < steps; ++i) {
    float p = 1.0f - static_cast<float>(i) / kClipSearchSteps;
    GridParams params = computeGridParams(p * lo, p * hi, grid, symmetric);
    double error = 0.0;
    for (float v : values) {
      float d = dequantizeFromGrid(quantizeToGrid(v, params, grid), params) - v;
      error += std::pow(std::fabs(static_cast<double>(d)), kClipSearchNorm);
      if (error >= bestError)
        break;
    }
    if (error < bestError) {
      bestError = error;
      best = params;
    }
  }
  return best;
}

GridParams qopt::blockGridParams(ArrayRef<float> values, const QuantGrid &grid,
                                 const LayerSpec &spec) {
  if (spec.clipSearch)
    return searchGridParams(values, grid, spec.symmetric);
  float lo = 0.0f, hi = 0.0f;
  for (float v : values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  return computeGridParams(lo, hi, grid, spec.symmetric);
}

//===----------------------------------------------------------------------===//
// Quantized weights
//===----------------------------------------------------------------------===//

ParamLayout::ParamLayout(const LayerSpec &spec, int64_t n, int64_t k)
    : granularity(spec.granularity), n(n), k(k), groupSize(spec.groupSize) {
  groupsPerRow = granularity == Granularity::PerGroup ? k / groupSize : 1;
  numParams = granularity == Granularity::PerTensor ? 1 : n * groupsPerRow;
}

QuantizedWeight qopt::makeQuantizedWeight(const LayerSpec &spec, int64_t n,
                                          int64_t k) {
  QuantizedWeight q;
  int64_t bytesPerRow = (k * spec.bits + 7) / 8;
  q.bytes.assign(n * bytesPerRow, 0);
  int64_t numParams = ParamLayout(spec, n, k).numParams;
  q.scales.assign(numParams, 1.0f);
  q.zeroPoints.assign(numParams, 0);
  return q;
}

void qopt::setParams(QuantizedWeight &q, int64_t p, const GridParams &params) {
  q.scales[p] = params.scale;
  q.zeroPoints[p] = static_cast<uint8_t>(params.zeroPoint);
}

void qopt::storeCode(QuantizedWeight &q, const LayerSpec &spec, int64_t k,
                     int64_t row, int64_t col, float code) {
  int64_t bytesPerRow = (k * spec.bits + 7) / 8;
  auto *out = reinterpret_cast<uint8_t *>(&q.bytes[row * bytesPerRow]);
  uint32_t mask = (uint32_t(1) << spec.bits) - 1;
  uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(code)) & mask;
  int64_t bit = col * spec.bits;
  int64_t byte = bit / 8, offset = bit % 8;
  out[byte] |= static_cast<uint8_t>(bits << offset);
  if (offset + spec.bits > 8)
    out[byte + 1] |= static_cast<uint8_t>(bits >> (8 - offset));
}

QuantizedWeight qopt::quantizeRTN(ArrayRef<float> w, int64_t n, int64_t k,
                                  const LayerSpec &spec) {
  ParamLayout layout(spec, n, k);
  QuantGrid grid = QuantGrid::get(spec.bits, spec.symmetric);

  // Ranges (widened to contain 0 by computeGridParams).
  SmallVector<float> lo(layout.numParams, 0.0f), hi(layout.numParams, 0.0f);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col) {
      int64_t p = layout.index(row, col);
      float v = w[row * k + col];
      lo[p] = std::min(lo[p], v);
      hi[p] = std::max(hi[p], v);
    }

  QuantizedWeight result = makeQuantizedWeight(spec, n, k);
  SmallVector<GridParams> params(layout.numParams);
  for (int64_t p = 0; p < layout.numParams; ++p)
    params[p] = computeGridParams(lo[p], hi[p], grid, spec.symmetric);
  if (spec.clipSearch) {
    // Blocks are contiguous runs of a row (per-group, per-channel) or the
    // whole weight (per-tensor).
    int64_t blockSize =
        spec.granularity == Granularity::PerGroup
            ? spec.groupSize
            : (spec.granularity == Granularity::PerChannel ? k : n * k);
    // Blocks are independent (80 trial roundings each): LLVM's thread pool.
    llvm::parallelFor(0, n * k / blockSize, [&](size_t b) {
      int64_t start = b * blockSize;
      params[layout.index(start / k, start % k)] =
          searchGridParams(w.slice(start, blockSize), grid, spec.symmetric);
    });
  }
  for (int64_t p = 0; p < layout.numParams; ++p)
    setParams(result, p, params[p]);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col)
      storeCode(result, spec, k, row, col,
                quantizeToGrid(w[row * k + col], params[layout.index(row, col)],
                               grid));
  return result;
}

void qopt::quantizeFP8PerChannel(ArrayRef<float> w, int64_t n, int64_t k,
                                 SmallVectorImpl<int8_t> &codes,
                                 SmallVectorImpl<float> &scales) {
  codes.resize(n * k);
  scales.resize(n);
  for (int64_t row = 0; row < n; ++row) {
    float amax = 0.0f;
    for (int64_t col = 0; col < k; ++col)
      amax = std::max(amax, std::fabs(w[row * k + col]));
    float scale = amax >= 0x1p-119f ? amax / kFP8E4M3Max : 1.0f;
    scales[row] = scale;
    for (int64_t col = 0; col < k; ++col) {
      // |w / scale| <= 448 up to the division's rounding: clamped, so that
      // the conversion never overflows to NaN.
      float v = std::min(std::max(w[row * k + col] / scale, -kFP8E4M3Max),
                         kFP8E4M3Max);
      llvm::APFloat code(v);
      bool lost = false;
      code.convert(llvm::APFloat::Float8E4M3FN(),
                   llvm::APFloat::rmNearestTiesToEven, &lost);
      codes[row * k + col] =
          static_cast<int8_t>(code.bitcastToAPInt().getZExtValue());
    }
  }
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<float>> qopt::readLinearWeight(LinearOp op,
                                                     std::string &reason) {
  RankedTensorType type = op.getWeight().getType();
  Attribute attr;
  if (!type.getElementType().isF32() || !type.hasStaticShape() ||
      !matchPattern(op.getWeight(), m_Constant(&attr)))
    return failure();
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  SmallVector<float> stored;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    auto values = dense.getValues<float>();
    stored.assign(values.begin(), values.end());
  } else if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(attr)) {
    std::optional<ArrayRef<float>> data = resource.tryGetAsArrayRef();
    if (!data || static_cast<int64_t>(data->size()) != rows * cols) {
      reason = "the weight's dense_resource blob is not available";
      return failure();
    }
    stored.assign(data->begin(), data->end());
  } else {
    return failure();
  }
  if (llvm::any_of(stored, [](float v) { return !std::isfinite(v); })) {
    reason = "the weight has non-finite values";
    return failure();
  }
  if (op.getTransposeWeight())
    return stored;
  // [K, N] -> [N, K].
  SmallVector<float> logical(stored.size());
  for (int64_t k = 0; k < rows; ++k)
    for (int64_t n = 0; n < cols; ++n)
      logical[n * rows + k] = stored[k * cols + n];
  return logical;
}

LogicalResult qopt::fitSpecToLayer(LinearOp op, LayerSpec &spec) {
  int64_t k = op.getNumInputChannels();
  if (spec.granularity == Granularity::PerGroup && k % spec.groupSize != 0) {
    emitRemark(op.getLoc(), "K = ")
        << k << " is not a multiple of group size " << spec.groupSize
        << "; quantized per channel instead";
    spec.granularity = Granularity::PerChannel;
  }
  if ((k * spec.bits) % 8 != 0) {
    emitWarning(op.getLoc(), "not quantized: K = ")
        << k << " values of " << spec.bits << " bits do not fill whole bytes";
    return failure();
  }
  return success();
}

std::string qopt::getWeightResourceName(StringRef prefix, StringRef layer,
                                        StringRef what) {
  // Resource blob names allow letters, digits, '_' and '.'.
  std::string name =
      (prefix + "." + (layer.empty() ? StringRef("linear") : layer) + "." +
       what)
          .str();
  for (char &c : name)
    if (!llvm::isAlnum(c) && c != '_' && c != '.')
      c = '_';
  return name;
}

static ElementsAttr makeConstant(RankedTensorType type, ArrayRef<char> data,
                                 size_t align, StringRef name,
                                 int64_t resourceThreshold) {
  if (static_cast<int64_t>(data.size()) >= resourceThreshold)
    return DenseResourceElementsAttr::get(
        type, name, HeapAsmResourceBlob::allocateAndCopyWithAlign(data, align));
  return DenseElementsAttr::getFromRawBuffer(type, data);
}

/// The scheme, scales and zero points of `q` (everything but the codes).
static WeightOnlyParameters
buildQuantizationParameters(MLIRContext *ctx, const QuantizedWeight &q,
                            int64_t n, int64_t k, const LayerSpec &spec,
                            StringRef prefix, StringRef layer,
                            int64_t resourceThreshold) {
  WeightOnlyParameters result;
  Type storage = IntegerType::get(ctx, spec.bits,
                                  spec.symmetric ? IntegerType::Signless
                                                 : IntegerType::Unsigned);
  std::optional<int64_t> axis, group;
  SmallVector<int64_t> paramShape;
  switch (spec.granularity) {
  case Granularity::PerChannel:
    axis = 0;
    paramShape = {n};
    break;
  case Granularity::PerGroup:
    axis = 1;
    group = spec.groupSize;
    paramShape = {n, k / spec.groupSize};
    break;
  default:
    break;
  }
  result.scheme = SchemeAttr::get(ctx, storage, spec.granularity, axis, group,
                                  spec.symmetric,
                                  /*narrow_range=*/spec.symmetric);
  result.scale = makeConstant(
      RankedTensorType::get(paramShape, Float32Type::get(ctx)),
      ArrayRef<char>(reinterpret_cast<const char *>(q.scales.data()),
                     q.scales.size() * sizeof(float)),
      alignof(float), getWeightResourceName(prefix, layer, "scale"),
      resourceThreshold);
  if (!spec.symmetric) {
    auto zpType =
        RankedTensorType::get(paramShape, IntegerType::get(ctx, spec.bits));
    if (spec.bits == 8) {
      result.zeroPoint = makeConstant(
          zpType,
          ArrayRef<char>(reinterpret_cast<const char *>(q.zeroPoints.data()),
                         q.zeroPoints.size()),
          1, getWeightResourceName(prefix, layer, "zero_point"),
          resourceThreshold);
    } else {
      // Sub-byte element types have no defined blob layout: keep inline.
      SmallVector<APInt> values;
      for (uint8_t z : q.zeroPoints)
        values.push_back(APInt(spec.bits, z));
      result.zeroPoint = DenseElementsAttr::get(zpType, values);
    }
  }
  return result;
}

WeightOnlyParameters
qopt::buildWeightOnlyParameters(MLIRContext *ctx, const QuantizedWeight &q,
                                int64_t n, int64_t k, const LayerSpec &spec,
                                StringRef prefix, StringRef layer,
                                int64_t resourceThreshold) {
  WeightOnlyParameters result = buildQuantizationParameters(
      ctx, q, n, k, spec, prefix, layer, resourceThreshold);
  auto i8 = IntegerType::get(ctx, 8);
  int64_t bytesPerRow = static_cast<int64_t>(q.bytes.size()) / n;
  result.weight = makeConstant(
      RankedTensorType::get({n, bytesPerRow}, i8),
      ArrayRef<char>(reinterpret_cast<const char *>(q.bytes.data()),
                     q.bytes.size()),
      /*align=*/64, getWeightResourceName(prefix, layer, "weight"),
      resourceThreshold);
  return result;
}

Value qopt::replaceWithWeightOnlyLinear(LinearOp op,
                                        const WeightOnlyParameters &params) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value storedWeight = arith::ConstantOp::create(b, loc, params.weight);
  Value scale = arith::ConstantOp::create(b, loc, params.scale);
  Value zeroPoint;
  if (params.zeroPoint)
    zeroPoint = arith::ConstantOp::create(b, loc, params.zeroPoint);
  Value replacement = WeightOnlyLinearOp::create(
      b, loc, op.getType(), op.getInput(), storedWeight, scale, zeroPoint,
      /*act_order=*/Value(), op.getBias(), params.scheme);
  Operation *oldWeight = op.getWeight().getDefiningOp();
  op.replaceAllUsesWith(replacement);
  op.erase();
  if (oldWeight && oldWeight->use_empty())
    oldWeight->erase();
  return replacement;
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<float>> qopt::readConvolutionFilter(linalg::GenericOp op,
                                                          std::string &reason) {
  Value filter = op.getDpsInputs()[1];
  auto type = cast<RankedTensorType>(filter.getType());
  Attribute attr;
  if (!matchPattern(filter, m_Constant(&attr)))
    return failure();
  SmallVector<float> values;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    auto range = dense.getValues<float>();
    values.assign(range.begin(), range.end());
  } else if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(attr)) {
    std::optional<ArrayRef<float>> data = resource.tryGetAsArrayRef();
    if (!data || static_cast<int64_t>(data->size()) != type.getNumElements()) {
      reason = "the filter's dense_resource blob is not available";
      return failure();
    }
    values.assign(data->begin(), data->end());
  } else {
    reason = "the filter is not a dense f32 constant";
    return failure();
  }
  if (llvm::any_of(values, [](float v) { return !std::isfinite(v); })) {
    reason = "the filter has non-finite values";
    return failure();
  }
  return values;
}

LogicalResult qopt::fitSpecToConvolution(linalg::GenericOp op,
                                         LayerSpec &spec) {
  if (spec.granularity == Granularity::PerGroup) {
    emitRemark(op.getLoc(), "a convolution's scales are per output channel; ")
        << "group size " << spec.groupSize << " quantized per channel instead";
    spec.granularity = Granularity::PerChannel;
  }
  auto type = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
  if ((type.getNumElements() * spec.bits) % 8 != 0) {
    emitWarning(op.getLoc(), "not quantized: the filter's ")
        << type.getNumElements() << " values of " << spec.bits
        << " bits do not fill whole bytes";
    return failure();
  }
  return success();
}

void qopt::replaceConvolutionFilter(linalg::GenericOp op,
                                    const QuantizedWeight &q,
                                    const LayerSpec &spec, StringRef prefix,
                                    StringRef layer,
                                    int64_t resourceThreshold) {
  OpOperand &filterOperand = op->getOpOperand(1);
  auto filterType = cast<RankedTensorType>(filterOperand.get().getType());
  int64_t n = filterType.getDimSize(0);
  int64_t total = filterType.getNumElements(), k = total / n;
  MLIRContext *ctx = op.getContext();
  // Scale, zero point and scheme as for a linear layer of [F, K].
  WeightOnlyParameters params = buildQuantizationParameters(
      ctx, q, n, k, spec, prefix, layer, resourceThreshold);

  // Rows of q are padded to whole bytes; the filter's codes are one stream.
  int64_t bytesPerRow = (k * spec.bits + 7) / 8;
  SmallVector<int8_t> stream(total * spec.bits / 8, 0);
  auto *out = reinterpret_cast<uint8_t *>(stream.data());
  uint32_t mask = (uint32_t(1) << spec.bits) - 1;
  for (int64_t row = 0; row < n; ++row) {
    const auto *in =
        reinterpret_cast<const uint8_t *>(&q.bytes[row * bytesPerRow]);
    for (int64_t col = 0; col < k; ++col) {
      int64_t bit = col * spec.bits;
      uint32_t word = in[bit / 8];
      if (bit % 8 + spec.bits > 8)
        word |= uint32_t(in[bit / 8 + 1]) << 8;
      uint32_t code = (word >> (bit % 8)) & mask;
      int64_t to = (row * k + col) * spec.bits;
      out[to / 8] |= static_cast<uint8_t>(code << (to % 8));
      if (to % 8 + spec.bits > 8)
        out[to / 8 + 1] |= static_cast<uint8_t>(code >> (8 - to % 8));
    }
  }

  OpBuilder b(op);
  Location loc = op.getLoc();
  auto i8 = IntegerType::get(ctx, 8);
  ArrayRef<char> raw(reinterpret_cast<const char *>(stream.data()),
                     stream.size());
  std::string name = getWeightResourceName(prefix, layer, "weight");
  Value codes;
  if (spec.bits == 8) {
    codes = arith::ConstantOp::create(
        b, loc,
        makeConstant(RankedTensorType::get(filterType.getShape(), i8), raw,
                     /*align=*/64, name, resourceThreshold));
  } else {
    Value packed = arith::ConstantOp::create(
        b, loc,
        makeConstant(RankedTensorType::get({total * spec.bits / 8}, i8), raw,
                     /*align=*/64, name, resourceThreshold));
    Type storage = IntegerType::get(ctx, spec.bits);
    Value flat = UnpackOp::create(
        b, loc, RankedTensorType::get({total}, storage), packed);
    SmallVector<ReassociationIndices> all(1);
    for (int64_t d = 0; d < filterType.getRank(); ++d)
      all[0].push_back(d);
    codes = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get(filterType.getShape(), storage), flat,
        all);
  }
  Value scale = arith::ConstantOp::create(b, loc, params.scale);
  Value zeroPoint;
  if (params.zeroPoint)
    zeroPoint = arith::ConstantOp::create(b, loc, params.zeroPoint);
  Value filter =
      DequantizeOp::create(b, loc, filterType, codes, scale, zeroPoint,
                           /*act_order=*/Value(), params.scheme);
  Operation *oldFilter = filterOperand.get().getDefiningOp();
  filterOperand.set(filter);
  if (oldFilter && oldFilter->use_empty())
    oldFilter->erase();
}
