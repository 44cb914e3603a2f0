//===- QuantizeWeightsRTN.cpp - round-to-nearest weight-only quantization -===//
//
// The simplest weight quantizer: every constant linear weight is rounded to
// the nearest step of a uniform grid whose scale comes from the weight's own
// range, at compile time. The arithmetic mirrors qopt-expand-quant-ops (f32,
// round half to even, zero point added after rounding, then the clamp), so a
// weight quantized here dequantizes to exactly what
// dequantize(quantize(w)) computes at run time.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOpt.h"
#include "qopt/Dialect/QOpt/Transforms/LinearLayers.h"
#include "qopt/Dialect/QOpt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/GlobPattern.h"

#include <cmath>
#include <map>
#include <tuple>

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QUANTIZEWEIGHTSRTN
#include "qopt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {

//===----------------------------------------------------------------------===//
// Settings
//===----------------------------------------------------------------------===//

/// How one layer is quantized (or not, with `fullPrecision`).
struct LayerSpec {
  bool fullPrecision = false;
  int64_t bits = 4;
  Granularity granularity = Granularity::PerGroup;
  int64_t groupSize = 128;
  bool symmetric = true;
};

bool isSupportedBits(int64_t bits) {
  return bits == 2 || bits == 3 || bits == 4 || bits == 8;
}

std::optional<Granularity> parseGranularity(StringRef text) {
  return llvm::StringSwitch<std::optional<Granularity>>(text)
      .Case("per-channel", Granularity::PerChannel)
      .Case("per_channel", Granularity::PerChannel)
      .Case("per-group", Granularity::PerGroup)
      .Case("per_group", Granularity::PerGroup)
      .Case("per-tensor", Granularity::PerTensor)
      .Case("per_tensor", Granularity::PerTensor)
      .Default(std::nullopt);
}

/// Parses `fp` | `int<bits>[-g<G>|-pc|-pt][-sym|-asym]`; what the spec does
/// not say comes from `defaults`. On failure, `error` says why.
std::optional<LayerSpec> parseSpec(StringRef text, const LayerSpec &defaults,
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
  bool sawGranularity = false, sawSymmetry = false;
  for (StringRef part : llvm::drop_begin(parts)) {
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
              "'; expected g<group size>, pc, pt, sym or asym";
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

/// One `GLOB=SPEC` entry of the `overrides` option.
struct Override {
  llvm::GlobPattern glob;
  LayerSpec spec;
};

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

/// Resource blob names allow letters, digits, '_' and '.'.
std::string getResourceName(StringRef layer, StringRef what) {
  std::string name =
      ("rtn." + (layer.empty() ? StringRef("linear") : layer) + "." + what)
          .str();
  for (char &c : name)
    if (!llvm::isAlnum(c) && c != '_' && c != '.')
      c = '_';
  return name;
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

/// The logical `[N, K]` weight in row-major f32, and why not when it cannot
/// be read (empty reason: not a constant f32 weight, skip silently).
FailureOr<SmallVector<float>> readWeight(LinearOp op, std::string &reason) {
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

/// A quantized `[N, K]` weight: stored bytes (packed below 8 bits) and one
/// scale and zero point per parameter block.
struct QuantizedWeight {
  SmallVector<int8_t> bytes;
  SmallVector<float> scales;
  SmallVector<uint8_t> zeroPoints;
};

QuantizedWeight quantize(ArrayRef<float> w, int64_t n, int64_t k,
                         const LayerSpec &spec) {
  int64_t groupsPerRow =
      spec.granularity == Granularity::PerGroup ? k / spec.groupSize : 1;
  int64_t numParams =
      spec.granularity == Granularity::PerTensor ? 1 : n * groupsPerRow;
  auto paramIndex = [&](int64_t row, int64_t col) -> int64_t {
    switch (spec.granularity) {
    case Granularity::PerTensor:
      return 0;
    case Granularity::PerGroup:
      return row * groupsPerRow + col / spec.groupSize;
    default:
      return row;
    }
  };

  // Ranges, widened to contain 0.
  SmallVector<float> lo(numParams, 0.0f), hi(numParams, 0.0f);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col) {
      int64_t p = paramIndex(row, col);
      float v = w[row * k + col];
      lo[p] = std::min(lo[p], v);
      hi[p] = std::max(hi[p], v);
    }

  QuantizedWeight result;
  float qmin, qmax;
  if (spec.symmetric) {
    // Narrow range: [-qmax, qmax], symmetric around 0.
    qmax = static_cast<float>((int64_t(1) << (spec.bits - 1)) - 1);
    qmin = -qmax;
  } else {
    qmin = 0.0f;
    qmax = static_cast<float>((int64_t(1) << spec.bits) - 1);
  }
  result.scales.resize(numParams);
  result.zeroPoints.assign(numParams, 0);
  SmallVector<float> zeroPoint(numParams, 0.0f);
  for (int64_t p = 0; p < numParams; ++p) {
    float scale;
    if (spec.symmetric) {
      scale = std::max(-lo[p], hi[p]) / qmax;
    } else {
      scale = (hi[p] - lo[p]) / qmax;
    }
    // All zeros (or a range so small that the scale underflows): any scale
    // quantizes the block to exactly 0.
    if (!(scale > 0.0f) || !std::isfinite(scale))
      scale = 1.0f;
    result.scales[p] = scale;
    if (!spec.symmetric) {
      float z = std::nearbyint(-lo[p] / scale);
      z = std::min(std::max(z, qmin), qmax);
      zeroPoint[p] = z;
      result.zeroPoints[p] = static_cast<uint8_t>(z);
    }
  }

  // q = clamp(round_half_even(w / s) + z), as qopt.quantize computes it.
  int64_t bytesPerRow = (k * spec.bits + 7) / 8;
  result.bytes.assign(n * bytesPerRow, 0);
  uint32_t mask = (uint32_t(1) << spec.bits) - 1;
  for (int64_t row = 0; row < n; ++row) {
    auto *out = reinterpret_cast<uint8_t *>(&result.bytes[row * bytesPerRow]);
    for (int64_t col = 0; col < k; ++col) {
      int64_t p = paramIndex(row, col);
      float v = std::nearbyint(w[row * k + col] / result.scales[p]);
      v = std::min(std::max(v + zeroPoint[p], qmin), qmax);
      uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(v)) & mask;
      // The qopt.pack layout: value j in bits [j*B, (j+1)*B) of the row's
      // little-endian bit stream.
      int64_t bit = col * spec.bits;
      int64_t byte = bit / 8, offset = bit % 8;
      out[byte] |= static_cast<uint8_t>(bits << offset);
      if (offset + spec.bits > 8)
        out[byte + 1] |= static_cast<uint8_t>(bits >> (8 - offset));
    }
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct QuantizeWeightsRTNPass
    : public qopt::impl::QuantizeWeightsRTNBase<QuantizeWeightsRTNPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  LogicalResult parseOptions(LayerSpec &defaults,
                             SmallVectorImpl<Override> &parsed);
  /// The replacement's operands, created once per weight and setting.
  struct Parameters {
    ElementsAttr weight, scale, zeroPoint;
    SchemeAttr scheme;
  };
  Parameters build(ArrayRef<float> w, int64_t n, int64_t k,
                   const LayerSpec &spec, StringRef layer);
  ElementsAttr makeConstant(RankedTensorType type, ArrayRef<char> data,
                            size_t align, StringRef name);

  std::map<std::tuple<const void *, bool, int64_t, int, int64_t, bool>,
           Parameters>
      cache;
};

LogicalResult
QuantizeWeightsRTNPass::parseOptions(LayerSpec &defaults,
                                     SmallVectorImpl<Override> &parsed) {
  // Reported at the root's location: attaching the root op itself would
  // print the whole module.
  auto emitError = [&]() {
    return mlir::emitError(getOperation()->getLoc(),
                           "qopt-quantize-weights-rtn: ");
  };
  int64_t bitsValue = bits, groupSizeValue = groupSize;
  if (!isSupportedBits(bitsValue))
    return emitError() << "bits must be 8, 4, 3 or 2, got " << bitsValue;
  std::optional<Granularity> granularityValue = parseGranularity(granularity);
  if (!granularityValue)
    return emitError() << "unknown granularity '" << granularity.getValue()
                       << "'; expected per-channel, per-group or per-tensor";
  if (groupSizeValue <= 0)
    return emitError() << "group-size must be positive, got " << groupSizeValue;
  defaults.bits = bitsValue;
  defaults.granularity = *granularityValue;
  defaults.groupSize = groupSizeValue;
  defaults.symmetric = symmetric;

  for (const std::string &entry : overrides) {
    StringRef text(entry);
    size_t eq = text.rfind('=');
    if (eq == StringRef::npos || eq == 0)
      return emitError() << "override '" << entry << "' is not GLOB=SPEC";
    std::string error;
    std::optional<LayerSpec> spec =
        parseSpec(text.drop_front(eq + 1), defaults, error);
    if (!spec)
      return emitError() << "override '" << entry << "': " << error;
    llvm::Expected<llvm::GlobPattern> glob =
        llvm::GlobPattern::create(text.take_front(eq));
    if (!glob)
      return emitError() << "override '" << entry << "': bad pattern: "
                         << llvm::toString(glob.takeError());
    parsed.push_back({std::move(*glob), *spec});
  }
  return success();
}

ElementsAttr QuantizeWeightsRTNPass::makeConstant(RankedTensorType type,
                                                  ArrayRef<char> data,
                                                  size_t align,
                                                  StringRef name) {
  if (static_cast<int64_t>(data.size()) >= resourceThreshold)
    return DenseResourceElementsAttr::get(
        type, name, HeapAsmResourceBlob::allocateAndCopyWithAlign(data, align));
  return DenseElementsAttr::getFromRawBuffer(type, data);
}

QuantizeWeightsRTNPass::Parameters
QuantizeWeightsRTNPass::build(ArrayRef<float> w, int64_t n, int64_t k,
                              const LayerSpec &spec, StringRef layer) {
  MLIRContext *ctx = &getContext();
  QuantizedWeight q = quantize(w, n, k, spec);
  Parameters result;

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

  auto i8 = IntegerType::get(ctx, 8);
  int64_t bytesPerRow = static_cast<int64_t>(q.bytes.size()) / n;
  result.weight = makeConstant(
      RankedTensorType::get({n, bytesPerRow}, i8),
      ArrayRef<char>(reinterpret_cast<const char *>(q.bytes.data()),
                     q.bytes.size()),
      /*align=*/64, getResourceName(layer, "weight"));
  result.scale = makeConstant(
      RankedTensorType::get(paramShape, Float32Type::get(ctx)),
      ArrayRef<char>(reinterpret_cast<const char *>(q.scales.data()),
                     q.scales.size() * sizeof(float)),
      alignof(float), getResourceName(layer, "scale"));
  if (!spec.symmetric) {
    auto zpType =
        RankedTensorType::get(paramShape, IntegerType::get(ctx, spec.bits));
    if (spec.bits == 8) {
      result.zeroPoint = makeConstant(
          zpType,
          ArrayRef<char>(reinterpret_cast<const char *>(q.zeroPoints.data()),
                         q.zeroPoints.size()),
          1, getResourceName(layer, "zero_point"));
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

void QuantizeWeightsRTNPass::runOnOperation() {
  LayerSpec defaults;
  SmallVector<Override> parsedOverrides;
  if (failed(parseOptions(defaults, parsedOverrides)))
    return signalPassFailure();

  SmallVector<LinearOp> linears;
  getOperation()->walk([&](LinearOp op) { linears.push_back(op); });

  // What the pass did with every layer: a remark per layer and a summary,
  // so that "nothing was quantized" is never silent.
  std::map<std::string, int64_t> quantized;
  int64_t heads = 0, kept = 0, overriddenFp = 0, nonConstant = 0,
          unquantizable = 0;
  auto describe = [](const LayerSpec &spec) {
    std::string text = "int" + std::to_string(spec.bits);
    if (spec.granularity == Granularity::PerGroup)
      text += " g" + std::to_string(spec.groupSize);
    else
      text += spec.granularity == Granularity::PerChannel ? " pc" : " pt";
    return spec.symmetric ? text : text + " asym";
  };
  auto displayName = [](LinearOp op) -> std::string {
    StringRef name = getLayerName(op.getLoc());
    return name.empty() ? std::string("an unnamed layer")
                        : "'" + name.str() + "'";
  };
  auto leave = [&](LinearOp op, int64_t &counter, StringRef why) {
    ++counter;
    emitRemark(op.getLoc(), "rtn: left ")
        << displayName(op) << " fp32: " << why;
  };

  for (LinearOp op : linears) {
    if (op->hasAttr(QOptDialect::kKeepFullPrecisionAttrName)) {
      leave(op, kept, "qopt.keep_full_precision");
      continue;
    }
    StringRef name = getLayerName(op.getLoc());
    const LayerSpec *chosen = nullptr;
    for (const Override &entry : parsedOverrides)
      if (entry.glob.match(name)) {
        chosen = &entry.spec;
        break;
      }
    if (!chosen) {
      if (!quantizeHead && isOutputHead(op)) {
        leave(op, heads, "output head (quantize-head=false)");
        continue;
      }
      chosen = &defaults;
    }
    if (chosen->fullPrecision) {
      leave(op, overriddenFp, "override 'fp'");
      continue;
    }
    LayerSpec spec = *chosen;

    int64_t n = op.getNumOutputChannels();
    int64_t k = op.getNumInputChannels();
    std::string reason;
    FailureOr<SmallVector<float>> weight = readWeight(op, reason);
    if (failed(weight)) {
      if (!reason.empty()) {
        emitWarning(op.getLoc(), "not quantized: ") << reason;
        ++unquantizable;
      } else {
        leave(op, nonConstant, "the weight is not a constant f32 tensor");
      }
      continue;
    }
    if (spec.granularity == Granularity::PerGroup && k % spec.groupSize != 0) {
      emitRemark(op.getLoc(), "K = ")
          << k << " is not a multiple of group size " << spec.groupSize
          << "; quantized per channel instead";
      spec.granularity = Granularity::PerChannel;
    }
    if ((k * spec.bits) % 8 != 0) {
      emitWarning(op.getLoc(), "not quantized: K = ")
          << k << " values of " << spec.bits << " bits do not fill whole bytes";
      ++unquantizable;
      continue;
    }
    ++quantized[describe(spec)];
    emitRemark(op.getLoc(), "rtn: quantized ")
        << displayName(op) << " as " << describe(spec);
    Attribute weightAttr;
    matchPattern(op.getWeight(), m_Constant(&weightAttr));
    auto key = std::make_tuple(
        weightAttr.getAsOpaquePointer(), op.getTransposeWeight(), spec.bits,
        static_cast<int>(spec.granularity),
        spec.granularity == Granularity::PerGroup ? spec.groupSize : int64_t(0),
        spec.symmetric);
    auto it = cache.find(key);
    if (it == cache.end())
      it = cache.emplace(key, build(*weight, n, k, spec, name)).first;
    const Parameters &params = it->second;

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
  }

  int64_t total = 0;
  for (const auto &entry : quantized)
    total += entry.second;
  InFlightDiagnostic summary = emitRemark(getOperation()->getLoc(), "rtn: ");
  summary << "quantized " << total << " layer" << (total == 1 ? "" : "s");
  if (quantized.size() == 1)
    summary << " (" << quantized.begin()->first << ")";
  else if (!quantized.empty()) {
    summary << " (";
    llvm::interleaveComma(quantized, summary, [&](const auto &entry) {
      summary << entry.first << ": " << entry.second;
    });
    summary << ")";
  }
  summary << ", left "
          << heads + kept + overriddenFp + nonConstant + unquantizable
          << " fp32: head " << heads << ", keep_full_precision " << kept
          << ", non-constant weight " << nonConstant << ", override fp "
          << overriddenFp << ", not quantizable " << unquantizable;
}

} // namespace
