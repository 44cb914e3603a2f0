//===- LinearLayers.cpp - which linear layers passes select ---------------===//

#include "qopt/Dialect/QOpt/Utils/LinearLayers.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/DenseSet.h"

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

/// Linear layers in any of their forms (before and after quantization).
static bool isLinearLayer(Operation *op) {
  return isa<LinearOp, WeightOnlyLinearOp, QuantizedLinearOp>(op);
}

/// Ops through which a result still counts as "the model's output": they
/// only move elements, or compute each output element from the elements at
/// the same position (plus broadcast operands).
static bool passesOutputThrough(OpOperand &use) {
  Operation *user = use.getOwner();
  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp,
          linalg::TransposeOp, linalg::BroadcastOp, linalg::SoftmaxOp>(user))
    return true;
  if (isa<tensor::ReshapeOp, tensor::ExtractSliceOp>(user))
    return use.getOperandNumber() == 0;
  if (auto generic = dyn_cast<linalg::GenericOp>(user))
    return generic.getNumLoops() == generic.getNumParallelLoops() &&
           generic.getNumResults() == 1;
  return false;
}

/// True when the result reaches a return through shape-only and
/// elementwise ops (passesOutputThrough).
static bool feedsReturn(LinearOp op) {
  SmallVector<Value> worklist = {op.getResult()};
  DenseSet<Value> seen;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    if (!seen.insert(value).second)
      continue;
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (user->hasTrait<OpTrait::ReturnLike>()) {
        Operation *parent = user->getParentOp();
        if (isa<FunctionOpInterface>(parent))
          return true;
        // A branch's yield: the value goes on as the parent's result.
        if (use.getOperandNumber() < parent->getNumResults())
          worklist.push_back(parent->getResult(use.getOperandNumber()));
        continue;
      }
      if (passesOutputThrough(use))
        worklist.push_back(user->getResult(0));
    }
  }
  return false;
}

/// True when another linear layer uses the result, through any ops (a
/// layer that feeds the residual stream of the next block is not the last).
static bool reachesLinearLayer(LinearOp op) {
  SmallVector<Operation *> worklist = {op};
  DenseSet<Operation *> seen;
  while (!worklist.empty()) {
    Operation *current = worklist.pop_back_val();
    for (Value result : current->getResults())
      for (Operation *user : result.getUsers()) {
        // A use inside a region (an scf.if branch) flows on through the
        // ops that hold it.
        for (Operation *holder = user; holder; holder = holder->getParentOp()) {
          if (isLinearLayer(holder))
            return true;
          if (seen.insert(holder).second)
            worklist.push_back(holder);
          if (isa<FunctionOpInterface>(holder->getParentOp()))
            break;
        }
      }
  }
  return false;
}

bool qopt::isOutputHead(LinearOp op) {
  if (getLayerName(op.getLoc()).contains("lm_head"))
    return true;
  return feedsReturn(op) && !reachesLinearLayer(op);
}
