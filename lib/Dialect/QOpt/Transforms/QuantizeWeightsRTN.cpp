//===- QuantizeWeightsRTN.cpp - round-to-nearest weight-only quantization -===//
//
// The simplest weight quantizer: every constant linear weight is rounded to
// the nearest step of a uniform grid whose scale comes from the weight's own
// range, at compile time. The grid, the packing, the layer selection and the
// rewrite are the shared ones of Utils/WeightQuantization.h (GPTQ uses the
// same), whose arithmetic mirrors qopt-expand-quant-ops.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOpt.h"
#include "qopt/Dialect/QOpt/Transforms/Passes.h"
#include "qopt/Dialect/QOpt/Utils/LinearLayers.h"
#include "qopt/Dialect/QOpt/Utils/WeightQuantization.h"

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
  std::map<std::tuple<const void *, bool, int64_t, int, int64_t, bool>,
           WeightOnlyParameters>
      cache;
};

void QuantizeWeightsRTNPass::runOnOperation() {
  WeightQuantizerSettings settings;
  std::string error;
  if (!settings.parse(bits, symmetric, granularity, groupSize, quantizeHead,
                      overrides, resourceThreshold, error)) {
    // Reported at the root's location: attaching the root op itself would
    // print the whole module.
    emitError(getOperation()->getLoc(), "qopt-quantize-weights-rtn: ") << error;
    return signalPassFailure();
  }

  SmallVector<LinearOp> linears;
  getOperation()->walk([&](LinearOp op) { linears.push_back(op); });

  for (LinearOp op : linears) {
    std::optional<LayerSpec> chosen = settings.select(op);
    if (!chosen)
      continue;
    LayerSpec spec = *chosen;
    StringRef name = getLayerName(op.getLoc());

    int64_t n = op.getNumOutputChannels();
    int64_t k = op.getNumInputChannels();
    std::string reason;
    FailureOr<SmallVector<float>> weight = readLinearWeight(op, reason);
    if (failed(weight)) {
      if (!reason.empty())
        emitWarning(op.getLoc(), "not quantized: ") << reason;
      continue;
    }
    if (failed(fitSpecToLayer(op, spec)))
      continue;

    Attribute weightAttr;
    matchPattern(op.getWeight(), m_Constant(&weightAttr));
    auto key = std::make_tuple(
        weightAttr.getAsOpaquePointer(), op.getTransposeWeight(), spec.bits,
        static_cast<int>(spec.granularity),
        spec.granularity == Granularity::PerGroup ? spec.groupSize : int64_t(0),
        spec.symmetric);
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
}

} // namespace
