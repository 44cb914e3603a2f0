//===- QuantizeWeightsRTN.cpp - round-to-nearest weight-only quantization -===//
//
// The simplest weight quantizer: every constant linear weight, and every
// constant convolution filter (per output channel), is rounded to the
// nearest step of a uniform grid whose scale comes from the weight's own
// range, at compile time. The grid, the packing, the layer selection and the
// rewrite are the shared ones of Utils/WeightQuantization.h (GPTQ uses the
// same), whose arithmetic mirrors qopt-expand-quant-ops.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOpt.h"
#include "qopt/Dialect/QOpt/Transforms/Passes.h"
#include "qopt/Dialect/QOpt/Utils/LinearLayers.h"
#include "qopt/Dialect/QOpt/Utils/WeightQuantization.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

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

struct QuantizeWeightsRTNPass
    : public qopt::impl::QuantizeWeightsRTNBase<QuantizeWeightsRTNPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  std::map<std::tuple<const void *, bool, int64_t, int, int64_t, bool, bool>,
           WeightOnlyParameters>
      cache;
};

void QuantizeWeightsRTNPass::runOnOperation() {
  WeightQuantizerSettings settings;
  std::string error;
  if (!settings.parse(bits, symmetric, granularity, groupSize, clipSearch,
                      quantizeHead, overrides, resourceThreshold, error)) {
    // Reported at the root's location: attaching the root op itself would
    // print the whole module.
    emitError(getOperation()->getLoc(), "qopt-quantize-weights-rtn: ") << error;
    return signalPassFailure();
  }

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
    if (!spec.symmetric)
      text += " asym";
    return spec.clipSearch ? text + " clip" : text;
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
    std::string why;
    std::optional<LayerSpec> chosen = settings.select(op, &why);
    if (!chosen) {
      if (why == "keep_full_precision")
        leave(op, kept, "qopt.keep_full_precision");
      else if (why == "head")
        leave(op, heads, "output head (quantize-head=false)");
      else
        leave(op, overriddenFp, "override 'fp'");
      continue;
    }
    LayerSpec spec = *chosen;
    StringRef name = getLayerName(op.getLoc());

    int64_t n = op.getNumOutputChannels();
    int64_t k = op.getNumInputChannels();
    std::string reason;
    FailureOr<SmallVector<float>> weight = readLinearWeight(op, reason);
    if (failed(weight)) {
      if (!reason.empty()) {
        emitWarning(op.getLoc(), "not quantized: ") << reason;
        ++unquantizable;
      } else {
        leave(op, nonConstant, "the weight is not a constant f32 tensor");
      }
      continue;
    }
    if (failed(fitSpecToLayer(op, spec))) {
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
        spec.symmetric, spec.clipSearch);
    auto it = cache.find(key);
    if (it == cache.end())
      it = cache
               .emplace(key,
                        buildWeightOnlyParameters(
                            &getContext(), quantizeRTN(*weight, n, k, spec), n,
                            k, spec, "rtn", name, settings.resourceThreshold))
               .first;
    replaceWithWeightOnlyLinear(op, it->second);
  }

  // Convolutions: the filter is replaced by qopt.dequantize of its codes
  // (per output channel or per tensor; Utils/WeightQuantization.h).
  int64_t convQuantized = 0, convLeft = 0;
  for (linalg::GenericOp op :
       getConvolutionLayers(getOperation(), /*requireConstantFilter=*/false)) {
    StringRef name = getLayerName(op.getLoc());
    std::string display = name.empty() ? std::string("an unnamed convolution")
                                       : "convolution '" + name.str() + "'";
    auto leaveConv = [&](int64_t &counter, StringRef why) {
      ++counter;
      ++convLeft;
      emitRemark(op.getLoc(), "rtn: left ") << display << " fp32: " << why;
    };
    // Quantized before (by an earlier run): not an f32 layer.
    Value filterValue = op.getDpsInputs()[1];
    if (filterValue.getDefiningOp<DequantizeOp>())
      continue;
    // A computed filter (ConvTranspose's flipped one, a graph input).
    if (!matchPattern(filterValue, m_Constant())) {
      leaveConv(nonConstant, "the filter is not a constant f32 tensor");
      continue;
    }
    std::string why;
    std::optional<LayerSpec> chosen = settings.select(op, &why);
    if (!chosen) {
      if (why == "keep_full_precision")
        leaveConv(kept, "qopt.keep_full_precision");
      else
        leaveConv(overriddenFp, "override 'fp'");
      continue;
    }
    LayerSpec spec = *chosen;
    std::string reason;
    FailureOr<SmallVector<float>> filter = readConvolutionFilter(op, reason);
    if (failed(filter)) {
      emitWarning(op.getLoc(), "not quantized: ") << reason;
      ++unquantizable;
      ++convLeft;
      continue;
    }
    if (failed(fitSpecToConvolution(op, spec))) {
      ++unquantizable;
      ++convLeft;
      continue;
    }
    auto type = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
    int64_t n = type.getDimSize(0), k = type.getNumElements() / n;
    ++quantized[describe(spec)];
    ++convQuantized;
    emitRemark(op.getLoc(), "rtn: quantized ")
        << display << " as " << describe(spec);
    replaceConvolutionFilter(op, quantizeRTN(*filter, n, k, spec), spec, "rtn",
                             name, settings.resourceThreshold);
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
  if (convQuantized + convLeft > 0)
    summary << "; convolutions among them: " << convQuantized << " quantized, "
            << convLeft << " left fp32";
}

} // namespace
