//===- RaiseSoftmax.cpp - recognize softmax in generic linalg -------------===//
//
// ONNX Softmax arrives as five linalg ops (max, subtract, exp, sum, divide),
// each a full pass over its tensor. For attention's [B, H, S, S] scores that
// is five passes over a tensor larger than the caches, where one pass per
// row, with the row in L1, does the same work. Recognizing the chain as
// `linalg.softmax` lets `qopt-cpu-lower-to-ukernels` hand it to the runtime's
// row kernel; IREE raises the same pattern for the same reason.
//
//===----------------------------------------------------------------------===//

#include "qopt/Codegen/Common/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_RAISESOFTMAX
#include "qopt/Codegen/Common/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// Whether `map` reads a `[d0, ..., d(n-2)]` or keep-dims `[d0, ..., d(n-2),
/// 0]` tensor in an n-loop nest: the per-row value of a last-dim reduction.
bool isRowMap(AffineMap map) {
  unsigned n = map.getNumDims();
  if (n == 0 || map.getNumSymbols() != 0)
    return false;
  unsigned results = map.getNumResults();
  if (results != n - 1 && results != n)
    return false;
  for (unsigned i = 0; i + 1 < n; ++i)
    if (map.getResult(i) != getAffineDimExpr(i, map.getContext()))
      return false;
  if (results == n) {
    auto zero = dyn_cast<AffineConstantExpr>(map.getResult(n - 1));
    if (!zero || zero.getValue() != 0)
      return false;
  }
  return true;
}

/// The op the body of `op` computes from its block arguments, when the body
/// is that single op followed by its yield.
template <typename OpTy> OpTy getSingleBodyOp(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 2)
    return {};
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto inner = dyn_cast<OpTy>(&body.front());
  if (!inner || yield.getNumOperands() != 1 ||
      yield.getOperand(0) != inner->getResult(0))
    return {};
  return inner;
}

/// Whether `op`'s body applies `OpTy` to its block arguments in this order.
template <typename OpTy>
bool bodyApplies(linalg::GenericOp op, ArrayRef<unsigned> argNumbers) {
  OpTy inner = getSingleBodyOp<OpTy>(op);
  if (!inner || inner->getNumOperands() != argNumbers.size())
    return false;
  for (auto [operand, number] : llvm::zip(inner->getOperands(), argNumbers)) {
    auto arg = dyn_cast<BlockArgument>(operand);
    if (!arg || arg.getOwner() != &op.getRegion().front() ||
        arg.getArgNumber() != number)
      return false;
  }
  return true;
}

/// `value`'s producer when it is an elementwise f32 generic with `numInputs`
/// inputs over all of its loops, the first input read in full (identity
/// map) and the others, if any, per row.
linalg::GenericOp getRowwise(Value value, unsigned numInputs) {
  auto op = value.getDefiningOp<linalg::GenericOp>();
  if (!op || op.getNumDpsInputs() != numInputs || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 0)
    return {};
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!maps[0].isIdentity() || !maps.back().isIdentity())
    return {};
  for (unsigned i = 1; i < numInputs; ++i)
    if (!isRowMap(maps[i]))
      return {};
  return op;
}

/// `value`'s producer when it reduces its one input along the last loop
/// with `OpTy`, starting from `init` (a linalg.fill), into a per-row tensor.
template <typename OpTy>
linalg::GenericOp getRowReduction(Value value, float init) {
  auto op = value.getDefiningOp<linalg::GenericOp>();
  if (!op || op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1)
    return {};
  unsigned n = op.getNumLoops();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned i = 0; i < n; ++i)
    if ((iterators[i] == utils::IteratorType::reduction) != (i + 1 == n))
      return {};
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!maps[0].isIdentity() || !isRowMap(maps[1]))
    return {};
  // Either operand order: out = op(out, in) or op(in, out).
  if (!bodyApplies<OpTy>(op, {1, 0}) && !bodyApplies<OpTy>(op, {0, 1}))
    return {};
  auto fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  FloatAttr value0;
  if (!fill ||
      !matchPattern(fill.getInputs()[0], m_Constant<FloatAttr>(&value0)) ||
      value0.getValueAsDouble() != init)
    return {};
  return op;
}

/// Replaces y = exp(x - max(x)) / sum(exp(x - max(x))) along the last
/// dimension by linalg.softmax. Returns whether it did.
bool raise(linalg::GenericOp div) {
  // div(e, sum) -> e = exp(sub(x, max)), sum = reduce(+, e), max = reduce(x).
  linalg::GenericOp divOp = getRowwise(div.getResult(0), 2);
  if (!divOp || !bodyApplies<arith::DivFOp>(divOp, {0, 1}))
    return false;
  Value e = divOp.getDpsInputs()[0];
  linalg::GenericOp expOp = getRowwise(e, 1);
  if (!expOp || !bodyApplies<math::ExpOp>(expOp, {0}))
    return false;
  linalg::GenericOp sumOp =
      getRowReduction<arith::AddFOp>(divOp.getDpsInputs()[1], 0.0f);
  if (!sumOp || sumOp.getDpsInputs()[0] != e)
    return false;
  linalg::GenericOp subOp = getRowwise(expOp.getDpsInputs()[0], 2);
  if (!subOp || !bodyApplies<arith::SubFOp>(subOp, {0, 1}))
    return false;
  Value x = subOp.getDpsInputs()[0];
  linalg::GenericOp maxOp =
      getRowReduction<arith::MaximumFOp>(subOp.getDpsInputs()[1], -INFINITY);
  if (!maxOp)
    maxOp =
        getRowReduction<arith::MaxNumFOp>(subOp.getDpsInputs()[1], -INFINITY);
  if (!maxOp || maxOp.getDpsInputs()[0] != x)
    return false;
  auto type = dyn_cast<RankedTensorType>(x.getType());
  if (!type || !type.getElementType().isF32() ||
      type != divOp.getResult(0).getType())
    return false;

  OpBuilder b(divOp);
  auto softmax = linalg::SoftmaxOp::create(
      b, divOp.getLoc(), TypeRange{type}, x, divOp.getDpsInits()[0],
      static_cast<uint64_t>(type.getRank() - 1));
  divOp.getResult(0).replaceAllUsesWith(softmax.getResult()[0]);
  // The chain is dead unless something else reads its intermediates.
  for (linalg::GenericOp op : {divOp, sumOp, expOp, subOp, maxOp})
    if (op->use_empty())
      op->erase();
  return true;
}

struct RaiseSoftmaxPass
    : public qopt::impl::RaiseSoftmaxBase<RaiseSoftmaxPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> candidates;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op.getNumDpsInputs() == 2 && getSingleBodyOp<arith::DivFOp>(op))
        candidates.push_back(op);
    });
    for (linalg::GenericOp op : candidates)
      (void)raise(op);
  }
};

} // namespace
