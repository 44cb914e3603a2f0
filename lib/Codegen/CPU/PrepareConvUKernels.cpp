//===- PrepareConvUKernels.cpp - convolutions overwrite their output ------===//
//
// A convolution accumulates into an output the importer fills with zeros.
// The runtime kernel can write the output directly; dropping the fill saves
// a pass over every convolution output, and the copy bufferization inserts
// when CSE has merged the fills of equal-shaped convolutions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUPREPARECONVUKERNELS
#include "qopt/Codegen/CPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// Whether `value` is a `linalg.fill` of +0.0 (or integer 0) on tensors.
linalg::FillOp getZeroFill(Value value) {
  auto fill = value.getDefiningOp<linalg::FillOp>();
  if (!fill || !fill.hasPureTensorSemantics())
    return {};
  auto constant = fill.getInputs().front().getDefiningOp<arith::ConstantOp>();
  auto zero = constant ? dyn_cast<FloatAttr>(constant.getValue()) : nullptr;
  // The i32 accumulator of an int8 (W8A8) convolution.
  auto intZero =
      constant ? dyn_cast<IntegerAttr>(constant.getValue()) : nullptr;
  if (intZero && intZero.getValue().isZero())
    return fill;
  return zero && zero.getValue().isPosZero() ? fill : linalg::FillOp();
}

struct CPUPrepareConvUKernelsPass
    : public qopt::impl::CPUPrepareConvUKernelsBase<
          CPUPrepareConvUKernelsPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> convs;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op.hasPureTensorSemantics() && qopt::matchUKernelConvolution(op) &&
          getZeroFill(op.getDpsInits()[0]))
        convs.push_back(op);
    });
    for (linalg::GenericOp op : convs) {
      OpOperand &init = op.getDpsInitsMutable()[0];
      linalg::FillOp fill = getZeroFill(init.get());
      OpBuilder b(op);
      Value empty = tensor::EmptyOp::create(
          b, op.getLoc(),
          tensor::getMixedSizes(b, op.getLoc(), fill.getOutputs().front()),
          getElementTypeOrSelf(init.get().getType()));
      init.set(empty);
      op->setAttr(qopt::kConvZeroInitAttrName, b.getUnitAttr());
      if (fill->use_empty()) {
        Operation *fillInit = fill.getOutputs().front().getDefiningOp();
        fill->erase();
        if (isa_and_nonnull<tensor::EmptyOp>(fillInit) && fillInit->use_empty())
          fillInit->erase();
      }
    }
  }
};

} // namespace
