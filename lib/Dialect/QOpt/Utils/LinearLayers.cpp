//===- LinearLayers.cpp - which linear layers passes select ---------------===//

#include "qopt/Dialect/QOpt/Utils/LinearLayers.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::qopt;

StringRef qopt::getLayerName(Location loc) {
  StringRef name;
  loc->walk([&](Location nested) {
    if (auto nameLoc = dyn_cast<NameLoc>(nested)) {
      name = nameLoc.getName().strref();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name;
}

/// True when the result reaches a return only through reshapes.
static bool feedsReturn(LinearOp op) {
  SmallVector<Value> worklist = {op.getResult()};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (user->hasTrait<OpTrait::ReturnLike>())
        return true;
      if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp>(
              user) ||
          (isa<tensor::ReshapeOp>(user) && use.getOperandNumber() == 0))
        worklist.push_back(user->getResult(0));
    }
  }
  return false;
}

bool qopt::isOutputHead(LinearOp op) {
  return getLayerName(op.getLoc()).contains("lm_head") || feedsReturn(op);
}
