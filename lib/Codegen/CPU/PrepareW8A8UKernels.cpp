//===- PrepareW8A8UKernels.cpp - int8 layers as marked linalg ops ---------===//
//
// The int8 kernels of libqrt (qrt_uk_s8_gemm, qrt_uk_quantize_rows_s8)
// reproduce the reference expansions of qopt.quantized_linear and
// qopt.dynamic_quantize bit for bit. So this pass expands those ops with the
// reference itself and only marks the resulting linalg ops: after
// bufferization qopt-cpu-lower-to-ukernels swaps each marked group for one
// call, and a group it cannot take still computes the reference values as
// loops.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/CPU/Passes.h"

#include "qopt/Dialect/QOpt/IR/QOpt.h"
#include "qopt/Dialect/QOpt/Transforms/Expansions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUPREPAREW8A8UKERNELS
#include "qopt/Codegen/CPU/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// Signed int8 without a zero point: what both sides of the kernels take.
bool isSymmetricS8(SchemeAttr scheme) {
  return !scheme.isFloatStorage() && scheme.isSignedStorage() &&
         scheme.getStorageWidth() == 8 && scheme.getSymmetric();
}

bool isF32Tensor(Value value) {
  return value &&
         cast<RankedTensorType>(value.getType()).getElementType().isF32();
}

/// The op to hand to qrt_uk_s8_gemm, with constant per-tensor weight scales
/// broadcast to per channel (the kernel reads one per column), or null.
QuantizedLinearOp getKernelLinear(IRRewriter &rewriter, QuantizedLinearOp op) {
  SchemeAttr inputScheme = op.getInputScheme();
  SchemeAttr weightScheme = op.getWeightScheme();
  if (!isSymmetricS8(inputScheme) || !isSymmetricS8(weightScheme))
    return {};
  Granularity inputGranularity = inputScheme.getGranularity();
  if (inputGranularity != Granularity::PerToken &&
      inputGranularity != Granularity::PerTensor)
    return {};
  RankedTensorType weightType = op.getWeight().getType();
  if (!weightType.hasStaticShape() ||
      !weightType.getElementType().isInteger(8) ||
      !matchPattern(op.getWeight(), m_Constant()))
    return {};
  if (!isF32Tensor(op.getInputScale()) || !isF32Tensor(op.getWeightScale()) ||
      !op.getType().getElementType().isF32() ||
      (op.getBias() && !isF32Tensor(op.getBias())))
    return {};
  if (weightScheme.getGranularity() == Granularity::PerChannel)
    return op;
  DenseFPElementsAttr scale;
  if (weightScheme.getGranularity() != Granularity::PerTensor ||
      !matchPattern(op.getWeightScale(), m_Constant(&scale)) ||
      !scale.isSplat())
    return {};
  int64_t n = weightType.getDimSize(0);
  rewriter.setInsertionPoint(op);
  Value perChannel = arith::ConstantOp::create(
      rewriter, op.getLoc(),
      DenseElementsAttr::get(RankedTensorType::get({n}, rewriter.getF32Type()),
                             scale.getSplatValue<APFloat>()));
  MLIRContext *ctx = op.getContext();
  auto scheme = SchemeAttr::get(
      ctx, weightScheme.getStorage(), Granularity::PerChannel, /*axis=*/0,
      std::nullopt, /*symmetric=*/true, weightScheme.getNarrowRange());
  return rewriter.replaceOpWithNewOp<QuantizedLinearOp>(
      op, op.getType(), op.getInput(), op.getWeight(), op.getInputScale(),
      Value(), perChannel, Value(), op.getBias(), inputScheme, scheme);
}

/// Whether qrt_uk_quantize_rows_s8 computes `op`.
bool isKernelQuantize(DynamicQuantizeOp op) {
  SchemeAttr scheme = op.getScheme();
  return scheme.getGranularity() == Granularity::PerToken &&
         isSymmetricS8(scheme) &&
         op.getInput().getType().getElementType().isF32();
}

/// A per-tensor int8 dynamic quantization (the input of a W8A8
/// convolution) is a per-token one of the tensor flattened to one row: the
/// same max |x|, scale and values. Rewritten so, it runs on
/// qrt_uk_quantize_rows_s8 instead of a serial reduction over the tensor.
void flattenPerTensorQuantize(IRRewriter &rewriter, DynamicQuantizeOp op) {
  SchemeAttr scheme = op.getScheme();
  RankedTensorType inputType = op.getInput().getType();
  if (scheme.getGranularity() != Granularity::PerTensor ||
      !isSymmetricS8(scheme) || !inputType.getElementType().isF32() ||
      inputType.getRank() < 1)
    return;
  MLIRContext *ctx = op.getContext();
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  int64_t rank = inputType.getRank();
  SmallVector<ReassociationIndices> all(1);
  for (int64_t d = 0; d < rank; ++d)
    all[0].push_back(d);
  Value flat = op.getInput();
  if (rank > 1)
    flat = tensor::CollapseShapeOp::create(rewriter, loc, flat, all);
  auto flatType = cast<RankedTensorType>(flat.getType());
  auto perToken = SchemeAttr::get(
      ctx, scheme.getStorage(), Granularity::PerToken, std::nullopt,
      std::nullopt, scheme.getSymmetric(), scheme.getNarrowRange());
  auto quantize = DynamicQuantizeOp::create(
      rewriter, loc,
      RankedTensorType::get(flatType.getShape(),
                            op.getResult().getType().getElementType()),
      op.getScale().getType(), flat, perToken);
  Value values = quantize.getResult();
  if (rank > 1)
    values = tensor::ExpandShapeOp::create(
        rewriter, loc, op.getResult().getType(), values, all,
        tensor::getMixedSizes(rewriter, loc, op.getInput()));
  rewriter.replaceOp(op, {values, quantize.getScale()});
}

struct CPUPrepareW8A8UKernelsPass
    : public qopt::impl::CPUPrepareW8A8UKernelsBase<
          CPUPrepareW8A8UKernelsPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<DynamicQuantizeOp> perTensor;
    getOperation().walk([&](DynamicQuantizeOp op) { perTensor.push_back(op); });
    for (DynamicQuantizeOp op : perTensor)
      flattenPerTensorQuantize(rewriter, op);
    SmallVector<QuantizedLinearOp> linears;
    SmallVector<DynamicQuantizeOp> quantizes;
    getOperation().walk([&](Operation *op) {
      if (auto linear = dyn_cast<QuantizedLinearOp>(op))
        linears.push_back(linear);
      else if (auto quantize = dyn_cast<DynamicQuantizeOp>(op))
        if (isKernelQuantize(quantize))
          quantizes.push_back(quantize);
    });
    auto mark = [&](Operation *op, StringRef name, StringRef part) {
      op->setAttr(name, rewriter.getStringAttr(part));
    };
    // The zero fill a reduction starts from: marked too, so that it stays a
    // linalg.fill that the lowering can drop with the group.
    auto markInit = [&](linalg::GenericOp op, StringRef name) {
      if (auto fill =
              op.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>())
        mark(fill, name, "init");
    };
    for (QuantizedLinearOp op : linears) {
      QuantizedLinearOp kernel = getKernelLinear(rewriter, op);
      if (!kernel)
        continue;
      QuantizedLinearExpansion expansion =
          expandQuantizedLinear(rewriter, kernel);
      mark(expansion.product, kS8GemmAttrName, "product");
      mark(expansion.rescale, kS8GemmAttrName, "rescale");
      markInit(expansion.product, kS8GemmAttrName);
    }
    for (DynamicQuantizeOp op : quantizes) {
      DynamicQuantizeExpansion expansion = expandDynamicQuantize(rewriter, op);
      mark(expansion.absMax, kS8QuantizeRowsAttrName, "absmax");
      mark(expansion.scales, kS8QuantizeRowsAttrName, "scales");
      mark(expansion.values, kS8QuantizeRowsAttrName, "values");
      markInit(expansion.absMax, kS8QuantizeRowsAttrName);
    }
  }
};

} // namespace
