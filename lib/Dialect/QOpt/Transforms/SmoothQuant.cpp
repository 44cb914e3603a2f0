//===- SmoothQuant.cpp - migrate activation outliers into weights ---------===//
//
// SmoothQuant (Xiao et al., 2023): divide input channel j of a linear layer
// by s_j and multiply the weights' row j by s_j. The product is unchanged in
// exact arithmetic, and with s chosen from the calibrated activation range
// the activations lose their outlier channels, which makes them quantizable
// to 8 bits. The division is folded into whatever produces the value (the
// norm's gamma and beta, or the output channels of a preceding linear) by
// following the def-use graph, so the smoothed model costs nothing extra at
// run time.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOpt.h"
#include "qopt/Dialect/QOpt/Transforms/Passes.h"
#include "qopt/Dialect/QOpt/Utils/LinearLayers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/Regex.h"

#include <cmath>

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_SMOOTHQUANT
#include "qopt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// Smallest and largest smoothing factor. The reference implementation
/// clamps at 1e-5 from below; the upper clamp keeps 1/s a normal f32.
constexpr double kMinScale = 1e-5;
constexpr double kMaxScale = 1e5;

/// A layer in a diagnostic: its name, quoted, or what it is.
std::string describe(LinearOp op) {
  StringRef name = getLayerName(op.getLoc());
  return name.empty() ? std::string("an unnamed linear layer")
                      : ("'" + name + "'").str();
}

/// The values of a constant of element type `T` (dense or dense_resource of
/// `ResourceAttr`) whose element type is `ElementType`, or nothing.
template <typename T, typename ElementType, typename ResourceAttr>
std::optional<SmallVector<T>> readValues(Attribute attr) {
  auto elements = dyn_cast_or_null<ElementsAttr>(attr);
  if (!elements || !isa<ElementType>(elements.getShapedType().getElementType()))
    return std::nullopt;
  SmallVector<T> out;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    auto values = dense.getValues<T>();
    out.assign(values.begin(), values.end());
  } else if (auto resource = dyn_cast<ResourceAttr>(attr)) {
    std::optional<ArrayRef<T>> data = resource.tryGetAsArrayRef();
    if (!data || static_cast<int64_t>(data->size()) !=
                     elements.getShapedType().getNumElements())
      return std::nullopt;
    out.assign(data->begin(), data->end());
  } else {
    return std::nullopt;
  }
  return out;
}

std::optional<SmallVector<float>> readFloats(Attribute attr) {
  return readValues<float, Float32Type, DenseF32ResourceElementsAttr>(attr);
}

std::optional<SmallVector<double>> readDoubles(Attribute attr) {
  return readValues<double, Float64Type, DenseF64ResourceElementsAttr>(attr);
}

/// Whether `user` is the only op that reads the values of `value`: other
/// uses may only ask for its shape (tensor.dim), which scaling leaves alone.
bool readOnlyBy(Value value, Operation *user) {
  return llvm::all_of(value.getUses(), [&](OpOperand &use) {
    return use.getOwner() == user || isa<tensor::DimOp>(use.getOwner());
  });
}

/// The f32 values of a constant tensor operand, or nothing.
std::optional<SmallVector<float>> readConstant(Value value) {
  Attribute attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  return readFloats(attr);
}

/// One rewrite of the producer side: a constant operand whose values are
/// divided by s (per output channel of `channelDim`, see below).
struct ConstantEdit {
  /// The operand to replace with a new constant.
  OpOperand *operand;
  /// For a linear's weight: the dimension that indexes the output channel
  /// (0 for [N, K], 1 for [K, N]); -1 for a 1-D per-channel vector.
  int64_t channelDim;
};

/// A layer chosen by the options, or why not.
struct Group {
  /// The linears that consume the value, in IR order.
  SmallVector<LinearOp> linears;
  /// Every observe op between the value and the linears.
  SetVector<ObserveOp> observes;
};

struct SmoothQuantPass : public qopt::impl::SmoothQuantBase<SmoothQuantPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  struct AlphaOverride {
    llvm::GlobPattern glob;
    double alpha;
  };

  LogicalResult parseOptions();
  bool isSelected(LinearOp op) const;
  double alphaFor(const Group &group) const;

  /// Collects the edits that divide `value` by a per-channel scale without
  /// changing anything else: false when its producer cannot take it.
  /// `value` must have no uses other than the ones being compensated.
  bool planProducer(Value value, SmallVectorImpl<ConstantEdit> &edits);
  /// The same for a scalar of a linalg.generic body.
  bool planBody(linalg::GenericOp generic, Value scalar,
                SmallVectorImpl<ConstantEdit> &edits, unsigned depth);

  ElementsAttr makeConstant(RankedTensorType type, ArrayRef<float> data,
                            StringRef name);
  /// Replaces the constant of `edit` by its values divided by `s`.
  void applyEdit(const ConstantEdit &edit, ArrayRef<float> s, StringRef layer);
  /// Divides the statistics of `op` by `s` (see the pass description).
  void updateStats(ObserveOp op, ArrayRef<float> s, float smoothedAbsMax);

  /// The parsed options, valid during runOnOperation (a pointer keeps the
  /// pass copyable, as pass cloning requires).
  struct Parsed {
    SmallVector<AlphaOverride> alphaOverrides;
    std::optional<llvm::Regex> includeRegex, excludeRegex;
  };
  Parsed *parsed = nullptr;
};

LogicalResult SmoothQuantPass::parseOptions() {
  auto emitError = [&]() {
    return mlir::emitError(getOperation()->getLoc(), "qopt-smooth-quant: ");
  };
  if (!(alpha >= 0.0 && alpha <= 1.0))
    return emitError() << "alpha must be in [0, 1], got " << alpha;
  for (const std::string &entry : overrides) {
    StringRef text(entry);
    size_t eq = text.rfind('=');
    if (eq == StringRef::npos || eq == 0)
      return emitError() << "override '" << entry << "' is not GLOB=ALPHA";
    double value;
    if (text.drop_front(eq + 1).getAsDouble(value) ||
        !(value >= 0.0 && value <= 1.0))
      return emitError() << "override '" << entry
                         << "': alpha must be a number in [0, 1]";
    llvm::Expected<llvm::GlobPattern> glob =
        llvm::GlobPattern::create(text.take_front(eq));
    if (!glob)
      return emitError() << "override '" << entry << "': bad pattern: "
                         << llvm::toString(glob.takeError());
    parsed->alphaOverrides.push_back({std::move(*glob), value});
  }
  for (auto [option, pattern, regex] :
       {std::make_tuple("include", include.getValue(), &parsed->includeRegex),
        std::make_tuple("exclude", exclude.getValue(),
                        &parsed->excludeRegex)}) {
    if (pattern.empty())
      continue;
    regex->emplace(pattern);
    std::string error;
    if (!(*regex)->isValid(error))
      return emitError() << "invalid " << option << " regex '" << pattern
                         << "': " << error;
  }
  return success();
}

bool SmoothQuantPass::isSelected(LinearOp op) const {
  if (op->hasAttr(QOptDialect::kKeepFullPrecisionAttrName))
    return false;
  StringRef layer = getLayerName(op.getLoc());
  if (parsed->excludeRegex && parsed->excludeRegex->match(layer))
    return false;
  if (parsed->includeRegex)
    return parsed->includeRegex->match(layer);
  return !isOutputHead(op);
}

double SmoothQuantPass::alphaFor(const Group &group) const {
  for (LinearOp op : group.linears) {
    StringRef layer = getLayerName(op.getLoc());
    for (const AlphaOverride &entry : parsed->alphaOverrides)
      if (entry.glob.match(layer))
        return entry.alpha;
  }
  return alpha;
}

/// Whether `map` reads a 1-D operand along the innermost loop of an
/// all-parallel generic: (d0, ..., dn-1) -> (dn-1).
static bool isLastDimMap(AffineMap map) {
  if (map.getNumResults() != 1 || map.getNumDims() == 0)
    return false;
  auto dim = dyn_cast<AffineDimExpr>(map.getResult(0));
  return dim && dim.getPosition() == map.getNumDims() - 1;
}

bool SmoothQuantPass::planBody(linalg::GenericOp generic, Value scalar,
                               SmallVectorImpl<ConstantEdit> &edits,
                               unsigned depth) {
  if (depth > 8)
    return false;
  Block *body = generic.getBody();
  if (auto arg = dyn_cast<BlockArgument>(scalar)) {
    if (arg.getOwner() != body || !arg.hasOneUse() ||
        arg.getArgNumber() >= generic.getNumDpsInputs())
      return false;
    OpOperand *operand = generic.getDpsInputOperand(arg.getArgNumber());
    AffineMap map = generic.getMatchingIndexingMap(operand);
    auto type = dyn_cast<RankedTensorType>(operand->get().getType());
    if (!type)
      return false;
    // A per-channel constant (gamma, beta): divide it.
    if (type.getRank() == 1 && isLastDimMap(map) &&
        readConstant(operand->get())) {
      edits.push_back({operand, -1});
      return true;
    }
    // A full tensor read element by element: divide its producer, which
    // must not be seen by anyone else.
    if (map.isIdentity() && readOnlyBy(operand->get(), generic) &&
        llvm::count(generic->getOperands(), operand->get()) == 1)
      return planProducer(operand->get(), edits);
    return false;
  }
  Operation *op = scalar.getDefiningOp();
  if (!op || op->getBlock() != body || !scalar.hasOneUse())
    return false;
  // (a * b) / s = (a / s) * b: one factor takes the scale, preferring a
  // constant factor (the gamma) over an activation.
  if (auto mul = dyn_cast<arith::MulFOp>(op)) {
    auto isConstantArg = [&](Value v) {
      auto arg = dyn_cast<BlockArgument>(v);
      return arg && arg.getOwner() == body &&
             arg.getArgNumber() < generic.getNumDpsInputs() &&
             matchPattern(generic.getDpsInputOperand(arg.getArgNumber())->get(),
                          m_Constant());
    };
    Value lhs = mul.getLhs(), rhs = mul.getRhs();
    if (isConstantArg(rhs) && !isConstantArg(lhs))
      std::swap(lhs, rhs);
    for (Value factor : {lhs, rhs}) {
      SmallVector<ConstantEdit> tried;
      if (planBody(generic, factor, tried, depth + 1)) {
        edits.append(tried);
        return true;
      }
    }
    return false;
  }
  if (auto div = dyn_cast<arith::DivFOp>(op))
    return planBody(generic, div.getLhs(), edits, depth + 1);
  if (auto neg = dyn_cast<arith::NegFOp>(op))
    return planBody(generic, neg.getOperand(), edits, depth + 1);
  // (a + b) / s = a / s + b / s: both terms (x_hat * gamma + beta).
  if (isa<arith::AddFOp, arith::SubFOp>(op))
    return planBody(generic, op->getOperand(0), edits, depth + 1) &&
           planBody(generic, op->getOperand(1), edits, depth + 1);
  return false;
}

bool SmoothQuantPass::planProducer(Value value,
                                   SmallVectorImpl<ConstantEdit> &edits) {
  // A reshape that keeps the innermost dimension (the [B, S, C] -> [B*S, C]
  // collapse before a Gemm): channel j stays channel j.
  if (auto collapse = value.getDefiningOp<tensor::CollapseShapeOp>())
    return collapse.getReassociationIndices().back().size() == 1 &&
           readOnlyBy(collapse.getSrc(), collapse) &&
           planProducer(collapse.getSrc(), edits);
  if (auto expand = value.getDefiningOp<tensor::ExpandShapeOp>())
    return expand.getReassociationIndices().back().size() == 1 &&
           readOnlyBy(expand.getSrc(), expand) &&
           planProducer(expand.getSrc(), edits);
  // A preceding linear: divide its output channels (weight and bias).
  if (auto linear = value.getDefiningOp<LinearOp>()) {
    if (!readConstant(linear.getWeight()) ||
        (linear.getBias() && !readConstant(linear.getBias())))
      return false;
    edits.push_back(
        {&linear.getWeightMutable(), linear.getTransposeWeight() ? 0 : 1});
    if (linear.getBias())
      edits.push_back({&linear.getBiasMutable()[0], -1});
    return true;
  }
  // An elementwise generic (the norm's gamma multiply, a beta add, SwiGLU's
  // product).
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  if (!generic || generic->getNumResults() != 1 ||
      generic.getNumDpsInits() != 1 ||
      generic.getNumParallelLoops() != generic.getNumLoops() ||
      !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
           .isIdentity() ||
      !generic.getBody()->getArgument(generic.getNumDpsInputs()).use_empty())
    return false;
  auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
  SmallVector<ConstantEdit> tried;
  if (!planBody(generic, yield.getOperand(0), tried, 0))
    return false;
  // One constant operand must not be scaled twice (x * g + g would be
  // right, g * g would not): each operand appears once in the plan.
  llvm::SmallPtrSet<OpOperand *, 4> seen;
  for (const ConstantEdit &edit : tried)
    if (!seen.insert(edit.operand).second)
      return false;
  edits.append(tried);
  return true;
}

ElementsAttr SmoothQuantPass::makeConstant(RankedTensorType type,
                                           ArrayRef<float> data,
                                           StringRef name) {
  ArrayRef<char> bytes(reinterpret_cast<const char *>(data.data()),
                       data.size() * sizeof(float));
  if (static_cast<int64_t>(bytes.size()) < resourceThreshold)
    return DenseElementsAttr::getFromRawBuffer(type, bytes);
  // Resource blob names allow letters, digits, '_' and '.'; the manager
  // makes a taken name unique.
  std::string blobName = ("smooth." + name).str();
  for (char &c : blobName)
    if (!llvm::isAlnum(c) && c != '_' && c != '.')
      c = '_';
  return DenseResourceElementsAttr::get(
      type, blobName,
      HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, /*align=*/64));
}

void SmoothQuantPass::applyEdit(const ConstantEdit &edit, ArrayRef<float> s,
                                StringRef layer) {
  Value old = edit.operand->get();
  auto type = cast<RankedTensorType>(old.getType());
  SmallVector<float> values = *readConstant(old);
  int64_t channels = static_cast<int64_t>(s.size());
  if (edit.channelDim < 0) {
    for (int64_t i = 0, e = values.size(); i < e; ++i)
      values[i] /= s[i % channels];
  } else {
    int64_t cols = type.getDimSize(1);
    for (int64_t i = 0, e = values.size(); i < e; ++i)
      values[i] /= s[edit.channelDim == 0 ? i / cols : i % cols];
  }
  OpBuilder b(edit.operand->getOwner());
  Value replacement = arith::ConstantOp::create(
      b, old.getLoc(), makeConstant(type, values, (layer + ".producer").str()));
  edit.operand->set(replacement);
  if (Operation *def = old.getDefiningOp(); def && def->use_empty())
    def->erase();
}

void SmoothQuantPass::updateStats(ObserveOp op, ArrayRef<float> s,
                                  float smoothedAbsMax) {
  StatsAttr stats = op.getStatsAttr();
  if (!stats)
    return;
  MLIRContext *ctx = &getContext();
  ObserverAttr observer = op.getObserver();
  int64_t lastAxis = op.getInput().getType().getRank() - 1;
  bool perChannel = observer.getAxis() && *observer.getAxis() == lastAxis;
  float sMin = *llvm::min_element(s), sMax = *llvm::max_element(s);
  // Per-channel statistics are divided exactly; a per-tensor range gets the
  // tightest bound that the smoothed per-channel abs-max and the old range
  // both guarantee.
  auto divide = [&](ElementsAttr attr, bool isMax) -> ElementsAttr {
    if (!attr)
      return attr;
    std::optional<SmallVector<float>> values = readFloats(attr);
    if (!values)
      return ElementsAttr();
    if (perChannel) {
      for (auto [i, v] : llvm::enumerate(*values))
        v /= s[i];
    } else {
      for (float &v : *values) {
        if (isMax)
          v = std::min(smoothedAbsMax, v >= 0 ? v / sMin : v / sMax);
        else
          v = std::max(-smoothedAbsMax, v <= 0 ? v / sMin : v / sMax);
      }
    }
    return makeConstant(cast<RankedTensorType>(attr.getShapedType()), *values,
                        op.getName());
  };
  switch (observer.getKind()) {
  case ObserverKind::MinMax:
    op.setStatsAttr(StatsAttr::get(
        ctx, stats.getSamples(), divide(stats.getMin(), /*isMax=*/false),
        divide(stats.getMax(), /*isMax=*/true), nullptr, nullptr, nullptr));
    return;
  case ObserverKind::AbsMax:
    op.setStatsAttr(StatsAttr::get(ctx, stats.getSamples(), nullptr, nullptr,
                                   divide(stats.getAbsmax(), /*isMax=*/true),
                                   nullptr, nullptr));
    return;
  case ObserverKind::Hessian: {
    // H = 2 X^T X becomes diag(1/s) H diag(1/s).
    std::optional<SmallVector<double>> h = readDoubles(stats.getHessian());
    if (!h)
      break;
    int64_t k = s.size();
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        (*h)[i * k + j] /= static_cast<double>(s[i]) * s[j];
    auto type = cast<RankedTensorType>(stats.getHessian().getShapedType());
    ArrayRef<char> bytes(reinterpret_cast<const char *>(h->data()),
                         h->size() * sizeof(double));
    ElementsAttr hessian =
        static_cast<int64_t>(bytes.size()) < resourceThreshold
            ? ElementsAttr(DenseElementsAttr::getFromRawBuffer(type, bytes))
            : ElementsAttr(DenseResourceElementsAttr::get(
                  type, "smooth.hessian",
                  HeapAsmResourceBlob::allocateAndCopyWithAlign(
                      bytes, alignof(double))));
    op.setStatsAttr(StatsAttr::get(ctx, stats.getSamples(), nullptr, nullptr,
                                   nullptr, nullptr, hessian));
    return;
  }
  default:
    break;
  }
  // Histograms (and the clip ranges taken from them) do not transform
  // through a per-channel scale: the point must be calibrated again.
  op.emitWarning("smooth-quant: dropped the ")
      << stringifyObserverKind(observer.getKind()) << " statistics of point '"
      << op.getName()
      << "', which smoothing changes in a way they cannot follow; "
         "calibrate the smoothed model again";
  op.removeStatsAttr();
}

void SmoothQuantPass::runOnOperation() {
  Parsed options;
  parsed = &options;
  llvm::scope_exit reset([&] { parsed = nullptr; });
  if (failed(parseOptions()))
    return signalPassFailure();

  // Group the linear layers by the value that feeds them, looking through
  // observation points (insert-observers gives each layer its own chain).
  llvm::MapVector<Value, Group> groups;
  getOperation()->walk([&](LinearOp op) {
    Value value = op.getInput();
    SmallVector<ObserveOp> chain;
    while (auto observe = value.getDefiningOp<ObserveOp>()) {
      chain.push_back(observe);
      value = observe.getInput();
    }
    Group &group = groups[value];
    group.linears.push_back(op);
    group.observes.insert(chain.begin(), chain.end());
  });

  int64_t smoothedValues = 0, smoothedLinears = 0, skipped = 0;
  for (auto &[value, group] : groups) {
    if (llvm::none_of(group.linears,
                      [&](LinearOp op) { return isSelected(op); }))
      continue;
    LinearOp first = group.linears.front();
    StringRef layer = getLayerName(first.getLoc());
    auto skip = [&](Operation *at) {
      ++skipped;
      return at->emitWarning("smooth-quant: input of ")
             << describe(first) << " ";
    };
    auto unselected = llvm::find_if(
        group.linears, [&](LinearOp op) { return !isSelected(op); });
    if (unselected != group.linears.end()) {
      LinearOp other = *unselected;
      skip(other) << "not smoothed: it also feeds " << describe(other)
                  << ", which the options exclude";
      continue;
    }

    // Every use of the value must be a linear's input (through observes),
    // since each one gets the compensating scale.
    Operation *blocker = nullptr;
    SmallVector<Value> worklist = {value};
    while (!worklist.empty() && !blocker) {
      for (OpOperand &use : worklist.pop_back_val().getUses()) {
        Operation *user = use.getOwner();
        if (auto observe = dyn_cast<ObserveOp>(user)) {
          worklist.push_back(observe.getResult());
          continue;
        }
        // Shape queries see no values.
        if (isa<tensor::DimOp>(user))
          continue;
        auto linear = dyn_cast<LinearOp>(user);
        if (!linear || use.getOperandNumber() != 0) {
          blocker = user;
          break;
        }
      }
    }
    if (blocker) {
      StringRef name = getLayerName(blocker->getLoc());
      skip(first) << "not smoothed: it also feeds '" << blocker->getName()
                  << "'" << (name.empty() ? "" : " at '") << name
                  << (name.empty() ? "" : "'")
                  << ", which cannot take the compensating scale";
      continue;
    }

    // The weights, as [K, N] row-major, K = input channels.
    int64_t k = first.getNumInputChannels();
    SmallVector<SmallVector<float>> weights;
    bool weightsOk = true;
    for (LinearOp op : group.linears) {
      std::optional<SmallVector<float>> w = readConstant(op.getWeight());
      if (!w || op.getNumInputChannels() != k ||
          llvm::any_of(*w, [](float v) { return !std::isfinite(v); })) {
        skip(op) << "not smoothed: the weight of " << describe(op)
                 << " is not a finite constant f32 tensor";
        weightsOk = false;
        break;
      }
      weights.push_back(std::move(*w));
    }
    if (!weightsOk)
      continue;

    // max |X_j| over every abs_max point on the value.
    SmallVector<float> xMax;
    for (ObserveOp observe : group.observes) {
      ObserverAttr observer = observe.getObserver();
      StatsAttr stats = observe.getStatsAttr();
      if (observer.getKind() != ObserverKind::AbsMax || !stats ||
          observer.getAxis() != observe.getInput().getType().getRank() - 1)
        continue;
      std::optional<SmallVector<float>> absmax = readFloats(stats.getAbsmax());
      if (!absmax || static_cast<int64_t>(absmax->size()) != k)
        continue;
      if (xMax.empty())
        xMax.assign(k, 0.0f);
      for (int64_t j = 0; j < k; ++j)
        xMax[j] = std::max(xMax[j], (*absmax)[j]);
    }
    if (xMax.empty()) {
      skip(first) << "not smoothed: no calibrated per-channel abs_max "
                     "observer on it (qopt-insert-observers{observers="
                     "abs_max}, then calibrate and apply)";
      continue;
    }

    // max |W_j| over row j of every consumer's weight.
    SmallVector<float> wMax(k, 0.0f);
    for (auto [op, w] : llvm::zip_equal(group.linears, weights)) {
      int64_t n = op.getNumOutputChannels();
      for (int64_t i = 0, e = w.size(); i < e; ++i) {
        int64_t j = op.getTransposeWeight() ? i % k : i / n;
        wMax[j] = std::max(wMax[j], std::fabs(w[i]));
      }
    }

    double a = alphaFor(group);
    SmallVector<float> s(k);
    for (int64_t j = 0; j < k; ++j) {
      // Nothing to migrate from or to a channel that is zero on one side.
      if (xMax[j] == 0.0f || wMax[j] == 0.0f) {
        s[j] = 1.0f;
        continue;
      }
      double value = std::pow(static_cast<double>(xMax[j]), a) /
                     std::pow(static_cast<double>(wMax[j]), 1.0 - a);
      s[j] = static_cast<float>(std::clamp(value, kMinScale, kMaxScale));
    }

    // The producer takes 1/s; without a foldable one, a qopt.smooth does.
    SmallVector<ConstantEdit> edits;
    bool folded = planProducer(value, edits);
    if (!folded && !insertSmooth) {
      skip(first) << "not smoothed: its producer cannot take the scale "
                     "(not a norm's per-channel constant nor a linear) and "
                     "insert-smooth is off";
      continue;
    }

    if (folded) {
      for (const ConstantEdit &edit : edits)
        applyEdit(edit, s, layer);
    } else {
      OpBuilder b(first.getContext());
      b.setInsertionPointAfterValue(value);
      auto type = RankedTensorType::get({k}, b.getF32Type());
      Value scale = arith::ConstantOp::create(
          b, value.getLoc(),
          makeConstant(type, s, (layer + ".smooth_scale").str()));
      auto smooth =
          SmoothOp::create(b, value.getLoc(), value.getType(), value, scale);
      value.replaceAllUsesExcept(smooth.getResult(), smooth);
      first.emitRemark("smooth-quant: input of ")
          << describe(first)
          << " has no producer that can take the scale; inserted "
          << "qopt.smooth (a division at run time)";
    }

    for (auto [op, w] : llvm::zip_equal(group.linears, weights)) {
      int64_t n = op.getNumOutputChannels();
      for (int64_t i = 0, e = w.size(); i < e; ++i)
        w[i] *= s[op.getTransposeWeight() ? i % k : i / n];
      Value old = op.getWeight();
      OpBuilder b(op);
      Value replacement = arith::ConstantOp::create(
          b, old.getLoc(),
          makeConstant(cast<RankedTensorType>(old.getType()), w,
                       (getLayerName(op.getLoc()) + ".weight").str()));
      op.getWeightMutable().assign(replacement);
      if (Operation *def = old.getDefiningOp(); def && def->use_empty())
        def->erase();
    }

    float smoothedAbsMax = 0.0f;
    for (int64_t j = 0; j < k; ++j)
      smoothedAbsMax = std::max(smoothedAbsMax, xMax[j] / s[j]);
    for (ObserveOp observe : group.observes)
      updateStats(observe, s, smoothedAbsMax);

    ++smoothedValues;
    smoothedLinears += group.linears.size();
  }
  emitRemark(getOperation()->getLoc())
      << "smooth-quant: smoothed " << smoothedValues << " values ("
      << smoothedLinears << " linears), skipped " << skipped;
}

} // namespace
