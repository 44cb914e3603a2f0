//===- UKernelContraction.cpp - which contractions go to ukernels ---------===//

#include "qopt/Codegen/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"

using namespace mlir;

bool qopt::isUKernelContraction(Operation *op) {
  auto linalgOp = dyn_cast_or_null<linalg::LinalgOp>(op);
  if (!linalgOp || linalgOp.getNumDpsInputs() != 2 ||
      linalgOp.getNumDpsInits() != 1)
    return false;
  for (OpOperand &operand : linalgOp->getOpOperands())
    if (!getElementTypeOrSelf(operand.get().getType()).isF32())
      return false;
  if (!linalg::isaContractionOpInterface(linalgOp))
    return false;
  for (AffineMap map : linalgOp.getIndexingMapsArray())
    if (!map.isProjectedPermutation())
      return false;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(linalgOp);
  if (failed(dims) || dims->k.size() != 1 || dims->n.size() != 1)
    return false;
  // The accumulator must not be broadcast: every parallel dimension indexes
  // the output.
  return linalgOp.getMatchingIndexingMap(linalgOp.getDpsInitOperand(0))
             .getNumResults() == linalgOp.getNumParallelLoops();
}

bool qopt::isUKernelOp(Operation *op) {
  return isUKernelContraction(op) ||
         (op && op->hasAttr(kWeightOnlyGemmAttrName));
}
