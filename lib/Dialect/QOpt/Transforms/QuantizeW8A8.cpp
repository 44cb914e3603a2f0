//===- QuantizeW8A8.cpp - int8 weights and int8 activations --------------===//
//
// W8A8: linear layers and convolutions whose products are integer. Weights
// are quantized at compile time, per output channel, with the arithmetic of
// RTN int8 (qopt-quantize-weights-rtn); activations either at run time, one
// scale per token (qopt.dynamic_quantize; one per tensor for convolutions),
// or with one scale per tensor from calibration statistics (qopt.quantize).
// A linear layer becomes qopt.quantized_linear, which the CPU code generator
// runs on the runtime's int8 GEMM kernels and qopt-expand-quant-ops expands
// to the reference loops. A convolution becomes the same Conv generic on
// int8 operands accumulating in i32 (plain linalg, so every backend runs it;
// the CPU one calls qrt_uk_conv2d_s8_i32) and an elementwise rescale.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOpt.h"
#include "qopt/Dialect/QOpt/Transforms/Passes.h"
#include "qopt/Dialect/QOpt/Utils/LinearLayers.h"
#include "qopt/Dialect/QOpt/Utils/WeightQuantization.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/Regex.h"

#include <cmath>
#include <map>

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QUANTIZEW8A8
#include "qopt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// What happens to one layer.
enum class Mode { FullPrecision, Dynamic, Static };

std::optional<Mode> parseMode(StringRef text) {
  if (text == "dynamic")
    return Mode::Dynamic;
  if (text == "static")
    return Mode::Static;
  if (text == "fp" || text == "fp32")
    return Mode::FullPrecision;
  return std::nullopt;
}

/// One `GLOB=SPEC` entry of the `overrides` option.
struct Override {
  std::string text;
  llvm::GlobPattern glob;
  Mode mode;
};

/// `value` with 6 significant digits, for remarks.
std::string formatFloat(float value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::format("%g", value);
  return text;
}

/// Largest int8 magnitude of the symmetric narrow range.
constexpr float kQMax = 127.0f;

/// Below this max |x| a tensor quantizes to zeros with scale 1 (the rule of
/// qopt.dynamic_quantize): amax / 127 stays a normal f32.
constexpr float kTinyAbsMax = 0x1p-119f;

//===----------------------------------------------------------------------===//
// Static activation scales
//===----------------------------------------------------------------------===//

/// The largest |v| of a statistics tensor, if it is a readable f32 tensor.
std::optional<float> largestMagnitude(ElementsAttr values) {
  if (!values || !values.getElementType().isF32())
    return std::nullopt;
  float result = 0.0f;
  bool any = false;
  auto visit = [&](float v) {
    result = std::max(result, std::fabs(v));
    any = true;
  };
  if (auto dense = dyn_cast<DenseElementsAttr>(values)) {
    for (float v : dense.getValues<float>())
      visit(v);
  } else if (auto blob = dyn_cast<DenseF32ResourceElementsAttr>(values)) {
    std::optional<ArrayRef<float>> data = blob.tryGetAsArrayRef();
    if (!data)
      return std::nullopt;
    for (float v : *data)
      visit(v);
  }
  return any ? std::optional<float>(result) : std::nullopt;
}

/// Whether `kind` clips the range (its min/max are the clipped range that
/// qopt-apply-calibration wrote, not the observed extremes).
bool isClippingObserver(ObserverKind kind) {
  return kind == ObserverKind::Percentile || kind == ObserverKind::MSE ||
         kind == ObserverKind::Histogram;
}

/// max |x| of the range that the statistics of one observer stand for.
std::optional<float> getRangeAbsMax(ObserveOp observe) {
  StatsAttr stats = observe.getStatsAttr();
  if (!stats)
    return std::nullopt;
  if (observe.getObserver().getKind() == ObserverKind::AbsMax)
    return largestMagnitude(stats.getAbsmax());
  std::optional<float> lo = largestMagnitude(stats.getMin());
  std::optional<float> hi = largestMagnitude(stats.getMax());
  if (!lo || !hi)
    return std::nullopt;
  return std::max(*lo, *hi);
}

/// max |x| from the calibration statistics on the chain of observers that
/// feeds `input`. With `range` = `auto`: the one clipping observer
/// (percentile, mse or histogram) if the chain has one, else `min_max`, else
/// the largest channel of `abs_max`; several different clipping observers
/// are ambiguous (`ambiguous` is set). Otherwise the observer of that kind.
std::optional<float> getCalibratedAbsMax(Value input,
                                         std::optional<ObserverKind> range,
                                         bool &ambiguous) {
  ambiguous = false;
  std::optional<float> clipped, minMax, absMax;
  std::optional<ObserverKind> clipKind;
  for (auto observe = input.getDefiningOp<ObserveOp>(); observe;
       observe = observe.getInput().getDefiningOp<ObserveOp>()) {
    ObserverKind kind = observe.getObserver().getKind();
    std::optional<float> value = getRangeAbsMax(observe);
    if (!value)
      continue;
    if (range) {
      if (kind == *range)
        return value;
      continue;
    }
    if (isClippingObserver(kind)) {
      if (clipKind && *clipKind != kind)
        ambiguous = true;
      clipKind = kind;
      clipped = value;
    } else if (kind == ObserverKind::MinMax && !minMax) {
      minMax = value;
    } else if (kind == ObserverKind::AbsMax && !absMax) {
      absMax = value;
    }
  }
  if (range || ambiguous)
    return std::nullopt;
  if (clipped)
    return clipped;
  return minMax ? minMax : absMax;
}

/// The input of `op` without the observers that only feed it.
Value stripObservers(Value input, SmallVectorImpl<ObserveOp> &observers) {
  while (auto observe = input.getDefiningOp<ObserveOp>()) {
    if (!observe->hasOneUse())
      break;
    observers.push_back(observe);
    input = observe.getInput();
  }
  return input;
}

/// Whether `op` is a depthwise convolution layer: one input channel per
/// group (filter `[F, 1, kernel...]`) and as many filters as input channels.
bool isDepthwise(Operation *op) {
  auto conv = dyn_cast<linalg::GenericOp>(op);
  if (!conv)
    return false;
  auto x = dyn_cast<RankedTensorType>(conv.getDpsInputs()[0].getType());
  auto w = dyn_cast<RankedTensorType>(conv.getDpsInputs()[1].getType());
  return x && w && x.getRank() >= 3 && w.getRank() == x.getRank() &&
         w.getDimSize(1) == 1 && !x.isDynamicDim(1) &&
         x.getDimSize(1) == w.getDimSize(0) && x.getDimSize(1) > 1;
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct QuantizeW8A8Pass
    : public qopt::impl::QuantizeW8A8Base<QuantizeW8A8Pass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// The options, parsed.
  struct Selection {
    Mode defaultMode = Mode::Dynamic;
    SmallVector<Override> overrides;
    std::optional<llvm::Regex> include, exclude;
  };
  LogicalResult parseOptions(Selection &selection);
  /// The observer kind `range` names; none for `auto`.
  std::optional<ObserverKind> rangeKind;
  /// How `op` (a qopt.linear or a convolution layer) is quantized, and why
  /// when it stays f32. The output-head rule applies to linear layers only.
  Mode choose(const Selection &selection, Operation *op, std::string &why);
  ElementsAttr makeConstant(RankedTensorType type, ArrayRef<char> data,
                            size_t align, StringRef name);
  bool isFP8() const { return storage == "f8E4M3FN"; }
};

LogicalResult QuantizeW8A8Pass::parseOptions(Selection &selection) {
  // Reported at the root's location: attaching the root op itself would
  // print the whole module.
  auto emitError = [&]() {
    return mlir::emitError(getOperation()->getLoc(), "qopt-quantize-w8a8: ");
  };
  std::optional<Mode> mode = parseMode(activations);
  if (!mode || *mode == Mode::FullPrecision)
    return emitError() << "unknown activations '" << activations.getValue()
                       << "'; expected dynamic or static";
  selection.defaultMode = *mode;
  if (storage != "i8" && storage != "f8E4M3FN")
    return emitError() << "unknown storage '" << storage.getValue()
                       << "'; expected i8 or f8E4M3FN";
  rangeKind.reset();
  if (range != "auto") {
    rangeKind = symbolizeObserverKind(range);
    if (!rangeKind || *rangeKind == ObserverKind::Hessian)
      return emitError() << "unknown range '" << range.getValue()
                         << "'; expected auto, min_max, abs_max, percentile, "
                            "mse or histogram";
  }
  for (const std::string &entry : overrides) {
    StringRef text(entry);
    size_t eq = text.rfind('=');
    if (eq == StringRef::npos || eq == 0)
      return emitError() << "override '" << entry << "' is not GLOB=SPEC";
    std::optional<Mode> spec = parseMode(text.drop_front(eq + 1));
    if (!spec)
      return emitError() << "override '" << entry
                         << "': expected fp, dynamic or static after '='";
    llvm::Expected<llvm::GlobPattern> glob =
        llvm::GlobPattern::create(text.take_front(eq));
    if (!glob)
      return emitError() << "override '" << entry << "': bad pattern: "
                         << llvm::toString(glob.takeError());
    selection.overrides.push_back({entry, std::move(*glob), *spec});
  }
  auto compile = [&](StringRef option, StringRef pattern,
                     std::optional<llvm::Regex> &regex) -> LogicalResult {
    if (pattern.empty())
      return success();
    regex.emplace(pattern);
    std::string error;
    if (!regex->isValid(error))
      return emitError() << "invalid " << option << " regex '" << pattern
                         << "': " << error;
    return success();
  };
  if (failed(compile("include", include, selection.include)) ||
      failed(compile("exclude", exclude, selection.exclude)))
    return failure();
  return success();
}

Mode QuantizeW8A8Pass::choose(const Selection &selection, Operation *op,
                              std::string &why) {
  if (op->hasAttr(QOptDialect::kKeepFullPrecisionAttrName)) {
    why = "marked qopt.keep_full_precision";
    return Mode::FullPrecision;
  }
  StringRef name = getLayerName(op->getLoc());
  for (const Override &entry : selection.overrides)
    if (entry.glob.match(name)) {
      why = "override '" + entry.text + "'";
      return entry.mode;
    }
  if (selection.exclude && selection.exclude->match(name)) {
    why = "matches exclude '" + exclude.getValue() + "'";
    return Mode::FullPrecision;
  }
  if (selection.include) {
    if (!selection.include->match(name)) {
      why = "does not match include '" + include.getValue() + "'";
      return Mode::FullPrecision;
    }
    return selection.defaultMode;
  }
  auto linear = dyn_cast<LinearOp>(op);
  if (!quantizeHead && linear && isOutputHead(linear)) {
    why = "the output head (quantize-head=false)";
    return Mode::FullPrecision;
  }
  if (!quantizeDepthwise && isDepthwise(op)) {
    why = "depthwise convolution (quantize-depthwise=false)";
    return Mode::FullPrecision;
  }
  return selection.defaultMode;
}

ElementsAttr QuantizeW8A8Pass::makeConstant(RankedTensorType type,
                                            ArrayRef<char> data, size_t align,
                                            StringRef name) {
  if (static_cast<int64_t>(data.size()) >= resourceThreshold)
    return DenseResourceElementsAttr::get(
        type, name, HeapAsmResourceBlob::allocateAndCopyWithAlign(data, align));
  return DenseElementsAttr::getFromRawBuffer(type, data);
}

void QuantizeW8A8Pass::runOnOperation() {
  Selection selection;
  if (failed(parseOptions(selection)))
    return signalPassFailure();
  // Quantized weights and scales per (weight constant, transposed).
  std::map<std::pair<const void *, bool>, std::pair<ElementsAttr, ElementsAttr>>
      weights;
  MLIRContext *ctx = &getContext();

  SmallVector<LinearOp> linears;
  getOperation()->walk([&](LinearOp op) { linears.push_back(op); });

  // Decide every layer first, so that missing statistics are all reported
  // before anything changes.
  struct Plan {
    Operation *op = nullptr;
    Mode mode = Mode::FullPrecision;
    std::string why;
    float absMax = 0.0f;
  };
  bool missingStats = false;
  // The calibrated max |x| of `input` into `plan`, or an error.
  auto readStats = [&](Plan &plan, Value input, StringRef kind) {
    bool ambiguous = false;
    std::optional<float> absMax =
        getCalibratedAbsMax(input, rangeKind, ambiguous);
    if (absMax) {
      plan.absMax = *absMax;
      return;
    }
    Location loc = plan.op->getLoc();
    StringRef name = getLayerName(loc);
    std::string what =
        name.empty() ? "this " + kind.str() + "'s input"
                     : "the input of " + kind.str() + " '" + name.str() + "'";
    if (ambiguous)
      emitError(loc, "w8a8: ")
          << what
          << " has statistics of several clipping observers; choose one "
             "with range=percentile, mse or histogram";
    else if (rangeKind)
      emitError(loc, "w8a8: range=")
          << range.getValue() << " needs " << what
          << " to have a qopt.observe of that kind with stats; run "
             "qopt-insert-observers{observers="
          << range.getValue()
          << "}, qrun calibrate and qopt-apply-calibration first "
             "(docs/calibration.md)";
    else
      emitError(loc, "w8a8: static activations need calibration "
                     "statistics, but ")
          << what
          << " has no qopt.observe with range stats (min_max, abs_max, "
             "percentile, mse or histogram); run "
             "qopt-insert-observers{observers=min_max}, qrun calibrate and "
             "qopt-apply-calibration first (docs/calibration.md)";
    missingStats = true;
  };
  SmallVector<Plan> plans;
  for (LinearOp op : linears) {
    Plan plan;
    plan.op = op;
    plan.mode = choose(selection, op, plan.why);
    if (plan.mode != Mode::FullPrecision) {
      if (!op.getInput().getType().getElementType().isF32() ||
          !op.getType().getElementType().isF32()) {
        plan.mode = Mode::FullPrecision;
        plan.why = "its input is not f32";
      } else if (!op.getWeight().getType().getElementType().isF32() ||
                 !matchPattern(op.getWeight(), m_Constant())) {
        plan.mode = Mode::FullPrecision;
        plan.why = "the weight is not a constant f32 tensor";
      }
    }
    if (plan.mode == Mode::Static)
      readStats(plan, op.getInput(), "layer");
    plans.push_back(std::move(plan));
  }
  // Convolution layers (the importer's Conv generic, isConvolutionLayer),
  // by the same rules but for the head rule, which is about linear layers.
  SmallVector<Plan> convPlans;
  for (linalg::GenericOp op :
       getConvolutionLayers(getOperation(), /*requireConstantFilter=*/false)) {
    Plan plan;
    plan.op = op;
    plan.mode = choose(selection, op, plan.why);
    Value filter = op.getDpsInputs()[1];
    if (plan.mode != Mode::FullPrecision && isFP8()) {
      plan.mode = Mode::FullPrecision;
      plan.why = "storage=f8E4M3FN quantizes linear layers only";
    }
    if (plan.mode != Mode::FullPrecision) {
      if (!getElementTypeOrSelf(op.getDpsInputs()[0].getType()).isF32() ||
          !getElementTypeOrSelf(op->getResult(0).getType()).isF32()) {
        plan.mode = Mode::FullPrecision;
        plan.why = "its input is not f32";
      } else if (filter.getDefiningOp<DequantizeOp>()) {
        plan.mode = Mode::FullPrecision;
        plan.why = "its filter is already weight-only quantized";
      } else if (!matchPattern(filter, m_Constant())) {
        plan.mode = Mode::FullPrecision;
        plan.why = "the filter is not a constant f32 tensor";
      }
    }
    if (plan.mode == Mode::Static)
      readStats(plan, op.getDpsInputs()[0], "convolution");
    convPlans.push_back(std::move(plan));
  }
  if (missingStats)
    return signalPassFailure();

  // int8: symmetric narrow range [-127, 127]; fp8: E4M3FN's [-448, 448]
  // (float storage has no narrow range).
  bool fp8 = isFP8();
  Type storageElement =
      fp8 ? Type(Float8E4M3FNType::get(ctx)) : Type(IntegerType::get(ctx, 8));
  float qmax = fp8 ? kFP8E4M3Max : kQMax;
  StringRef kindName = fp8 ? "fp8 (f8E4M3FN)" : "int8";
  SchemeAttr weightScheme =
      SchemeAttr::get(ctx, storageElement, Granularity::PerChannel,
                      /*axis=*/0, /*group_size=*/std::nullopt,
                      /*symmetric=*/true, /*narrow_range=*/!fp8);
  auto inputScheme = [&](Granularity granularity) {
    return SchemeAttr::get(ctx, storageElement, granularity, std::nullopt,
                           std::nullopt, /*symmetric=*/true,
                           /*narrow_range=*/!fp8);
  };

  // One quantization per activation tensor (and scale): layers that read
  // the same value (q, k and v projections) share it. It is placed right
  // after the value's definition, where it dominates every reader.
  DenseMap<Value, DynamicQuantizeOp> dynamicQuantizes;
  std::map<std::pair<void *, uint32_t>, QuantizeOp> staticQuantizes;
  auto setInsertionPointAfterValue = [](OpBuilder &b, Value value) {
    if (Operation *def = value.getDefiningOp())
      b.setInsertionPointAfter(def);
    else
      b.setInsertionPointToStart(cast<BlockArgument>(value).getOwner());
  };

  int64_t numDynamic = 0, numStatic = 0, numFullPrecision = 0;
  for (Plan &plan : plans) {
    auto op = cast<LinearOp>(plan.op);
    Location loc = op.getLoc();
    StringRef name = getLayerName(loc);
    if (plan.mode == Mode::FullPrecision) {
      emitRemark(loc, "w8a8: left fp32: ") << plan.why;
      ++numFullPrecision;
      continue;
    }
    std::string reason;
    FailureOr<SmallVector<float>> w = readLinearWeight(op, reason);
    if (failed(w)) {
      if (!reason.empty())
        emitWarning(loc, "w8a8: not quantized: ") << reason;
      emitRemark(loc, "w8a8: left fp32: ")
          << (reason.empty() ? "the weight is not a constant f32 tensor"
                             : reason);
      ++numFullPrecision;
      continue;
    }
    int64_t n = op.getNumOutputChannels(), k = op.getNumInputChannels();

    Attribute weightAttr;
    matchPattern(op.getWeight(), m_Constant(&weightAttr));
    auto key = std::make_pair(weightAttr.getAsOpaquePointer(),
                              op.getTransposeWeight());
    auto it = weights.find(key);
    if (it == weights.end()) {
      SmallVector<int8_t> codes;
      SmallVector<float> scales;
      if (fp8) {
        quantizeFP8PerChannel(*w, n, k, codes, scales);
      } else {
        // RTN int8 per output channel, symmetric narrow range, so that the
        // weights match an RTN int8 weight-only layer's exactly.
        LayerSpec spec;
        spec.bits = 8;
        spec.granularity = Granularity::PerChannel;
        QuantizedWeight quantized = quantizeRTN(*w, n, k, spec);
        codes = std::move(quantized.bytes);
        scales = std::move(quantized.scales);
      }
      ElementsAttr qAttr = makeConstant(
          RankedTensorType::get({n, k}, storageElement),
          ArrayRef<char>(reinterpret_cast<const char *>(codes.data()),
                         codes.size()),
          /*align=*/64, getWeightResourceName("w8a8", name, "weight"));
      ElementsAttr sAttr = makeConstant(
          RankedTensorType::get({n}, Float32Type::get(ctx)),
          ArrayRef<char>(reinterpret_cast<const char *>(scales.data()),
                         scales.size() * sizeof(float)),
          alignof(float), getWeightResourceName("w8a8", name, "weight_scale"));
      it = weights.emplace(key, std::make_pair(qAttr, sAttr)).first;
    }

    OpBuilder b(op);
    SmallVector<ObserveOp> observers;
    Value input = stripObservers(op.getInput(), observers);
    auto inputType = cast<RankedTensorType>(input.getType());
    auto storageType =
        RankedTensorType::get(inputType.getShape(), storageElement);
    Value quantized, inputScale;
    SchemeAttr scheme;
    if (plan.mode == Mode::Dynamic) {
      scheme = inputScheme(Granularity::PerToken);
      DynamicQuantizeOp &dynamic = dynamicQuantizes[input];
      if (!dynamic) {
        auto scaleType = RankedTensorType::get(inputType.getShape().drop_back(),
                                               Float32Type::get(ctx));
        OpBuilder::InsertionGuard guard(b);
        setInsertionPointAfterValue(b, input);
        dynamic = DynamicQuantizeOp::create(b, loc, storageType, scaleType,
                                            input, scheme);
      }
      quantized = dynamic.getResult();
      inputScale = dynamic.getScale();
      emitRemark(loc, "w8a8: ")
          << kindName << " weights per channel, " << kindName
          << " activations per token (dynamic)";
      ++numDynamic;
    } else {
      scheme = inputScheme(Granularity::PerTensor);
      float scale = plan.absMax / qmax;
      if (!(plan.absMax >= kTinyAbsMax))
        scale = 1.0f;
      QuantizeOp &quantize = staticQuantizes[{input.getAsOpaquePointer(),
                                              llvm::bit_cast<uint32_t>(scale)}];
      if (!quantize) {
        OpBuilder::InsertionGuard guard(b);
        setInsertionPointAfterValue(b, input);
        Value scaleConstant = arith::ConstantOp::create(
            b, loc,
            DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                   b.getF32FloatAttr(scale)));
        quantize = QuantizeOp::create(b, loc, storageType, input, scaleConstant,
                                      /*zero_point=*/Value(),
                                      /*act_order=*/Value(), scheme);
      }
      quantized = quantize.getResult();
      inputScale = quantize.getScale();
      emitRemark(loc, "w8a8: ")
          << kindName << " weights per channel, " << kindName
          << " activations per tensor (static, scale " << formatFloat(scale)
          << " from max |x| = " << formatFloat(plan.absMax) << ")";
      ++numStatic;
    }
    Value qWeight = arith::ConstantOp::create(b, loc, it->second.first);
    Value wScale = arith::ConstantOp::create(b, loc, it->second.second);
    Value replacement = QuantizedLinearOp::create(
        b, loc, op.getType(), quantized, qWeight, inputScale,
        /*input_zero_point=*/Value(), wScale, /*weight_zero_point=*/Value(),
        op.getBias(), scheme, weightScheme);
    Operation *oldWeight = op.getWeight().getDefiningOp();
    op.replaceAllUsesWith(replacement);
    op.erase();
    for (ObserveOp observe : observers) {
      observe.replaceAllUsesWith(observe.getInput());
      observe.erase();
    }
    if (oldWeight && oldWeight->use_empty())
      oldWeight->erase();
  }
  // Convolutions: int8 filter per output channel, int8 activations per
  // tensor (dynamic or static), i32 accumulation, one rescale.
  int64_t convQuantized = 0, convLeft = 0;
  DenseMap<Value, DynamicQuantizeOp> dynamicTensorQuantizes;
  for (Plan &plan : convPlans) {
    auto op = cast<linalg::GenericOp>(plan.op);
    Location loc = op.getLoc();
    StringRef name = getLayerName(loc);
    std::string display = name.empty() ? std::string("an unnamed convolution")
                                       : "convolution '" + name.str() + "'";
    // The observers on a convolution's input go either way: nothing after
    // this pass reads convolution statistics, and an observer left in a
    // compiled artifact records statistics on every run (the depthwise rule
    // leaves many convolutions f32).
    auto dropObservers = [&] {
      SmallVector<ObserveOp> observers;
      stripObservers(op.getDpsInputs()[0], observers);
      for (ObserveOp observe : observers) {
        observe.replaceAllUsesWith(observe.getInput());
        observe.erase();
      }
    };
    if (plan.mode == Mode::FullPrecision) {
      emitRemark(loc, "w8a8: left ") << display << " fp32: " << plan.why;
      ++numFullPrecision;
      ++convLeft;
      dropObservers();
      continue;
    }
    std::string reason;
    FailureOr<SmallVector<float>> filter = readConvolutionFilter(op, reason);
    if (failed(filter)) {
      if (!reason.empty())
        emitWarning(loc, "w8a8: not quantized: ") << reason;
      emitRemark(loc, "w8a8: left ")
          << display << " fp32: "
          << (reason.empty() ? "the filter is not a constant f32 tensor"
                             : reason);
      ++numFullPrecision;
      ++convLeft;
      dropObservers();
      continue;
    }
    auto filterType = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
    int64_t f = filterType.getDimSize(0), k = filterType.getNumElements() / f;
    LayerSpec spec;
    spec.bits = 8;
    spec.granularity = Granularity::PerChannel;
    QuantizedWeight quantized = quantizeRTN(*filter, f, k, spec);

    OpBuilder b(op);
    // The input without its observers and, when it is a zero padding
    // (the importer's tensor.pad before every padded Conv), without the
    // padding: the int8 tensor is padded instead, a quarter of the copy.
    // Zero pads quantize to zero, so the result is the same.
    SmallVector<ObserveOp> observers;
    Value input = stripObservers(op.getDpsInputs()[0], observers);
    tensor::PadOp pad = input.getDefiningOp<tensor::PadOp>();
    if (pad) {
      Value padValue = pad.getConstantPaddingValue();
      if (!pad->hasOneUse() || !padValue ||
          !matchPattern(padValue, m_PosZeroFloat()))
        pad = {};
    }
    Value source = pad ? pad.getSource() : input;
    auto sourceType = cast<RankedTensorType>(source.getType());
    auto storageType =
        RankedTensorType::get(sourceType.getShape(), IntegerType::get(ctx, 8));
    SchemeAttr scheme = inputScheme(Granularity::PerTensor);
    Value qInput, inputScale;
    if (plan.mode == Mode::Dynamic) {
      DynamicQuantizeOp &dynamic = dynamicTensorQuantizes[source];
      if (!dynamic) {
        OpBuilder::InsertionGuard guard(b);
        setInsertionPointAfterValue(b, source);
        dynamic = DynamicQuantizeOp::create(
            b, loc, storageType, RankedTensorType::get({}, b.getF32Type()),
            source, scheme);
      }
      qInput = dynamic.getResult();
      inputScale = dynamic.getScale();
      emitRemark(loc, "w8a8: ")
          << display
          << ": int8 weights per output channel, int8 activations per tensor "
             "(dynamic)";
      ++numDynamic;
    } else {
      float scale = plan.absMax / qmax;
      if (!(plan.absMax >= kTinyAbsMax))
        scale = 1.0f;
      QuantizeOp &quantize = staticQuantizes[{source.getAsOpaquePointer(),
                                              llvm::bit_cast<uint32_t>(scale)}];
      if (!quantize) {
        OpBuilder::InsertionGuard guard(b);
        setInsertionPointAfterValue(b, source);
        Value scaleConstant = arith::ConstantOp::create(
            b, loc,
            DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                   b.getF32FloatAttr(scale)));
        quantize = QuantizeOp::create(b, loc, storageType, source,
                                      scaleConstant, /*zero_point=*/Value(),
                                      /*act_order=*/Value(), scheme);
      }
      qInput = quantize.getResult();
      inputScale = quantize.getScale();
      emitRemark(loc, "w8a8: ")
          << display
          << ": int8 weights per output channel, int8 activations per tensor "
             "(static, scale "
          << formatFloat(scale)
          << " from max |x| = " << formatFloat(plan.absMax) << ")";
      ++numStatic;
    }
    ++convQuantized;
    if (pad) {
      Value zero = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
      qInput = tensor::PadOp::create(
          b, pad.getLoc(),
          RankedTensorType::get(pad.getResultType().getShape(), b.getI8Type()),
          qInput, pad.getMixedLowPad(), pad.getMixedHighPad(), zero);
    }
    ElementsAttr qAttr = makeConstant(
        RankedTensorType::get(filterType.getShape(), b.getI8Type()),
        ArrayRef<char>(reinterpret_cast<const char *>(quantized.bytes.data()),
                       quantized.bytes.size()),
        /*align=*/64, getWeightResourceName("w8a8", name, "weight"));
    ElementsAttr sAttr = makeConstant(
        RankedTensorType::get({f}, b.getF32Type()),
        ArrayRef<char>(reinterpret_cast<const char *>(quantized.scales.data()),
                       quantized.scales.size() * sizeof(float)),
        alignof(float), getWeightResourceName("w8a8", name, "weight_scale"));
    Value qFilter = arith::ConstantOp::create(b, loc, qAttr);
    Value filterScale = arith::ConstantOp::create(b, loc, sAttr);

    // acc = conv(qx, qw) in i32, the Conv generic's maps and loops.
    Value output = op.getDpsInits()[0];
    auto outputType = cast<RankedTensorType>(output.getType());
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, output);
    Value accInit =
        linalg::FillOp::create(
            b, loc,
            ValueRange{
                arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0))},
            ValueRange{tensor::EmptyOp::create(b, loc, sizes, b.getI32Type())})
            .getResult(0);
    Value acc = linalg::GenericOp::create(
                    b, loc, TypeRange{accInit.getType()},
                    ValueRange{qInput, qFilter}, ValueRange{accInit},
                    op.getIndexingMapsArray(), op.getIteratorTypesArray(),
                    [](OpBuilder &nb, Location nl, ValueRange args) {
                      Type i32 = nb.getI32Type();
                      Value x = arith::ExtSIOp::create(nb, nl, i32, args[0]);
                      Value w = arith::ExtSIOp::create(nb, nl, i32, args[1]);
                      Value product = arith::MulIOp::create(nb, nl, x, w);
                      Value sum =
                          arith::AddIOp::create(nb, nl, args[2], product);
                      linalg::YieldOp::create(nb, nl, ValueRange{sum});
                    })
                    .getResult(0);
    // y = ((f32)acc * sx) * sw[f]: the rounding order of
    // qopt.quantized_linear's epilogue.
    int64_t rank = outputType.getRank();
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap scalar = AffineMap::get(rank, 0, {}, ctx);
    AffineMap channel =
        AffineMap::get(rank, 0, {getAffineDimExpr(1, ctx)}, ctx);
    Value rescaled =
        linalg::GenericOp::create(
            b, loc, TypeRange{outputType},
            ValueRange{acc, inputScale, filterScale},
            ValueRange{tensor::EmptyOp::create(b, loc, sizes,
                                               outputType.getElementType())},
            ArrayRef<AffineMap>{identity, scalar, channel, identity},
            SmallVector<utils::IteratorType>(rank,
                                             utils::IteratorType::parallel),
            [](OpBuilder &nb, Location nl, ValueRange args) {
              Value v =
                  arith::SIToFPOp::create(nb, nl, nb.getF32Type(), args[0]);
              v = arith::MulFOp::create(nb, nl, v, args[1]);
              v = arith::MulFOp::create(nb, nl, v, args[2]);
              linalg::YieldOp::create(nb, nl, ValueRange{v});
            })
            .getResult(0);

    // An accumulation into anything but a zero fill adds the old output.
    auto fill = output.getDefiningOp<linalg::FillOp>();
    Attribute fillValue;
    if (!fill ||
        !matchPattern(fill.getInputs().front(), m_Constant(&fillValue)) ||
        !isa<FloatAttr>(fillValue) ||
        !cast<FloatAttr>(fillValue).getValue().isPosZero())
      rescaled =
          linalg::GenericOp::create(
              b, loc, TypeRange{outputType}, ValueRange{rescaled, output},
              ValueRange{tensor::EmptyOp::create(b, loc, sizes,
                                                 outputType.getElementType())},
              ArrayRef<AffineMap>{identity, identity, identity},
              SmallVector<utils::IteratorType>(rank,
                                               utils::IteratorType::parallel),
              [](OpBuilder &nb, Location nl, ValueRange args) {
                Value v = arith::AddFOp::create(nb, nl, args[1], args[0]);
                linalg::YieldOp::create(nb, nl, ValueRange{v});
              })
              .getResult(0);

    Operation *oldFilter = op.getDpsInputs()[1].getDefiningOp();
    op->getResult(0).replaceAllUsesWith(rescaled);
    op.erase();
    for (ObserveOp observe : observers) {
      observe.replaceAllUsesWith(observe.getInput());
      observe.erase();
    }
    if (pad && pad->use_empty())
      pad.erase();
    Operation *oldInit =
        fill ? fill.getOutputs().front().getDefiningOp() : nullptr;
    for (Operation *dead : {oldFilter, output.getDefiningOp(), oldInit})
      if (dead && dead->use_empty())
        dead->erase();
  }

  InFlightDiagnostic summary =
      emitRemark(getOperation()->getLoc(), "w8a8: quantized ");
  summary << numDynamic + numStatic << " layers (" << numDynamic << " dynamic, "
          << numStatic << " static), left " << numFullPrecision << " fp32";
  if (convQuantized + convLeft > 0)
    summary << "; convolutions among them: " << convQuantized << " quantized, "
            << convLeft << " left fp32";
}

} // namespace
