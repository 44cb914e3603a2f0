//===- InsertObservers.cpp - calibration points on linear inputs ----------===//
//
// Calibration observes what quantization will need: the activations that
// enter linear layers. Layers are chosen with the same head rule as the
// weight quantizers (LinearLayers.h), so that a model is calibrated exactly
// where it will be quantized.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOpt.h"
#include "qopt/Dialect/QOpt/Transforms/Passes.h"
#include "qopt/Dialect/QOpt/Utils/LinearLayers.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Regex.h"

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_INSERTOBSERVERS
#include "qopt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct InsertObserversPass
    : public qopt::impl::InsertObserversBase<InsertObserversPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// Compiles `pattern` (empty: no regex); false after reporting an error.
  bool compile(StringRef option, StringRef pattern,
               std::optional<llvm::Regex> &out);
};

bool InsertObserversPass::compile(StringRef option, StringRef pattern,
                                  std::optional<llvm::Regex> &out) {
  if (pattern.empty())
    return true;
  out.emplace(pattern);
  std::string error;
  if (!out->isValid(error)) {
    emitError(getOperation()->getLoc())
        << "qopt-insert-observers: invalid " << option << " regex '" << pattern
        << "': " << error;
    return false;
  }
  return true;
}

/// Whether `value` already passes through an observer named `name` of
/// `kind` (a chain of observes, as this pass builds them).
bool isObserved(Value value, StringRef name, ObserverKind kind) {
  while (auto observe = value.getDefiningOp<ObserveOp>()) {
    if (observe.getName() == name && observe.getObserver().getKind() == kind)
      return true;
    value = observe.getInput();
  }
  return false;
}

void InsertObserversPass::runOnOperation() {
  MLIRContext *ctx = &getContext();
  SmallVector<ObserverAttr> kinds;
  SmallVector<std::string> requested(observers.begin(), observers.end());
  if (requested.empty())
    requested.push_back("min_max");
  for (const std::string &name : requested) {
    std::optional<ObserverKind> kind = symbolizeObserverKind(name);
    if (!kind) {
      emitError(getOperation()->getLoc())
          << "qopt-insert-observers: unknown observer '" << name
          << "'; expected min_max, abs_max, hessian, percentile, mse or "
             "histogram";
      return signalPassFailure();
    }
    auto emitOptionError = [&] {
      return emitError(getOperation()->getLoc())
             << "qopt-insert-observers: observer '" << name << "': ";
    };
    llvm::APFloat percentileValue(percentile.getValue());
    if (failed(ObserverAttr::verify(emitOptionError, *kind, std::nullopt,
                                    percentileValue, bins.getValue())))
      return signalPassFailure();
    // KL calibration compares 128 int8 magnitude levels with at least as
    // many bins (with fewer, the clip would be the whole range).
    if (*kind == ObserverKind::Histogram && bins < 128) {
      emitOptionError() << "a histogram (KL) observer needs at least 128 "
                           "bins, got "
                        << bins.getValue();
      return signalPassFailure();
    }
    ObserverAttr observer = ObserverAttr::get(ctx, *kind, std::nullopt,
                                              percentileValue, bins.getValue());
    kinds.push_back(observer);
  }
  std::optional<llvm::Regex> includeRegex, excludeRegex;
  if (!compile("include", include, includeRegex) ||
      !compile("exclude", exclude, excludeRegex))
    return signalPassFailure();

  SmallVector<LinearOp> linears;
  getOperation()->walk([&](LinearOp op) { linears.push_back(op); });
  for (auto [index, op] : llvm::enumerate(linears)) {
    if (op->hasAttr(QOptDialect::kKeepFullPrecisionAttrName))
      continue;
    StringRef layer = getLayerName(op.getLoc());
    if (excludeRegex && excludeRegex->match(layer))
      continue;
    if (includeRegex) {
      if (!includeRegex->match(layer))
        continue;
    } else if (!observeHead && isOutputHead(op)) {
      continue;
    }
    std::string name =
        (layer.empty() ? "linear" + std::to_string(index) : layer.str()) +
        ":input";
    Value input = op.getInput();
    OpBuilder b(op);
    for (ObserverAttr kind : kinds) {
      if (isObserved(input, name, kind.getKind()))
        continue;
      ObserverAttr observer = kind;
      // Per input channel: the last dimension of the layer's input.
      if (kind.getKind() == ObserverKind::AbsMax)
        observer = ObserverAttr::get(ctx, kind.getKind(),
                                     op.getInput().getType().getRank() - 1,
                                     kind.getPercentile(), kind.getBins());
      input = ObserveOp::create(b, op.getLoc(), input.getType(), input, name,
                                observer,
                                /*stats=*/StatsAttr());
    }
    op.getInputMutable().assign(input);
  }

  // Convolution layers (what qopt-quantize-w8a8 quantizes too): the same
  // selection but for the head rule, which is about linear layers. The
  // input is NCHW, so abs_max is per channel along dimension 1; the Hessian
  // of a linear layer's input has no meaning here and is not recorded.
  for (auto [index, op] :
       llvm::enumerate(getConvolutionLayers(getOperation()))) {
    if (op->hasAttr(QOptDialect::kKeepFullPrecisionAttrName))
      continue;
    StringRef layer = getLayerName(op.getLoc());
    if (excludeRegex && excludeRegex->match(layer))
      continue;
    if (includeRegex && !includeRegex->match(layer))
      continue;
    std::string name =
        (layer.empty() ? "conv" + std::to_string(index) : layer.str()) +
        ":input";
    OpOperand &operand = *op.getDpsInputOperand(0);
    Value input = operand.get();
    OpBuilder b(op);
    for (ObserverAttr kind : kinds) {
      if (kind.getKind() == ObserverKind::Hessian ||
          isObserved(input, name, kind.getKind()))
        continue;
      ObserverAttr observer = kind;
      if (kind.getKind() == ObserverKind::AbsMax)
        observer = ObserverAttr::get(ctx, kind.getKind(), /*axis=*/1,
                                     kind.getPercentile(), kind.getBins());
      input = ObserveOp::create(b, op.getLoc(), input.getType(), input, name,
                                observer,
                                /*stats=*/StatsAttr());
    }
    operand.set(input);
  }
}

} // namespace
