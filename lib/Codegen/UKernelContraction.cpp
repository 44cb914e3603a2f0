//===- UKernelContraction.cpp - which contractions go to ukernels ---------===//

#include "qopt/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"

using namespace mlir;

/// Whether the body of `op` is exactly `out + a * b` (in either operand
/// order) and nothing else. The kernel computes that and ignores the body, but
/// upstream's contraction check looks through any unary op around each operand
/// and the result (`out + exp(a) * b`, `-(out + a * b)`), which the kernel
/// would silently drop.
static bool isPlainMulAddBody(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  if (!body || body->getNumArguments() != 3 ||
      body->getOperations().size() != 3)
    return false;
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getNumOperands() == 1
                 ? yield.getOperand(0).getDefiningOp<arith::AddFOp>()
                 : arith::AddFOp();
  if (!add)
    return false;
  BlockArgument a = body->getArgument(0), b = body->getArgument(1),
                out = body->getArgument(2);
  auto isPair = [](Value lhs, Value rhs, Value x, Value y) {
    return (lhs == x && rhs == y) || (lhs == y && rhs == x);
  };
  Value product = add.getLhs() == out ? add.getRhs() : add.getLhs();
  auto mul = product.getDefiningOp<arith::MulFOp>();
  return mul && isPair(add.getLhs(), add.getRhs(), out, mul) &&
         isPair(mul.getLhs(), mul.getRhs(), a, b);
}

bool qopt::isUKernelContraction(Operation *op) {
  auto linalgOp = dyn_cast_or_null<linalg::LinalgOp>(op);
  if (!linalgOp || linalgOp.getNumDpsInputs() != 2 ||
      linalgOp.getNumDpsInits() != 1)
    return false;
  for (OpOperand &operand : linalgOp->getOpOperands())
    if (!getElementTypeOrSelf(operand.get().getType()).isF32())
      return false;
  if (!linalg::isaContractionOpInterface(linalgOp) ||
      !isPlainMulAddBody(linalgOp))
    return false;
  for (AffineMap map : linalgOp.getIndexingMapsArray())
    if (!map.isProjectedPermutation())
      return false;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(linalgOp);
  if (failed(dims) || dims->k.size() != 1 || dims->n.size() != 1)
    return false;
  // The lowering loops over batch and m dimensions and hands m, n and k to
  // the kernel; a loop of no such kind (a reduction only A reads, a parallel
  // dimension only C has) would be dropped, not summed or broadcast over.
  if (dims->batch.size() + dims->m.size() + dims->n.size() + dims->k.size() !=
      linalgOp.getNumLoops())
    return false;
  // The accumulator must not be broadcast: every parallel dimension indexes
  // the output.
  return linalgOp.getMatchingIndexingMap(linalgOp.getDpsInitOperand(0))
             .getNumResults() == linalgOp.getNumParallelLoops();
}

bool qopt::isUKernelOp(Operation *op) {
  return isUKernelContraction(op) ||
         (op && (op->hasAttr(kWeightOnlyGemmAttrName) ||
                 op->hasAttr(kS8GemmAttrName) ||
                 op->hasAttr(kS8QuantizeRowsAttrName)));
}
